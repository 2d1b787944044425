#!/usr/bin/perl
# The reads' new options and the actions' one definition, seen from the API:
# history filters by user and date, the queue pages with a cursor, the
# second-factor reset has its API route, and freeze's "until" has the
# bounds the admin page's form has (the same table row).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP ();
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $alice = $s->user('alice', 'deployer');
my $bob   = $s->user('bob', 'deployer');
my $adm   = $s->user('ada', 'admin');
my @a = map { $s->api(POST => '/api/v1/deployments', token => $alice,
    json => { patches => ["$_"] })->{json}{id} } 201 .. 203;
my @b = map { $s->api(POST => '/api/v1/deployments', token => $bob,
    json => { patches => ["$_"] })->{json}{id} } 301 .. 302;

# History: by user, by date range, with the keyset cursor.
my $h = $s->api(GET => '/api/v1/deployments?user=bob', token => $alice)->{json};
is_deeply [map { $_->{id} } @{ $h->{deployments} }], [reverse @b], 'user=bob: his, newest first';
my $p = $s->api(GET => '/api/v1/deployments?user=alice&limit=2', token => $alice)->{json};
is_deeply [map { $_->{id} } @{ $p->{deployments} }], [@a[2, 1]], 'user=alice&limit=2';
$p = $s->api(GET => "/api/v1/deployments?user=alice&limit=2&before=$p->{next_before}", token => $alice)->{json};
is_deeply [map { $_->{id} } @{ $p->{deployments} }], [$a[0]], 'and the next page';
is $s->api(GET => '/api/v1/deployments?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z',
    token => $alice)->{json}{deployments}[0], undef, 'a date range with nothing in it';
is scalar @{ $s->api(GET => '/api/v1/deployments?since=2000-01-01T00:00:00Z',
    token => $alice)->{json}{deployments} }, 5, 'since a date: all five';
for my $q ('user=-x', 'since=yesterday', 'until=2000-01-01') {
    is $s->api(GET => "/api/v1/deployments?$q", token => $alice)->{status}, 400, "$q: 400";
}

# The queue: a page and a cursor.
my $q1 = $s->api(GET => '/api/v1/queue?limit=2', token => $alice)->{json};
is_deeply [map { $_->{position} } @{ $q1->{queued} }], [1, 2], 'queue limit=2: positions 1 and 2';
is $q1->{next_after}, 2, 'next_after 2';
my $q2 = $s->api(GET => "/api/v1/queue?limit=2&after=$q1->{next_after}", token => $alice)->{json};
is_deeply [map { $_->{position} } @{ $q2->{queued} }], [3, 4], 'the next page';
my $q3 = $s->api(GET => '/api/v1/queue?after=4', token => $alice)->{json};
is_deeply [map { $_->{position} } @{ $q3->{queued} }], [5], 'the last page';
is $q3->{next_after}, undef, 'without a cursor';
is $s->api(GET => '/api/v1/queue?limit=501', token => $alice)->{status}, 400, 'limit=501: 400';

# totp-reset over the API: the SQL function's refusals come through.
my $r = $s->api(POST => '/api/v1/admin/users/alice/totp-reset', token => $adm);
is $r->{status}, 404, 'alice has no second factor: 404';
$s->sql(q{select spiderpig.totp_begin_enrolment('alice', decode(repeat('00', 60), 'hex'))});
$r = $s->api(POST => '/api/v1/admin/users/alice/totp-reset', token => $adm);
is $r->{status}, 200, 'totp-reset: 200';
is_deeply $r->{json}, { name => 'alice', totp_reset => JSON::PP::true() }, 'names her';
is $s->api(POST => '/api/v1/admin/users/alice/totp-reset', token => $alice)->{status}, 403,
    'a deployer may not';
is $s->api(POST => '/api/v1/admin/users/alice/totp-reset', token => $adm,
    json => { name => 'bob' })->{json}{field}, 'name', 'the path names the user, not the body';

# freeze: until is an RFC 3339 time of 20 to 40 characters, here as on the page.
$r = $s->api(POST => '/api/v1/admin/freeze', token => $adm,
    json => { reason => 'x', until => '2099-01-01' });
is $r->{status}, 400, 'until without a time: 400';
is $r->{json}{field}, 'until', 'names until';
$r = $s->api(POST => '/api/v1/admin/freeze', token => $adm,
    json => { reason => 'x', until => '2099-01-01T00:00:00Z' });
is $r->{status}, 200, 'a full time: frozen';
is $r->{json}{freeze}{reason}, 'x', 'with its reason';
is $s->api(POST => '/api/v1/admin/unfreeze', token => $adm)->{json}{frozen}, JSON::PP::false(),
    'unfrozen';

# set-role: the admin page's form and the API are one action.
$r = $s->api(POST => '/api/v1/admin/users', token => $adm, json => { name => 'carol', role => 'admin' });
is_deeply $r->{json}, { name => 'carol', role => 'admin', banned => JSON::PP::false() }, 'set-role';

done_testing;
