#!/usr/bin/perl
# A stage command that ignores SIGTERM and forks children, grandchildren and
# a great-grandchild (all ignoring SIGTERM too): when its stage times out,
# and when a rollback is requested while it runs, the worker kills the
# whole process group (SIGTERM, then SIGKILL 5 s later) and no process of
# it survives; the deployment is rolled back.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use SP::Fault qw(alive answer_prompt drive_to_end enqueue_offered open_prompt);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tree = SP::Stack->repo . '/t/bin/fault-tree.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { (map { ($_ => [$stage, 'ok']) } @STAGES),
                sync_test_rollback => [$stage, 'ok'],
                merge => [$tree], merge_timeout => 2,
                sync_canary => [$tree], sync_canary_timeout => 120 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["FAULT_DIR=$tmp"] },
);

# The live processes of process group pgid.
# The process group of pid.
sub pgid_of {
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return undef;
    my $st = <$fh> // return undef;
    return $st =~ /^\d+ \(.*\) \S \d+ (\d+) / ? $1 : undef;
}

sub group {
    my ($pgid) = @_;
    my @pids;
    for my $f (glob '/proc/[0-9]*/stat') {
        open(my $fh, '<', $f) or next;
        my $st = <$fh> // next;
        push @pids, $1 if $st =~ /^(\d+) \(.*\) ([^Z]) \d+ (\d+) / && $3 == $pgid;
    }
    return @pids;
}

sub arm { open(my $fh, '>', "$tmp/tree-$_[0]") or die $!; close $fh }
sub disarm { unlink "$tmp/tree-$_[0]" }

sub tree_up {
    my ($id, $st) = @_;
    my $f = "$tmp/tree-$id-$st";
    my $pid = $s->wait_for(sub { -s $f && `cat $f` =~ /^(\d+)$/ ? $1 : undef }, 30, "the tree of $st");
    my $pgid = pgid_of($pid) // die "no process $pid\n";
    my @pids = $s->wait_for(sub { my @p = group($pgid); @p >= 6 ? \@p : undef }, 10,
        "the six processes of $st");
    return ($pgid, @{ $pids[0] });
}

sub gone {
    my ($name, $pgid, @pids) = @_;
    my $t0 = time;
    my $ok = eval { $s->wait_for(sub { !group($pgid) }, 30, "the group of $name to be gone") };
    ok($ok, sprintf('%s: no process of the group survives (%d processes, gone after %.1f s)',
        $name, scalar @pids, time - $t0)) or diag("left: @{[group($pgid)]}");
    ok(!(grep { alive($_) } @pids), "$name: none of @pids runs");
}

{
    arm('merge');
    my $id = enqueue_offered($s);
    answer_prompt($s, $id, 'ready');
    my ($pgid, @pids) = tree_up($id, 'merge');
    pass("merge runs as group $pgid: @pids");
    my $final = drive_to_end($s, $id, limit_s => 60);
    is($final, 'rolled_back', 'timeout: the deployment was rolled back');
    like($s->sql('select rollback_reason from spiderpig.deployments where id = $1', $id)->[0]{rollback_reason},
        qr/merge failed: timed out after 2 s/, 'timeout: the reason is the timeout');
    gone('timeout', $pgid, @pids);
    disarm('merge');
}

{
    arm('sync_canary');
    my $id = enqueue_offered($s);
    $s->wait_for(sub {
        return 1 if -e "$tmp/tree-$id-sync_canary";
        my $p = open_prompt($s, $id);
        answer_prompt($s, $id, $p->{kind}) if $p;
        0;
    }, 30, 'sync_canary to start');
    my ($pgid, @pids) = tree_up($id, 'sync_canary');
    $s->sql('select spiderpig.request_rollback($1, $2, $3)', 'root', $id, 'the canaries look bad');
    my $final = drive_to_end($s, $id, limit_s => 60);
    is($final, 'rolled_back', 'rollback request: the deployment was rolled back');
    gone('rollback request', $pgid, @pids);
}
done_testing;
