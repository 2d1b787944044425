#!/usr/bin/perl
# Postgres restarts while a stage runs: the worker keeps the command running,
# reconnects (main, listen and log connections) with backoff, reports the
# stage, keeps the lines printed while the database was away, and carries
# on with the next stages.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep);
use SP::Stack;

my @stages = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/record";
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { (map { ($_ => [$bin, 'ok']) } @stages), sync_test => [$bin, 'ok', '4'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 10,
                env => ["WORKER_TEST_RECORD=$rec"] },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_for(sub { -e $rec && `cat $rec` =~ /run sync_test/ }, 20, 'sync_test to start');

$s->stop_postgres;
sleep 2;
$s->start_postgres;
$s->wait_state($id, 'awaiting_continue', 30);
pass('the deployment got past the restart to the continue prompt');
is($s->sql(q{select count(*) as n from spiderpig.events where deployment_id=$1
             and action='rollback_started'}, $id)->[0]{n}, 0, 'nothing was rolled back');
my $lines = $s->wait_for(sub {
    my $r = $s->sql(q{select line from spiderpig.log_lines where deployment_id=$1 order by seq}, $id);
    (grep { $_->{line} eq 'done smoke_test' } @$r) ? $r : undef;
}, 10, 'the log lines');
ok((grep { $_->{line} eq 'done sync_test' } @$lines), 'the line printed while the database was down is stored');
my @seq = @{ $s->sql(q{select seq from spiderpig.log_lines where deployment_id=$1 order by seq}, $id) };
is_deeply([map { $_->{seq} } @seq], [1 .. scalar @seq], 'seq has no gaps');
done_testing;
