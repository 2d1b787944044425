#!/usr/bin/perl
# A stage past its timeout: the worker kills its whole process group
# (SIGTERM, then SIGKILL 5 s later for what ignores SIGTERM), grandchildren
# included, and the stage fails with "timed out after N s". Nobody answers
# the failure prompt: its default (roll back) applies after 1 s.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time);
use SP::Stack;

my $tree = SP::Stack->repo . '/t/bin/worker-tree.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/pids";
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { merge => [$tree], merge_timeout => 2 },
    settings => { failure_timeout => '1 second' },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                env => ["WORKER_TEST_RECORD=$rec"] },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
my $pids = $s->wait_for(sub { -s $rec && `cat $rec` =~ /^(\d+) (\d+) (\d+)$/ ? [$1, $2, $3] : undef },
    20, 'the stage to start its grandchildren');
my $t0 = time;

sub alive {
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return 0;
    my $st = <$fh> // '';
    return $st !~ /^\d+ \(.*\) Z/;    # a zombie is dead
}
ok(alive($_), "process $_ runs") for @$pids;

$s->wait_state($id, 'awaiting_ack', 20);
my $ev = $s->sql(q{select details from spiderpig.events where deployment_id=$1
                   and action='stage_finished'}, $id)->[0];
like($ev->{details}, qr/"detail": "timed out after 2 s"/, 'the stage failed with "timed out after 2 s"');
$s->wait_for(sub { !grep { alive($_) } @$pids }, 10, 'the process group to be gone');
my $took = time - $t0;
pass(sprintf('the stage, its child and the TERM-ignoring grandchild are gone %.1f s after start', $took));
cmp_ok($took, '>=', 2 + 4.5, 'the TERM-ignoring grandchild lasted until the SIGKILL');
my @sys = map { $_->{line} } @{ $s->sql(q{select line from spiderpig.log_lines where deployment_id=$1
    and stream='system' order by seq}, $id) };
ok((grep { /^timed out after 2 s: sending SIGTERM/ } @sys), 'the timeout is logged');
ok((grep { $_ eq 'timed out' } @sys), '"timed out" is logged');
done_testing;
