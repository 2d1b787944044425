#!/usr/bin/perl
# On the demo fleet (1 test server, 2 canaries, 4 production servers, mtail,
# Prometheus, steady traffic): a good change goes through every stage with
# the built-in smoke test and the canary judge, their verdicts in its log;
# a bad change (its number ends in 666: the canaries answer 500 three times
# as often) fails the canary judge and, nobody answering the failure prompt
# (here after 3 s), is rolled back automatically with the reason in the
# log; the canaries serve the good release again.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Deploy qw(enqueue answer wait_any log_of);

my $s = SP::Stack->new(workers => 1, fleet => 1, settings => { failure_timeout => '3 seconds' });
my $tok = $s->user('alice', 'deployer');

sub serves {
    my ($server) = @_;
    my $r = $s->api(GET => '/', url => 'http://127.0.0.1:' . $s->port("fleet_$server") . '/');
    return $r->{body} =~ m{<h1>release (\w+)</h1>} ? $1 : "(status $r->{status})";
}

my $good = enqueue($s, $tok, '12345');
answer($s, $tok, $good, 'yes');
$s->wait_state($good, 'awaiting_continue', 60);
answer($s, $tok, $good, 'yes');
my $st = wait_any($s, $good, qr/^(awaiting_finish|awaiting_ack|rolled_back|rollback_failed)$/, 120);
is($st, 'awaiting_finish', 'the good change passed the canary judge');
answer($s, $tok, $good, 'finish');
$s->wait_state($good, 'done', 20);
my $log = log_of($s, $good, qr/canary: verdict/);
like($log, qr/smoke: PASS GET http:\/\/demo\.spiderpig\.test\/ on 127\.0\.0\.1:\d+: 200/, 'smoke test results in the log');
like($log, qr/smoke tests: 3 of 3 passed/, 'the smoke verdict in the log');
like($log, qr/canary: sequential judge at [\d.]+ s of 60 s: canary \d+ errors in \d+ requests/, "the canary judge's looks in the log");
like($log, qr/canary: verdict pass: canary check passed after \d+ s/, 'the canary verdict in the log');
is(serves($_), $good, "$_ serves the good release") for qw(test1 canary1 canary2 prod1 prod4);

my $bad = enqueue($s, $tok, '1666');
answer($s, $tok, $bad, 'yes');
$s->wait_state($bad, 'awaiting_continue', 60);
answer($s, $tok, $bad, 'yes');
$st = wait_any($s, $bad, qr/^(awaiting_finish|awaiting_failure)$/, 120);
is($st, 'awaiting_failure', 'the canary judge failed the bad change');
$st = wait_any($s, $bad, qr/^(awaiting_ack|rolled_back|rollback_failed)$/, 60);
is($st, 'awaiting_ack', 'rolled back without anyone answering');
$log = log_of($s, $bad, qr/rollback (done|FAILED)/);
like($log, qr/canary: verdict fail: canary check failed after \d+ s: (?:canary error rate [\d.]+x the others'|\d+ canary errors \(.*\) while the others had none)/,
    'the verdict and its numbers in the log');
my $why = $s->sql('select rollback_reason from spiderpig.deployments where id = $1', $bad)->[0]{rollback_reason} // '';
like($why, qr/^canary_check failed: canary check failed after \d+ s: (?:canary error rate|\d+ canary errors) .*\(the failure prompt timed out\)$/, "the reason: $why");
is(serves($_), $good, "$_ is back on the good release") for qw(canary1 canary2 test1);
is(serves('prod2'), $good, 'production never saw the bad release');
my $n = $s->sql('select count(*) as n from spiderpig.canary_samples where deployment_id = $1', $bad)->[0]{n};
cmp_ok($n, '>=', 1, "$n samples for the chart");
done_testing;
