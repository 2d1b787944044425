#!/usr/bin/perl
# The failure prompt through the API: a deployer answering "ignore" gets a
# 403 problem+json saying only an admin may; an admin's "ignore" goes on
# with the next stage; the GET shows the prompt with its four choices.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(
    stages => { merge => [$bin, 'ok'], sync_test => [$bin, 'fail'], smoke_test => [$bin, 'ok'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
);
my $alice = $s->user('alice', 'deployer');
my $admin = $s->user('ada', 'admin');
my $r = $s->api(POST => '/api/v1/deployments', token => $alice, json => { patches => ['4242'] });
my $id = $r->{json}{id};
my $prompt = sub {
    my ($kind) = @_;
    $s->wait_for(sub {
        my $p = $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
        $p && $p->{kind} eq $kind ? $p : undef;
    }, 30, "the $kind prompt");
};
my $answer = sub {
    my ($tok, $p, $ans) = @_;
    $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok, json => { prompt => 0 + $p->{id}, answer => $ans });
};
is($answer->($alice, $prompt->('ready'), 'yes')->{status}, 200, 'ready');
$s->wait_state($id, 'awaiting_failure', 30);
my $p = $prompt->('failure');
my $get = $s->api(GET => "/api/v1/deployments/$id", token => $alice);
is($get->{json}{state}, 'awaiting_failure', 'GET shows awaiting_failure');
is($get->{json}{failed_stage}, 'sync_test', 'and the failed stage');
like($get->{json}{failure_detail} // '', qr/^exit status 1$/, 'and why');
is_deeply($get->{json}{prompt}{choices}, [qw(retry ignore rollback exit)], 'and the prompt with its choices');

$r = $answer->($alice, $p, 'ignore');
is($r->{status}, 403, 'a deployer answering ignore: 403');
like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, 'problem+json');
like($r->{json}{detail} // '', qr/only an admin may ignore a failed stage; alice may retry, roll back or exit/, 'saying who may do what');
is($s->sql('select state from spiderpig.deployments where id=$1', $id)->[0]{state}, 'awaiting_failure', 'nothing changed');

$r = $answer->($admin, $p, 'ignore');
is($r->{status}, 200, 'an admin may ignore') or diag $r->{body};
$s->wait_state($id, 'awaiting_continue', 30);
pass('the pipeline went on past the failed stage');
my $ev = $s->sql(q{select actor, details->>'answer' as a from spiderpig.events where deployment_id=$1 and action='answer' order by id desc limit 1}, $id)->[0];
is_deeply([$ev->{actor}, $ev->{a}], ['ada', 'ignore'], 'the audit trail says who ignored it');
done_testing;
