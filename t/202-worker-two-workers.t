#!/usr/bin/perl
# Two workers against one database, many deployments: every stage of every
# deployment runs exactly once (the stage command appends to a file), and
# every deployment ends done.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;

my $N = 8;
my @stages = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/record";
my $s = SP::Stack->new(
    nginx => 0, workers => 2,
    stages => { map { ($_ => [$bin, 'ok']) } @stages },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["WORKER_TEST_RECORD=$rec"] },
    settings => { max_queued_per_user => $N },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my @ids = map {
    $s->sql(q{select id from spiderpig.enqueue('alice', array[$1::text])}, 1000 + $_)->[0]{id}
} 1 .. $N;

my %answer = (ready => 'yes', continue => 'yes', finish => 'finish');
$s->wait_for(sub {
    for my $p (@{ $s->sql(q{select p.id, p.deployment_id, p.kind from spiderpig.prompts p
                            where answered_at is null}) }) {
        $s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice',
            $p->{deployment_id}, $p->{id}, $answer{ $p->{kind} });
    }
    $s->sql(q{select count(*) as n from spiderpig.deployments where state = 'done'})->[0]{n} == $N;
}, 120, "$N deployments to be done");
pass("all $N deployments are done");

open(my $fh, '<', $rec) or die "$rec: $!";
chomp(my @ran = <$fh>);
close $fh;
my %count;
$count{$_}++ for @ran;
is(scalar @ran, 6 * $N, 'six stage runs per deployment');
my @twice = grep { $count{$_} > 1 } sort keys %count;
is_deeply(\@twice, [], 'no stage ran twice');
for my $id (@ids) {
    is_deeply([grep { /^$id / } @ran], [map { "$id run $_" } @stages],
        "deployment $id: each stage once, in order");
}
my $w = $s->sql(q{select count(distinct details->>'worker') as n from spiderpig.events
                  where action = 'stage_started'})->[0]{n};
diag("stages were run by $w distinct workers");
is($s->sql(q{select count(*) as n from spiderpig.events where action = 'stage_finished'
             and not (details->>'ok')::boolean})->[0]{n}, 0, 'no stage failed');
done_testing;
