#!/usr/bin/perl
# Happy path: alice signs in at the bundled provider, enrols TOTP (codes
# computed here from the otpauth secret), gets an AAL2 session, creates an
# API token on /tokens and deploys with it as a Bearer token.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
my $b = SP::Login->new($s);

my $cb = $b->login('alice', return_to => '/tokens');
is($cb->{status}, 303, 'callback answers 303');
like($cb->{headers}{location}, qr{^/totp\?return_to=/tokens$}, 'on to /totp, keeping return_to');
ok($b->cookie('__Host-spiderpig_session'), 'a session cookie is set');
is_deeply($s->sql('select username, aal from spiderpig.sessions where revoked_at is null'),
    [{ username => 'alice', aal => 1 }], 'an AAL1 session for alice');
is($s->sql(q{select role from spiderpig.users where name = 'alice'})->[0]{role}, 'deployer',
    'alice is a deployer (group deployers)');

my $p = $b->totp_page('/tokens');
is($p->{res}{status}, 200, 'GET /totp shows the enrolment');
like($p->{uri}, qr{^otpauth://totp/spiderpig:alice\?secret=[A-Z2-7]{32}&issuer=spiderpig}, 'the otpauth URI as text');
like($p->{res}{content}, qr{<img[^>]+src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"}, 'the QR code as an inline SVG image');
like($p->{res}{headers}{'content-security-policy'} // '', qr{default-src 'none';.* img-src 'self' data:;}, 'the page CSP allows data: images');
my $r = $b->totp_submit($p, SP::Login::totp_code($p->{secret}));
is($r->{status}, 303, 'the first code confirms the enrolment');
is($r->{headers}{location}, '/tokens', 'and goes to return_to');
is_deeply($s->sql('select username, aal from spiderpig.sessions where revoked_at is null'),
    [{ username => 'alice', aal => 2 }], 'the AAL1 session was replaced by an AAL2 one');

$r = $b->get('/tokens');
is($r->{status}, 200, 'GET /tokens') or diag $r->{content};
my $csrf = SP::Login::csrf_of($r->{content});
ok($csrf, 'the page carries a csrf token');
my $tok = $b->create_token('laptop', days => 7);
is($b->{last_post}{status}, 303, 'POST /tokens creates a token and redirects') or diag $b->{last_post}{content};
like($tok // '', qr/^spt_/, 'the token is shown once, after the redirect');
$r = $b->get('/tokens');
unlike($r->{content}, qr/\Q$tok\E/, 'and not again');
like($r->{content}, qr/laptop/, 'the list shows it by name');

$r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'deploy with the token as Bearer') or diag $r->{body};
is($r->{json}{requester}, 'alice', 'as alice');

$r = $b->get('/');
is($r->{status}, 200, 'the dashboard');
like($r->{content}, qr/12345/, 'shows the deployment');
done_testing;
