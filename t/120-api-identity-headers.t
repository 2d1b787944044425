#!/usr/bin/perl
# Identity comes only from the token: headers a client sends (X-Spiderpig-*,
# Remote-User, Basic auth) never choose the user or the role.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use MIME::Base64 ();
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');
$s->user('ada', 'admin');

my %forged = ('X-Spiderpig-User' => 'ada', 'X-Spiderpig-Role' => 'admin',
    'Remote-User' => 'ada', 'X-Remote-User' => 'ada');
my $r = $s->api(POST => '/api/v1/deployments', token => $tok, headers => {%forged},
    json => { patches => ['5'] });
is $r->{status}, 201, 'enqueue with forged headers';
is $r->{json}{requester}, 'alice', 'still alice';

is $s->api(POST => '/api/v1/admin/freeze', token => $tok, headers => {%forged},
    json => { reason => 'x' })->{status}, 403, 'forged admin role: 403';

my $basic = 'Basic ' . MIME::Base64::encode_base64('ada:x', '');
is $s->api(GET => '/api/v1/queue', headers => { Authorization => $basic, %forged })->{status},
    401, 'Basic auth and forged headers without a token: 401';
is $s->sql('select count(*) as n from spiderpig.freezes')->[0]{n}, 0, 'nothing frozen';

done_testing;
