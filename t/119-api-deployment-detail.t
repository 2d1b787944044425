#!/usr/bin/perl
# GET /api/v1/deployments/{id}: the row, the open prompt, the six stages
# and the events.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');
my $id = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['31337'] })->{json}{id};

my $g = $s->api(GET => "/api/v1/deployments/$id", token => $tok);
is $g->{status}, 200, 'answers 200';
my $d = $g->{json};
is $d->{id}, $id, 'id';
is $d->{prompt}, undef, 'no prompt while queued';
is_deeply [map { $_->{name} } @{ $d->{stages} }],
    [qw(merge sync_test smoke_test sync_canary canary_check sync_production)], 'six stages in order';
is_deeply [map { $_->{status} } @{ $d->{stages} }], [('pending') x 6], 'all pending';
is_deeply [map { $_->{action} } @{ $d->{events} }], ['enqueued'], 'one event';

$s->sql('select spiderpig.offer_next()');
$d = $s->api(GET => "/api/v1/deployments/$id", token => $tok)->{json};
is $d->{state}, 'awaiting_ready', 'offered';
is $d->{prompt}{kind}, 'ready', 'the ready prompt';
is_deeply $d->{prompt}{choices}, ['yes', 'no'], 'its choices';
like $d->{prompt}{expires_at}, qr/^\d{4}-/, 'its expiry';

is $s->api(GET => '/api/v1/deployments/99999', token => $tok)->{status}, 404, 'unknown id: 404';

done_testing;
