#!/usr/bin/perl
# A stage printing 200k lines as fast as it can finishes, and every line lands
# in log_lines in order; lines matching the [worker] mask are sensitive.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use SP::Stack;

my $N = 200_000;
my $flood = SP::Stack->repo . '/t/bin/worker-flood.sh';
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { merge => [$flood, "$N"], merge_timeout => 120 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 3,
                mask => ['(password|secret|token)[=:]', '^never$'] },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
my $t0 = time;
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_for(sub {
    $s->sql(q{select 1 from spiderpig.events where deployment_id=$1 and action='stage_finished'}, $id)->[0];
}, 60, 'merge to finish');
my $ev = $s->sql(q{select details->>'ok' as ok, details->>'seconds' as secs from spiderpig.events
                   where deployment_id=$1 and action='stage_finished'}, $id)->[0];
is($ev->{ok}, 'true', "the stage finished ok in $ev->{secs} s");
$s->wait_for(sub {
    $s->sql(q{select count(*) as n from spiderpig.log_lines where deployment_id=$1 and stream='stdout'
              and line like 'line %'}, $id)->[0]{n} == $N;
}, 30, "$N stdout lines in log_lines");
diag(sprintf('all lines stored %.1f s after the answer', time - $t0));

my $rows = $s->dbh->selectall_arrayref(q{select seq, line, sensitive from spiderpig.log_lines
    where deployment_id=$1 and stream='stdout' and line like 'line %' order by seq}, undef, $id);
is(scalar @$rows, $N, "$N lines");
my ($order_bad, $mask_bad, $gap) = (0, 0, 0);
for my $i (1 .. $N) {
    my ($seq, $line, $sens) = @{ $rows->[$i - 1] };
    my $want = $i % 1000 ? "line $i of the flood" : "line $i token=s3cr3t";
    $order_bad++ if $line ne $want;
    $mask_bad++ if ($sens ? 1 : 0) != ($i % 1000 ? 0 : 1);
    $gap++ if $i > 1 && $seq != $rows->[$i - 2][0] + 1;
}
is($order_bad, 0, 'every line is there, in order');
is($gap, 0, 'stdout lines have consecutive seq (nothing interleaved)');
is($mask_bad, 0, 'exactly the token= lines are sensitive');
# (The next stages run demo/stage: merge's lines are the ones starting "line ".)
is($s->sql(q{select count(*) as n from spiderpig.log_lines where deployment_id=$1 and sensitive}, $id)->[0]{n},
    $N / 1000, 'no other line is sensitive');
done_testing;
