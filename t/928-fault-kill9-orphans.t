#!/usr/bin/perl
# kill -9 of the worker while a stage that ignores SIGTERM runs with
# children of its own. The death signal (PR_SET_PDEATHSIG, SIGTERM) reaches
# only the stage's first process, so the group outlives its worker and runs
# on while the next worker rolls the deployment back. Known gap (TODO): the
# deployment still ends rolled back, but the group is not killed.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;
use SP::Fault qw(alive answer_prompt drive_to_end enqueue_offered);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tree = SP::Stack->repo . '/t/bin/fault-tree.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { (map { ($_ => [$stage, 'ok']) } @STAGES), merge => [$tree], merge_timeout => 120 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["FAULT_DIR=$tmp"] },
);
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
open(my $fh, '>', "$tmp/tree-merge") or die $!;
close $fh;
my $id = enqueue_offered($s);
answer_prompt($s, $id, 'ready');
my $pgid = $s->wait_for(sub { -s "$tmp/tree-$id-merge" && `cat $tmp/tree-$id-merge` =~ /^(\d+)$/ ? $1 : undef },
    30, 'the tree of merge');
$s->wait_for(sub { group($pgid) >= 6 }, 10, 'the six processes of merge');
unlink "$tmp/tree-merge";
my ($old) = $s->worker_pids;
$s->signal_worker($old, 'KILL');
$s->start_worker;
is(drive_to_end($s, $id, limit_s => 60), 'rolled_back', 'the deployment is rolled back');
TODO: {
    local $TODO = 'the worker\'s death signal reaches only the first process of the stage';
    my $gone = eval { $s->wait_for(sub { !group($pgid) }, 10, 'the group to be gone') };
    ok($gone, 'no process of the killed worker\'s stage survives');
}
# Clean up what the gap leaves behind (our own test's processes only).
kill 'KILL', -$pgid if group($pgid);
done_testing;
