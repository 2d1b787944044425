#!/usr/bin/perl
# The worker runs every stage of a deployment whose prompts are answered
# yes/yes/finish, ending in done, with log lines (system and the command's
# own stdout and stderr) for each stage, in order.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my @stages = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(
    nginx => 0,
    stages => { map { ($_ => [$bin, 'ok']) } @stages },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345', '678'])})->[0]{id};

my $answer = sub {
    my ($kind, $ans) = @_;
    my $p = $s->wait_for(sub {
        $s->sql(q{select id from spiderpig.prompts where deployment_id=$1
                  and kind=$2 and answered_at is null}, $id, $kind)->[0];
    }, 20, "the $kind prompt");
    $s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, $ans);
};
$answer->(ready => 'yes');
$s->wait_state($id, 'awaiting_continue', 30);
$answer->(continue => 'yes');
$s->wait_state($id, 'awaiting_finish', 30);
$answer->(finish => 'finish');
$s->wait_state($id, 'done', 10);
pass('the deployment is done');

my $lines = $s->wait_for(sub {
    my $r = $s->sql(q{select seq, stream, line from spiderpig.log_lines
                      where deployment_id=$1 order by seq}, $id);
    (grep { $_->{line} =~ /^done sync_production/ } @$r) ? $r : undef;
}, 10, 'the last stage\'s output in log_lines');
my @seq = map { $_->{seq} } @$lines;
is_deeply(\@seq, [1 .. scalar @seq], 'seq runs 1..n without gaps');
for my $st (@stages) {
    ok((grep { $_->{stream} eq 'system' && $_->{line} =~ /^starting stage $st: \S+worker-stage\.sh ok$/ } @$lines),
        "system line: starting stage $st");
    ok((grep { $_->{stream} eq 'stdout' && $_->{line} eq "stage $st action run deployment $id patches 12345 678 requester alice" } @$lines),
        "stdout of $st, with its environment");
    ok((grep { $_->{stream} eq 'stderr' && $_->{line} eq "to stderr: $st" } @$lines),
        "stderr of $st");
}
is(scalar(grep { $_->{stream} eq 'system' && $_->{line} eq 'exit status 0' } @$lines), 6,
    'six "exit status 0" lines');
my @order = map { $_->{line} =~ /^starting stage (\w+)/ ? $1 : () } @$lines;
is_deeply(\@order, \@stages, 'stages ran in order');
my $ev = $s->sql(q{select count(*) as n from spiderpig.events where deployment_id=$1
                   and action='stage_finished' and (details->>'ok')::boolean}, $id)->[0]{n};
is($ev, 6, 'six stage_finished events, all ok');
done_testing;
