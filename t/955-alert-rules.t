#!/usr/bin/perl
# The example alert rules (prometheus/spiderpig-alerts.yml) are valid for
# promtool, and its unit tests show each alert firing on the series that
# should raise it: a stale worker heartbeat (also when no worker ever ran:
# the age is then +Inf), a deployment stuck in a stage, the app's own error
# rate.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

plan skip_all => 'promtool is not installed (Debian package prometheus)'
    unless -x '/usr/bin/promtool';

my $dir = SP::Stack->repo . '/prometheus';
my $out = qx{cd '$dir' && promtool check rules spiderpig-alerts.yml 2>&1};
is($?, 0, 'promtool check rules accepts them') or diag($out);
like($out, qr/SUCCESS: 4 rules found/, 'all four rules');
$out = qx{cd '$dir' && promtool test rules spiderpig-alerts.test.yml 2>&1};
is($?, 0, 'promtool test rules passes') or diag($out);
for my $a (qw(SpiderpigWorkerHeartbeatStale SpiderpigDeploymentStuckInStage SpiderpigAppErrorRate)) {
    like(slurp("$dir/spiderpig-alerts.test.yml"), qr/alertname: $a\n\s+exp_alerts:\n\s+- exp_labels/,
        "$a is shown firing");
}
like(slurp("$dir/spiderpig-alerts.test.yml"),
    qr/values: '\+Inf[^']*'\n(?:.*\n)*?\s+alertname: SpiderpigWorkerHeartbeatStale\n\s+exp_alerts:\n\s+- exp_labels:(?:.*\n)*?\s+summary: "no spiderpig worker has ever sent a heartbeat"/,
    'the heartbeat alert is shown firing when no worker ever ran (+Inf)');
done_testing;

sub slurp { open(my $fh, '<', $_[0]) or die "$_[0]: $!"; local $/; <$fh> }
