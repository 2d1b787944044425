#!/usr/bin/perl
# A real browser (Debian's Chromium, driven by playwright-core from
# t/browser/) logs in through the real test provider (npm oidc-provider,
# idp/), enrols TOTP (a wrong code first: refused), lands on the dashboard
# and submits a deployment, which it then sees in the queue with its
# position. The browser steps and
# their TAP are in t/browser/login_deploy.js; this wrapper starts the stack,
# prepares the queue, relays the TAP and checks the database afterwards.
# On failure the screenshot and HTML stay in the folder named by the diag.
# Skipped only when /usr/bin/chromium is absent (Debian package chromium).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use SP::Stack;

my $CHROMIUM = $ENV{SP_CHROMIUM} // '/usr/bin/chromium';
plan skip_all => "$CHROMIUM is absent (install the Debian package chromium)" unless -x $CHROMIUM;
my $node = `command -v node 2>/dev/null`;
chomp $node;
ok($node, 'node is installed') or do { done_testing; exit 1 };
ok(-f 't/browser/node_modules/playwright-core/package.json',
    'playwright-core is installed (cd t/browser && npm ci)') or do { done_testing; exit 1 };

my $s = SP::Stack->new(workers => 0, oidc => 1);

# Someone else's queue first, so that alice's deployment has neither id 1 nor
# position 1: three of bob's, the first cancelled -> alice's is id 4 at
# position 3 (with no worker, nothing leaves the queue).
$s->user('bob', 'deployer');
my @bob = map { $s->sql('select (spiderpig.enqueue($1, $2)).id', 'bob', [$_])->[0]{id} }
    qw(22222 44444 66666);
$s->sql('select spiderpig.cancel($1, $2)', 'bob', $bob[0]);
my $PATCH = '56789';
my $POSITION = 3;

my $out = tempdir('spiderpig-browser-XXXXXX', DIR => $ENV{SP_TMPDIR} // '/tmp');
my @cmd = ('timeout', '-k', '5', '170', $node, 't/browser/login_deploy.js',
    '--base', $s->base_url, '--issuer', $s->oidc_issuer, '--out', $out,
    '--user', 'alice', '--patch', $PATCH, '--position', $POSITION, '--timeout', 150);
note("@cmd");
open(my $fh, '-|', @cmd) or die "run node: $!";
my $n = 0;
while (my $line = <$fh>) {
    chomp $line;
    if ($line =~ /^(not )?ok \d+ - (.*)$/) { ok(!$1, "browser: $2"); $n++ }
    elsif ($line =~ /^1\.\./) { }
    elsif ($line =~ /^# ?(.*)$/) { diag($1) }
    else { diag($line) }
}
close $fh;
my $rc = $? >> 8;
is($rc, 0, 'login_deploy.js exit status');
ok($n >= 14, "the browser run got through its steps ($n checks)");

my $d = $s->sql(q{select requester, patches, state, position from spiderpig.deployments
    where requester = 'alice'});
is_deeply($d, [{ requester => 'alice', patches => [$PATCH], state => 'queued', position => $POSITION }],
    "alice's deployment is queued at position $POSITION");
my $sess = $s->sql(q{select aal, revoked_at is not null as revoked, revoked_by from spiderpig.sessions
    where username = 'alice' order by id});
is_deeply([ map { "aal$_->{aal}:" . ($_->{revoked} ? "revoked by $_->{revoked_by}" : 'live') } @$sess ],
    ['aal1:revoked by upgrade', 'aal2:live'],
    'the AAL1 session was replaced by a new AAL2 one');

if (Test::More->builder->is_passing) {
    remove_tree($out);
} else {
    diag("browser artifacts kept in $out");
}
done_testing;
