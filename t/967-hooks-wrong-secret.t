#!/usr/bin/perl
# The secret: the signature is real (a receiver that holds another secret
# finds that no request verifies, and refuses them, while the same requests
# verify with the sender's secret; changing one byte of a body breaks it),
# and the sender refuses to start with a secret others may read.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;
use File::Temp qw(tempdir);

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 100,
    backoff_max_ms => 1000, max_attempts => 2 });
my $secret = $s->hooks_secret;
my $r = SP::Hooks->new(secret => "not-$secret", port => $port);

$s->sql(q{select spiderpig.freeze('root', 'signed?')});
$s->wait_for(sub {
    $s->sql(q{select status from spiderpig.hook_deliveries})->[0]{status} eq 'failed'
}, 30, 'the row to be given up');
my $req = $r->requests;
is(scalar @$req, 2, 'two attempts');
ok(!(grep { $_->{valid} } @$req), 'none verifies with the wrong secret');
is($req->[0]{status}, 401, 'the receiver refused them');
ok(!(grep { !SP::Hooks::verify($secret, $_->{timestamp}, $_->{body}, $_->{signature}) } @$req),
    'each verifies with the right one');
(my $tampered = $req->[0]{body}) =~ s/signed\?/signed!/;
ok(!SP::Hooks::verify($secret, $req->[0]{timestamp}, $tampered, $req->[0]{signature}),
    'a changed body does not');
ok(!SP::Hooks::verify($secret, $req->[0]{timestamp} + 1, $req->[0]{body}, $req->[0]{signature}),
    'nor a changed timestamp');
like($s->sql(q{select last_error from spiderpig.hook_deliveries})->[0]{last_error},
    qr/HTTP status 401/, 'the row keeps the receiver\'s answer');

# A secret file, or a config holding the secret, that its group may read.
my $dir = tempdir('spiderpig-hooks-cfg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $user = $> == 0 ? 'spiderpig-hooks' : undef;
my $write = sub {
    my ($name, $text, $mode) = @_;
    open(my $fh, '>', "$dir/$name") or die "$dir/$name: $!";
    print $fh $text;
    close $fh;
    chown scalar(getpwnam($user)), scalar(getgrnam($user)), "$dir/$name" if $user;
    chmod $mode, "$dir/$name";
};
my $start = sub {
    my @as = $user ? ('setpriv', "--reuid=$user", "--regid=$user", '--init-groups', '--') : ();
    my $out = qx{@as '@{[ $s->repo ]}/build/spiderpig-hooks' -c '$dir/hooks.ini' 2>&1};
    return ($? >> 8, $out);
};
$write->('hooks.secret', "$secret\n", 0640);
$write->('hooks.ini', "[database]\nhooks = dbname=none\n[hooks]\nurl = https://h.example\n"
    . "secret_file = $dir/hooks.secret\n", 0640);
my ($rc, $out) = $start->();
is($rc, 2, 'a secret file its group may read: the sender refuses to start');
like($out, qr/must not be readable by its group or others/, 'and says why');
$write->('hooks.ini', "[database]\nhooks = dbname=none\n[hooks]\nurl = https://h.example\n"
    . "secret = $secret\n", 0640);
($rc, $out) = $start->();
is($rc, 2, 'the secret inline in a config its group may read: refused too');
like($out, qr/hooks\.ini: holds the webhook secret/, 'naming the config');
done_testing;
