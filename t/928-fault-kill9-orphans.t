#!/usr/bin/perl
# kill -9 of the worker while a stage that ignores SIGTERM runs with
# children of its own. The stage's process group must not outlive its
# worker and run on while the next worker rolls the deployment back: the
# guard process (run.c) in its group gets a death signal from the kernel
# and kills the whole group. The deployment ends rolled back and no
# process of the group survives.
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
open(my $fh, '>', "$tmp/tree-merge") or die $!;
close $fh;
my $id = enqueue_offered($s);
answer_prompt($s, $id, 'ready');
my $pid = $s->wait_for(sub { -s "$tmp/tree-$id-merge" && `cat $tmp/tree-$id-merge` =~ /^(\d+)$/ ? $1 : undef },
    30, 'the tree of merge');
my $pgid = pgid_of($pid) // die "no process $pid\n";
$s->wait_for(sub { group($pgid) >= 6 }, 10, 'the six processes of merge');
unlink "$tmp/tree-merge";
my ($old) = $s->worker_pids;
$s->signal_worker($old, 'KILL');
$s->start_worker;
is(drive_to_end($s, $id, limit_s => 60), 'rolled_back', 'the deployment is rolled back');
my $gone = eval { $s->wait_for(sub { !group($pgid) }, 10, 'the group to be gone') };
ok($gone, 'no process of the killed worker\'s stage survives') or diag("left: @{[group($pgid)]}");
# Whatever a failure leaves behind (our own test's processes only).
kill 'KILL', -$pgid if group($pgid);
done_testing;
