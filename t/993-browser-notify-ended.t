#!/usr/bin/perl
# "Your deployment ended": with notifications allowed, a requester whose
# deployment page and dashboard are open in headless Chromium
# (t/browser/notify.js) gets a browser notification naming the deployment
# and how it ended once it is cancelled, from both pages, without a
# reload; another user's deployment ending notifies nobody. Skipped only
# without Chromium.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use IPC::Open2 qw(open2);
use SP::Stack;

my $CHROMIUM = $ENV{SP_CHROMIUM} // '/usr/bin/chromium';
plan skip_all => "$CHROMIUM is absent (install the Debian package chromium)" unless -x $CHROMIUM;
my $node = `command -v node 2>/dev/null`;
chomp $node;
ok($node, 'node is installed') or do { done_testing; exit 1 };
ok(-f 't/browser/node_modules/playwright-core/package.json',
    'playwright-core is installed (npm ci --prefix t/browser)') or do { done_testing; exit 1 };

my $s = SP::Stack->new(workers => 0, stream => 1);
$s->user($_) for qw(alice bob);
my $other = $s->sql(q{select (spiderpig.enqueue('bob', array['11111'])).id as id})->[0]{id};
my $mine = $s->sql(q{select (spiderpig.enqueue('alice', array['22222'])).id as id})->[0]{id};
my $session = $s->sql(q{select spiderpig.create_session('alice') as t})->[0]{t};

my @cmd = ('timeout', '-k', '5', '120', $node, 't/browser/notify.js', '--base', $s->base_url,
    '--session', $session, '--user', 'alice', '--mine', $mine, '--other', $other);
my $pid = open2(my $out, my $in, @cmd);
my $n = 0;
while (my $line = <$out>) {
    chomp $line;
    if ($line eq 'READY') {
        $s->sql(q{select spiderpig.cancel('bob', $1)}, $other);
        $s->sql(q{select spiderpig.cancel('alice', $1)}, $mine);
        print $in "GO\n";
        $in->flush;
    } elsif ($line =~ /^(not )?ok \d+ - (.*)$/) { ok(!$1, "browser: $2"); $n++ }
    elsif ($line =~ /^1\.\./) { }
    elsif ($line =~ /^# ?(.*)$/) { diag($1) }
    else { diag($line) }
}
waitpid($pid, 0);
is($? >> 8, 0, 'notify.js exit status');
is($n, 9, 'the browser run got through its checks');
is($s->sql('select state from spiderpig.deployments where id = $1', $mine)->[0]{state},
    'cancelled', "alice's deployment was cancelled");
done_testing;
