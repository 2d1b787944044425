#!/usr/bin/perl
# POST /api/v1/deployments queues the patches: 201, Location, the row with
# its position, and the next submission lands behind it.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');

my $r = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['12345', 'https://gerrit.example.org/r/c/mediawiki/core/+/67890'] });
is $r->{status}, 201, '201 Created' or diag $r->{body};
my $d = $r->{json};
ok $d->{id} && $d->{id} =~ /^\d+$/, 'numeric id';
is $r->{headers}{location}, "/api/v1/deployments/$d->{id}", 'Location names it';
is $d->{state}, 'queued', 'queued';
is $d->{position}, 1, 'first in the queue';
is $d->{requester}, 'alice', 'requester from the token, not the body';
is_deeply $d->{patches}, ['12345', 'https://gerrit.example.org/r/c/mediawiki/core/+/67890'],
    'patches as sent';
like $d->{created_at}, qr/^\d{4}-\d\d-\d\dT/, 'created_at is ISO 8601';
like $r->{headers}{'content-type'}, qr{^application/json}, 'JSON';
is $r->{headers}{'cache-control'}, 'no-store', 'not cached';

my $r2 = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['222'] });
is $r2->{status}, 201, 'second enqueue';
is $r2->{json}{position}, 2, 'behind the first';

done_testing;
