#!/usr/bin/perl
# kill -9 of the worker at every stage, during a rollback and at every
# prompt, one deployment per case on one stack (lease 3 s). A replacement
# worker is started at once, as a supervisor would. Each deployment must end
# correctly: a stage cut short is rolled back without being run again (or,
# where a failure prompt exists, asks and is rolled back), a rollback cut
# short is run again to its end, a prompt stays open and the deployment goes
# on once answered. Never two active deployments, never stuck, and every
# log line committed before the kill is still there, once, with seq 1..n.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use SP::Fault qw(open_prompt answer_prompt drive_to_end log_rows check_log enqueue_offered);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my @SYNC = qw(sync_test sync_canary sync_production);
my $bin = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { (map { ($_ => [$bin, 'ok']) } @STAGES),
                (map { ("${_}_rollback" => [$bin, 'ok']) } @SYNC) },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["FAULT_DIR=$tmp"] },
);
my $two = 0;

sub record { open(my $fh, '<', "$tmp/record") or return (); chomp(my @l = <$fh>); @l }
sub ran { my ($id) = @_; grep { /^$id / } record() }
sub hold { my ($what) = @_; open(my $fh, '>', "$tmp/hold-$what") or die $!; close $fh }
sub release { unlink "$tmp/hold-$_[0]" }

# Answer prompts until $cond holds (30 s at most).
sub advance_until {
    my ($id, $cond, $what) = @_;
    $s->wait_for(sub {
        return 1 if $cond->();
        my $p = open_prompt($s, $id);
        answer_prompt($s, $id, $p->{kind}) if $p;
        0;
    }, 30, "deployment $id: $what");
}

# kill -9 the worker and start another; returns the killed pid.
sub kill_worker {
    my ($old) = $s->worker_pids;
    $s->signal_worker($old, 'KILL');
    $s->start_worker;
    return $old;
}

# The line a stage prints first, once it is committed.
sub committed {
    my ($id, $action, $stage) = @_;
    $s->wait_for(sub {
        $s->sql(q{select 1 from spiderpig.log_lines where deployment_id = $1 and line = $2},
            $id, "begin $action $stage deployment $id")->[0];
    }, 20, "the first line of $action $stage");
}

sub end_checks {
    my ($id, $name, $final, $want, $before) = @_;
    is($final, $want, "$name: the deployment ended $want");
    my @bad = check_log($s, $id, $before);
    ok(!@bad, "$name: the committed log lines are intact, seq 1..n")
        or diag(join("\n", @bad));
    ok(!$s->sql(q{select 1 from spiderpig.deployments where id = $1 and worker_id is not null}, $id)->[0],
        "$name: no worker holds it");
}

for my $i (0 .. $#STAGES) {
    my $stage = $STAGES[$i];
    my $name = "kill at stage $stage";
    my $t0 = time;
    my $id = enqueue_offered($s);
    hold("$stage-run");
    advance_until($id, sub { grep { $_ eq "$id run $stage" } ran($id) }, "$stage to start");
    committed($id, 'run', $stage);
    my $before = log_rows($s, $id);
    kill_worker();
    release("$stage-run");
    my $final = eval { drive_to_end($s, $id, two => \$two, limit_s => 60) } // "error: $@";
    end_checks($id, $name, $final, 'rolled_back', $before);
    my $d = $s->sql('select rollback_reason from spiderpig.deployments where id = $1', $id)->[0];
    like($d->{rollback_reason}, qr/interrupted|$stage/, "$name: the reason names the interruption");
    my @touched = grep { my $x = $_; grep { $_ eq $x } @STAGES[0 .. $i] } @SYNC;
    is_deeply([ran($id)],
        [(map { "$id run $_" } @STAGES[0 .. $i]), (map { "$id rollback $_" } reverse @touched)],
        "$name: the stage was not run again; its sync stages were rolled back, newest first");
    diag(sprintf('%s: %.1f s', $name, time - $t0));
}

{
    my $name = 'kill during the rollback of sync_canary';
    my $id = enqueue_offered($s);
    advance_until($id, sub { my $p = open_prompt($s, $id); $p && $p->{kind} eq 'finish' },
        'the finish prompt');
    hold('sync_canary-rollback');
    answer_prompt($s, $id, 'finish', 'rollback');
    $s->wait_for(sub { grep { $_ eq "$id rollback sync_canary" } ran($id) }, 20,
        'the rollback of sync_canary to start');
    committed($id, 'rollback', 'sync_canary');
    my $before = log_rows($s, $id);
    kill_worker();
    release('sync_canary-rollback');
    my $final = eval { drive_to_end($s, $id, two => \$two, limit_s => 60) } // "error: $@";
    end_checks($id, $name, $final, 'rolled_back', $before);
    my @r = ran($id);
    is_deeply([@r[-3 .. -1]], [map { "$id rollback $_" } qw(sync_production sync_canary sync_test)],
        "$name: the new worker ran the whole rollback again, newest first");
}

for my $kind (qw(ready continue finish ack)) {
    my $name = "kill at the $kind prompt";
    my $id = enqueue_offered($s);
    my %no = $kind eq 'ack' ? (continue => 'no') : ();
    $s->wait_for(sub {
        my $p = open_prompt($s, $id) or return 0;
        return 1 if $p->{kind} eq $kind;
        answer_prompt($s, $id, $p->{kind}, $no{ $p->{kind} });
        0;
    }, 30, "deployment $id: the $kind prompt");
    my $before = log_rows($s, $id);
    kill_worker();
    sleep 1;
    my $p = open_prompt($s, $id);
    is($p && $p->{kind}, $kind, "$name: the prompt is still open after the kill");
    my $final = eval { drive_to_end($s, $id, two => \$two, limit_s => 60) } // "error: $@";
    end_checks($id, $name, $final, $kind eq 'ack' ? 'rolled_back' : 'done', $before);
}

is($two, 0, 'never two active deployments');
done_testing;
