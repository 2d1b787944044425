#!/usr/bin/perl
# GET /api/v1/deployments lists newest first, pages with before=, filters
# by state and validates its parameters.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, settings => { max_queued_per_user => 5 });
my $tok = $s->user('alice', 'deployer');
my @ids = map { $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ["$_"] })->{json}{id} } 101 .. 105;
$s->api(POST => "/api/v1/deployments/$ids[0]/cancel", token => $tok);

my $all = $s->api(GET => '/api/v1/deployments', token => $tok);
is $all->{status}, 200, 'answers 200';
is_deeply [map { $_->{id} } @{ $all->{json}{deployments} }], [reverse @ids], 'newest first';
is $all->{json}{next_before}, undef, 'no next page';

my $p1 = $s->api(GET => '/api/v1/deployments?limit=2', token => $tok)->{json};
is_deeply [map { $_->{id} } @{ $p1->{deployments} }], [@ids[4, 3]], 'limit=2';
my $p2 = $s->api(GET => "/api/v1/deployments?limit=2&before=$p1->{next_before}", token => $tok)->{json};
is_deeply [map { $_->{id} } @{ $p2->{deployments} }], [@ids[2, 1]], 'next page';

my $c = $s->api(GET => '/api/v1/deployments?state=cancelled', token => $tok)->{json};
is_deeply [map { $_->{id} } @{ $c->{deployments} }], [$ids[0]], 'state=cancelled';

for my $q ('limit=0', 'limit=201', 'limit=x', 'before=-1', 'state=bogus', 'state=queued&state=done',
           'sort=id', 'limit=%zz') {
    my $r = $s->api(GET => "/api/v1/deployments?$q", token => $tok);
    is $r->{status}, 400, "$q: 400";
}
is $s->api(GET => '/api/v1/deployments?state=bogus', token => $tok)->{json}{field}, 'state',
    'names the field';

done_testing;
