#!/usr/bin/perl
# A real OpenID Provider (npm oidc-provider 8 on loopback, idp/) serves a
# discovery document and JWKS that lib/oidc_jwt.c accepts: exact issuer, S256
# PKCE, the RFC 9207 iss flag, and both signing keys.
use strict; use warnings;
use Test::More;
use HTTP::Tiny;
use File::Temp qw(tempdir);
use IO::Select;
use POSIX qw(WNOHANG);

my $node = `command -v node 2>/dev/null`;
chomp $node;
plan skip_all => 'node is not installed' unless $node;
ok(-d 'idp/node_modules/oidc-provider',
   'idp/node_modules present (run: npm ci --prefix idp)')
    or BAIL_OUT('oidc-provider not installed: npm ci --prefix idp');

my $check = 'build/t/oidc_discovery_check';
ok(-x $check, "$check is built") or BAIL_OUT('run make build first');

$ENV{OIDC_CLIENT_SECRET} = 'test-secret-' . $$;
$ENV{OIDC_REDIRECT_URIS} = 'http://127.0.0.1:9/callback';
$ENV{OIDC_MAX_LIFETIME} = 120;
# fork/exec rather than open '-|': closing a piped-open handle waits for the
# child, which would happen (and hang) before the END block could kill it.
pipe(my $out, my $wr) or die "pipe: $!";
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    close $out;
    open(STDOUT, '>&', $wr) or die "dup: $!";
    exec($node, 'idp/provider.js', '0') or die "exec node: $!";
}
close $wr;
END {
    local $?;
    if ($pid) {
        kill 'TERM', $pid;
        for (1 .. 50) { last if waitpid($pid, WNOHANG) != 0; select(undef, undef, undef, 0.1) }
        kill('KILL', $pid) if waitpid($pid, WNOHANG) == 0;
    }
}

my $ready = IO::Select->new($out)->can_read(30) ? scalar <$out> : undef;
my ($issuer) = ($ready // '') =~ m{^READY (http://127\.0\.0\.1:\d+)$};
ok($issuer, 'provider reports READY with a loopback issuer')
    or BAIL_OUT('provider did not start: ' . ($ready // 'timeout'));

my $http = HTTP::Tiny->new(timeout => 10);
my $dir = tempdir(CLEANUP => 1);
my %doc;
for (['discovery', "$issuer/.well-known/openid-configuration"],
     ['jwks', "$issuer/jwks"]) {
    my ($name, $url) = @$_;
    my $r = $http->get($url);
    is($r->{status}, 200, "GET $url");
    open(my $fh, '>', "$dir/$name.json") or die $!;
    print $fh $r->{content};
    close $fh;
    $doc{$name} = $r->{content};
}
like($doc{discovery}, qr/"S256"/, 'provider advertises S256');

my @tap = `$check $issuer $dir/discovery.json $dir/jwks.json 2>&1`;
my $rc = $?;
for (@tap) {
    chomp;
    if (/^(not )?ok \d+ - (.*)$/) { ok(!$1, "C: $2") }
    elsif (/^#/ || /^1\.\./) { note $_ }
    else { diag $_ }
}
is($rc, 0, 'oidc_discovery_check exit status');
done_testing();
