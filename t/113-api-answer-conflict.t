#!/usr/bin/perl
# State conflicts answer 409: a prompt answered twice, and cancelling a
# deployment that is already running.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');

my $d = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['4242'] })->{json};
# What a worker does first: offer the head of the queue.
$s->sql('select spiderpig.offer_next()');
my $g = $s->api(GET => "/api/v1/deployments/$d->{id}", token => $tok);
is $g->{json}{state}, 'awaiting_ready', 'offered';
my $p = $g->{json}{prompt};
ok $p && $p->{id}, 'an open prompt' or diag $g->{body};
is $p->{kind}, 'ready', 'the ready prompt';

my $bad = $s->api(POST => "/api/v1/deployments/$d->{id}/answer", token => $tok,
    json => { prompt => $p->{id}, answer => 'maybe' });
is $bad->{status}, 400, 'an answer not among the choices: 400';
is $bad->{json}{field}, 'answer', 'field answer';

my $a1 = $s->api(POST => "/api/v1/deployments/$d->{id}/answer", token => $tok,
    json => { prompt => $p->{id}, answer => 'yes' });
is $a1->{status}, 200, 'first answer: 200' or diag $a1->{body};
is $a1->{json}{state}, 'merging', 'now merging';

my $a2 = $s->api(POST => "/api/v1/deployments/$d->{id}/answer", token => $tok,
    json => { prompt => $p->{id}, answer => 'yes' });
is $a2->{status}, 409, 'second answer: 409';
like $a2->{headers}{'content-type'}, qr{^application/problem\+json}, 'problem+json';
is $a2->{json}{field}, 'prompt', 'names the prompt field';
like $a2->{json}{detail}, qr/already closed/, 'says why';

my $c = $s->api(POST => "/api/v1/deployments/$d->{id}/cancel", token => $tok);
is $c->{status}, 409, 'cancel while merging: 409';
like $c->{json}{detail}, qr/merging/, 'says the state';

is $s->sql('select state from spiderpig.deployments where id = $1', $d->{id})->[0]{state},
    'merging', 'state unchanged';

done_testing;
