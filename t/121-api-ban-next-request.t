#!/usr/bin/perl
# Tokens are checked on every request: after an admin bans a user (or
# revokes a token) through the API, the very next request is refused.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $adm = $s->user('ada', 'admin');
my $tok = $s->user('mallory', 'deployer');
my $tok2 = $s->token('mallory');

is $s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, 'before: 200';
my $tid = $s->sql(q{select max(id) as id from spiderpig.api_tokens where username = 'mallory'})->[0]{id};
my $rv = $s->api(DELETE => "/api/v1/admin/tokens/$tid", token => $adm);
is $rv->{status}, 200, 'admin revokes one token' or diag $rv->{body};
is $s->api(GET => '/api/v1/queue', token => $tok2)->{status}, 401, 'that token: 401 at once';
is $s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, 'the other still works';

my $b = $s->api(POST => '/api/v1/admin/users/mallory/ban', token => $adm,
    json => { reason => 'testing bans' });
is $b->{status}, 200, 'admin bans' or diag $b->{body};
is $s->api(GET => '/api/v1/queue', token => $tok)->{status}, 401, 'banned: 401 at once';

is $s->api(POST => '/api/v1/admin/users/mallory/unban', token => $adm)->{status}, 200, 'unban';
is $s->api(GET => '/api/v1/queue', token => $tok)->{status}, 401,
    'tokens revoked by the ban stay revoked';
is $s->api(POST => '/api/v1/admin/users/nobody/ban', token => $adm,
    json => { reason => 'x' })->{status}, 404, 'unknown user: 404';

done_testing;
