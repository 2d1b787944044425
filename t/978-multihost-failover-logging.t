#!/usr/bin/perl
# Failover while a stage runs and keeps printing (a line every 50 ms).
# The standby is synchronous: a commit the worker saw succeed is on it, so
# "nothing lost" can be asked of every line, including those committed in
# the last moment before the primary died. The primary is stopped at once
# (immediate) and, two seconds later, the standby promoted: the worker's log
# writer holds the lines printed meanwhile and stores them on the new
# primary, the stage ends as passed (no rollback: the worker kept its
# lease through the heartbeats after the failover), and the deployment
# runs to done. Every tick the stage printed is stored once, in order, seq
# 1..n, and no line was given up on.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep);
use SP::MultiHost;
use SP::Fault qw(answer_prompt log_rows check_log);

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $ticks = SP::Stack->repo . '/t/bin/ticks-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $m = SP::MultiHost->new(hosts => 2, standby => 'sync', stack => {
    stages => { (map { ($_ => [$stage, 'ok']) } @STAGES), sync_canary => [$ticks] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 30,
                env => ["FAULT_DIR=$tmp"] },
});
my $s = $m->stack;
my $tok = $s->user('alice', 'deployer');
open(my $fh, '>', "$tmp/hold-ticks") or die $!;
close $fh;

my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'a deployment queued through nginx') or diag($r->{body});
my $id = $r->{json}{id};
answer_prompt($s, $id, 'ready');
answer_prompt($s, $id, 'continue');
my $ticks_now = sub {
    $s->sql(q{select count(*) as n from spiderpig.log_lines where deployment_id = $1
        and line like 'tick %'}, $id)->[0]{n};
};
$s->wait_for(sub { $ticks_now->() >= 20 }, 60, '20 ticks of sync_canary stored');
my $before = log_rows($s, $id);
my $lsn = $m->wal_insert_lsn;
$s->wait_for(sub { $m->caught_up($lsn) }, 30, 'the standby to replay what we read');

$m->promote(gap_s => 2);    # immediate stop, 2 s without a primary, promote
pass('primary stopped (immediate), standby promoted while the stage logs');
my $after = $ticks_now->();
$s->wait_for(sub { $ticks_now->() >= $after + 20 }, 60, '20 more ticks stored on the new primary');
pass('ticks are stored on the new primary');
unlink "$tmp/hold-ticks";

answer_prompt($s, $id, 'finish');
$s->wait_state($id, 'done', 60);
pass('the deployment ran to done');
ok(!$s->sql(q{select 1 from spiderpig.events where deployment_id = $1 and action = 'rollback_started'}, $id)->[0],
    'nothing was rolled back');
my @problems = check_log($s, $id, $before);
ok(!@problems, 'every line committed before the failover is there, seq 1..n') or diag(join "\n", @problems);
my @lines = map { $_->[2] } @{ log_rows($s, $id) };
my ($done) = map { /^ticks done (\d+)$/ ? $1 : () } @lines;
ok($done, "the stage printed $done ticks and ended");
my @got = map { /^tick (\d+)$/ ? $1 : () } @lines;
is_deeply(\@got, [1 .. ($done // 0)], 'every tick is stored once, in order');
for my $i (1 .. $m->hosts) {
    my $log = $s->dir . "/log/worker-$i.log";
    ok(!`grep -E 'log writer: (dropped|database unreachable)' $log`, "worker $i gave up on no line");
}
ok($m->alive('worker', $_), "worker $_ is alive") for 1 .. $m->hosts;
done_testing;
