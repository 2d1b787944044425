#!/usr/bin/perl
# spiderpig.metrics() counts what happened: a deployment that runs its
# stages adds stage runs with their outcome and seconds, one rolled back
# counts as a rollback, the queue and the open prompts are what they are,
# and a non-admin gets SP403.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql walk_stages open_prompt);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $metrics = sub { $s->sql(q{select spiderpig.metrics('root') as m})->[0]{m} };
my $value = sub {
    my ($text, $series) = @_;
    return $text =~ /^\Q$series\E ([^\s]+)$/m ? $1 : undef;
};
my $answer = sub {
    $s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $_[0], open_prompt($s, $_[0])->{id}, $_[1]);
};

my $d1 = $s->sql(q{select * from spiderpig.enqueue('alice', array['1'])})->[0]{id};
my $d2 = $s->sql(q{select * from spiderpig.enqueue('alice', array['2'])})->[0]{id};
$s->sql('select spiderpig.offer_next()');
my $m = $metrics->();
is($value->($m, 'spiderpig_queue_length'), 1, 'one deployment queued behind the offered one');
is($value->($m, 'spiderpig_prompts_waiting'), 1, 'the ready prompt waits');
is($value->($m, 'spiderpig_worker_heartbeat_age_seconds'), '+Inf',
    'no worker ever ran: +Inf, older than any threshold');

# d1: through the test stages, "no" at continue, rolled back.
$answer->($d1, 'yes');
walk_stages($s, $d1, 'w1');
$m = $metrics->();
like($m, qr/^spiderpig_active_state_age_seconds\{state="awaiting_continue"\} [\d.e+-]+$/m,
    'the active deployment is at the continue prompt');
$answer->($d1, 'no');
walk_stages($s, $d1, 'w1');
$answer->($d1, 'ack');
is($s->sql('select state from spiderpig.deployments where id=$1', $d1)->[0]{state}, 'rolled_back', 'd1 rolled back');

# d2: the canary check fails once, then is retried and passes.
$s->sql('select spiderpig.offer_next()');
$answer->($d2, 'yes');
walk_stages($s, $d2, 'w1');
$answer->($d2, 'yes');
is(walk_stages($s, $d2, 'w1', 'canary_check'), 'awaiting_failure', 'd2 fails its canary check');
$answer->($d2, 'retry');
walk_stages($s, $d2, 'w1');
$answer->($d2, 'finish');

$m = $metrics->();
is($value->($m, 'spiderpig_deployments_finished_total{state="rolled_back"}'), 1, 'one rollback');
is($value->($m, 'spiderpig_deployments_finished_total{state="done"}'), 1, 'one done');
is($value->($m, 'spiderpig_stage_runs_total{stage="merge",outcome="ok"}'), 2, 'two merges ran');
is($value->($m, 'spiderpig_stage_runs_total{stage="canary_check",outcome="failed"}'), 1,
    'the failed canary verdict');
is($value->($m, 'spiderpig_stage_runs_total{stage="canary_check",outcome="ok"}'), 1,
    'and the passing one');
cmp_ok($value->($m, 'spiderpig_stage_seconds_total{stage="merge",outcome="ok"}'), '>=', 0,
    'with the seconds they took');
is($value->($m, 'spiderpig_queue_length'), 0, 'the queue is empty');
is($value->($m, 'spiderpig_prompts_waiting'), 0, 'nothing waits');
is($value->($m, 'spiderpig_active_deployment_age_seconds'), 0, 'nothing is active');

my (undef, $err) = try_sql($s, q{select spiderpig.metrics('alice')});
like($err, qr/^SP403/, 'a deployer gets SP403');
done_testing;
