#!/usr/bin/perl
# Admin endpoints refuse deployers with 403 and change nothing; an admin's
# freeze and unfreeze work and show in /api/v1/status.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $dep = $s->user('dora', 'deployer');
my $adm = $s->user('ada', 'admin');
my $d = $s->api(POST => '/api/v1/deployments', token => $dep,
    json => { patches => ['1'] })->{json};

my @calls = (
    [POST => '/api/v1/admin/freeze', { reason => 'no' }],
    [POST => '/api/v1/admin/unfreeze'],
    [POST => '/api/v1/admin/users', { name => 'eve', role => 'admin' }],
    [POST => '/api/v1/admin/users/ada/ban', { reason => 'coup' }],
    [POST => '/api/v1/admin/users/ada/unban'],
    [POST => '/api/v1/admin/users/ada/logout'],
    [POST => '/api/v1/admin/logout-all'],
    [POST => "/api/v1/admin/queue/$d->{id}/move", { position => 1 }],
    [DELETE => '/api/v1/admin/tokens/1'],
);
for my $c (@calls) {
    my ($m, $path, $json) = @$c;
    my $r = $s->api($m => $path, token => $dep, $json ? (json => $json) : ());
    is $r->{status}, 403, "deployer $m $path: 403";
    like $r->{headers}{'content-type'} // '', qr{^application/problem\+json}, '  problem+json';
}
is $s->sql(q{select count(*) as n from spiderpig.users where name = 'eve'})->[0]{n}, 0,
    'no user was added';
is $s->sql('select count(*) as n from spiderpig.freezes')->[0]{n}, 0, 'no freeze';

my $f = $s->api(POST => '/api/v1/admin/freeze', token => $adm,
    json => { reason => 'release week', until => '2099-01-01T00:00:00Z' });
is $f->{status}, 200, 'admin freezes' or diag $f->{body};
ok $f->{json}{frozen}, 'frozen';
my $st = $s->api(GET => '/api/v1/status', token => $dep)->{json};
ok $st->{frozen}, 'status: frozen';
is $st->{freeze}{reason}, 'release week', 'status: the reason';
is $st->{freeze}{by}, 'ada', 'status: by whom';
like $st->{freeze}{until}, qr/^2099-01-01T/, 'status: until';

my $again = $s->api(POST => '/api/v1/admin/freeze', token => $adm, json => { reason => 'x' });
is $again->{status}, 409, 'freezing twice: 409';

my $bad = $s->api(POST => '/api/v1/admin/freeze', token => $adm,
    json => { reason => 'x', until => 'tomorrow' });
is $bad->{status}, 400, 'bad until: 400';
is $bad->{json}{field}, 'until', 'names until';

my $u = $s->api(POST => '/api/v1/admin/unfreeze', token => $adm);
is $u->{status}, 200, 'admin unfreezes' or diag $u->{body};
ok !$s->api(GET => '/api/v1/status', token => $dep)->{json}{frozen}, 'status: not frozen';
is $s->api(POST => '/api/v1/admin/unfreeze', token => $adm)->{status}, 409,
    'unfreezing twice: 409';

done_testing;
