#!/usr/bin/perl
# Under supervision (SPIDERPIG_SUPERVISE=1, as `make run` always is) a worker
# killed with kill -9 in the middle of a stage is started again by its
# supervisor; the new worker claims the deployment once the lease has run
# out and rolls it back. /api/v1/readyz answers 503 naming the reason while
# no worker heartbeat is fresh (the worker stopped with SIGSTOP), and 200
# again once it is.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use SP::Fault qw(alive open_prompt answer_prompt drive_to_end log_rows check_log enqueue_offered);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $bin = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $s = SP::Stack->new(
    workers => 0,
    env => { SPIDERPIG_SUPERVISE => 1 },
    stages => { map { ($_ => [$bin, 'ok']) } @STAGES },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["FAULT_DIR=$tmp"] },
    settings => { worker_stale_after => '3 seconds' },
);
$s->stack('start', 'worker');

sub worker_pid {
    open(my $fh, '<', $s->dir . '/run/worker.pid') or return undef;
    chomp(my $pid = <$fh> // '');
    return $pid =~ /^\d+$/ && alive($pid) ? $pid : undef;
}
sub readyz { $s->api(GET => '/api/v1/readyz') }

my $r = $s->wait_for(sub { my $r = readyz(); $r->{status} == 200 ? $r : undef }, 20,
    'readyz 200 with a supervised worker');
is($r->{status}, 200, 'readyz: 200 while the worker\'s heartbeat is fresh');

my $id = enqueue_offered($s);
open(my $fh, '>', "$tmp/hold-merge-run") or die $!;
close $fh;
answer_prompt($s, $id, 'ready');
$s->wait_for(sub { -e "$tmp/record" && `cat $tmp/record` =~ /^$id run merge$/m }, 20, 'merge to start');
$s->wait_for(sub {
    $s->sql(q{select 1 from spiderpig.log_lines where deployment_id = $1 and line like 'begin run merge%'}, $id)->[0];
}, 20, 'the first line of merge');
my $before = log_rows($s, $id);

my $old = worker_pid() // die "no worker pid";
kill 'KILL', $old;
my $t0 = time;
unlink "$tmp/hold-merge-run";
my $new = $s->wait_for(sub { my $p = worker_pid(); $p && $p != $old ? $p : undef }, 20,
    'the supervisor to start a new worker');
my $restarted = time - $t0;
pass(sprintf('the supervisor started worker %d %.1f s after the kill of %d', $new, $restarted, $old));
my $claim = $s->wait_for(sub {
    $s->sql(q{select at from spiderpig.events where deployment_id = $1 and action = 'claimed'
              and details->>'worker' like $2}, $id, "%/$new/%")->[0];
}, 30, 'the new worker to claim the deployment');
my $claimed = time - $t0;
cmp_ok($claimed, '<', 3 + 15, sprintf('it claimed the deployment %.1f s after the kill (lease 3 s)', $claimed));
my $final = drive_to_end($s, $id, limit_s => 60);
is($final, 'rolled_back', 'and rolled the interrupted merge back');
like($s->sql('select rollback_reason from spiderpig.deployments where id = $1', $id)->[0]{rollback_reason},
    qr/interrupted/, 'the reason says merge was interrupted');
my @bad = check_log($s, $id, $before);
ok(!@bad, 'the committed log lines are intact') or diag(join "\n", @bad);
like(`cat ${\$s->dir}/log/supervise.log`, qr/worker .* exited with status 137; restarting/,
    'the supervisor says why it restarted the worker');

# No fresh heartbeat: the worker is stopped, not dead, so nothing restarts it.
kill 'STOP', $new;
my $down = $s->wait_for(sub { my $r = readyz(); $r->{status} == 503 ? $r : undef }, 20,
    'readyz 503 while the worker is stopped');
is($down->{status}, 503, 'readyz: 503 while no worker heartbeat is fresh');
like($down->{json}{detail} // '', qr/no worker heartbeat for \d+ s/, "it names the reason: $down->{json}{detail}");
ok($down->{headers}{'retry-after'}, 'with Retry-After');
is($s->api(GET => '/api/v1/healthz')->{status}, 200, 'healthz still answers 200');
kill 'CONT', $new;
$r = $s->wait_for(sub { my $r = readyz(); $r->{status} == 200 ? $r : undef }, 20,
    'readyz 200 once the worker runs again');
is($r->{status}, 200, 'readyz: 200 again once the heartbeat is fresh');
is(worker_pid(), $new, 'the same worker (a stopped worker is not restarted)');
done_testing;
