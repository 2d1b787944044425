#!/usr/bin/perl
# Cross-site request forgery: a form POST without or with a wrong csrf
# token is refused 403; so is any unsafe request with Sec-Fetch-Site:
# cross-site or a foreign Origin; JSON endpoints refuse text/plain (415).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
sub tokens { $s->sql('select count(*)::int as n from spiderpig.api_tokens')->[0]{n} }

my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice has an AAL2 session');
my $csrf = SP::Login::csrf_of($b->get('/')->{content});
ok($csrf, 'the dashboard carries the csrf token');

my $r = $b->post_form('/tokens', { name => 'x' });
is($r->{status}, 403, 'a form without csrf is refused');
$r = $b->post_form('/tokens', { csrf => 'A' x 43, name => 'x' });
is($r->{status}, 403, 'a form with a wrong csrf is refused');
$r = $b->post_form('/ui/deployments', { csrf => $csrf . 'x', patches => '12345' });
is($r->{status}, 403, 'a deployment form with a wrong csrf is refused');
is(tokens(), 0, 'no token was created');

$r = $b->post_form('/tokens', { csrf => $csrf, name => 'x' }, 'Sec-Fetch-Site' => 'cross-site');
is($r->{status}, 403, 'Sec-Fetch-Site: cross-site is refused, csrf or not');
$r = $b->post_form('/tokens', { csrf => $csrf, name => 'x' }, Origin => 'https://evil.example');
is($r->{status}, 403, 'a foreign Origin is refused');
$r = $b->post_form('/tokens', { csrf => $csrf, name => 'x' }, Origin => 'null');
is($r->{status}, 403, 'Origin: null is refused');
is(tokens(), 0, 'still no token');
$r = $b->post_form('/tokens', { csrf => $csrf, name => 'x' }, Origin => $s->base_url,
    'Sec-Fetch-Site' => 'same-origin');
is($r->{status}, 303, 'the same form from our own origin works');
my ($tok) = $b->get('/tokens')->{content} =~ m{<code class="token">([^<]+)</code>};

$r = $s->api(POST => '/api/v1/deployments', token => $tok, body => '{"patches":["12345"]}',
    headers => { 'Content-Type' => 'text/plain' });
is($r->{status}, 415, 'the JSON API refuses text/plain');
$r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] },
    headers => { 'Sec-Fetch-Site' => 'cross-site' });
is($r->{status}, 403, 'the JSON API refuses Sec-Fetch-Site: cross-site');
$r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] },
    headers => { Origin => 'https://evil.example' });
is($r->{status}, 403, 'the JSON API refuses a foreign Origin');
is($r->{json}{type}, 'urn:spiderpig:problem:forbidden', 'as a problem document');
$r = $b->request(POST => '/ui/deployments', { content => '{"patches":"12345"}',
    headers => { 'Content-Type' => 'application/json' } });
is($r->{status}, 415, 'the form endpoints refuse JSON');
is($s->sql('select count(*)::int as n from spiderpig.deployments')->[0]{n}, 0, 'nothing was queued');
$r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'a plain API client (no Origin) still works');
done_testing;
