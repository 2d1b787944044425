#!/usr/bin/perl
# The session cookie: __Host-, Secure, HttpOnly, Path=/, no Domain; a new
# session id after the provider callback (a planted one is not kept) and
# again after TOTP; the AAL1 session cannot use the API or the pages.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);

sub attrs_ok {
    my ($line, $samesite, $what) = @_;
    subtest $what => sub {
        like($line, qr/^__Host-spiderpig_session=sps_[\w-]+;/, '__Host- prefix');
        like($line, qr/;\s*Secure(;|$)/i, 'Secure');
        like($line, qr/;\s*HttpOnly(;|$)/i, 'HttpOnly');
        like($line, qr/;\s*Path=\/(;|$)/i, 'Path=/');
        unlike($line, qr/Domain=/i, 'no Domain');
        like($line, qr/;\s*SameSite=$samesite(;|$)/i, "SameSite=$samesite");
    };
}

my $b = SP::Login->new($s);
my $planted = 'sps_' . ('P' x 43);
$b->set_cookie('__Host-spiderpig_session', $planted);
my $cb = $b->login('alice');
is($cb->{status}, 303, 'callback');
my ($line1) = grep { /^__Host-spiderpig_session=/ } @{ $cb->{set_cookie_lines} };
attrs_ok($line1, 'Lax', 'the AAL1 cookie');
my $aal1 = $b->cookie('__Host-spiderpig_session');
isnt($aal1, $planted, 'the planted session id was replaced');

is($s->api(GET => '/api/v1/queue', headers => { Cookie => "__Host-spiderpig_session=$aal1" })->{status},
    401, 'the AAL1 session cannot use the API');
is($b->get('/')->{status}, 401, 'nor the pages');
$b->{secret} = undef;
my $r = $b->enrol_totp;
is($r->{status}, 303, 'TOTP passed');
my ($line2) = grep { /^__Host-spiderpig_session=/ } @{ $r->{set_cookie_lines} };
attrs_ok($line2, 'Strict', 'the AAL2 cookie');
my $aal2 = $b->cookie('__Host-spiderpig_session');
isnt($aal2, $aal1, 'a new session id after TOTP');
is($s->api(GET => '/api/v1/queue', headers => { Cookie => "__Host-spiderpig_session=$aal2" })->{status},
    200, 'the AAL2 session can use the API');
is($s->api(GET => '/api/v1/queue', headers => { Cookie => "__Host-spiderpig_session=$aal1" })->{status},
    401, 'the AAL1 session id is dead');
is($s->sql(q{select count(*)::int as n from spiderpig.sessions where aal = 1 and revoked_at is null})->[0]{n},
    0, 'no live AAL1 session is left');

# Log out: the session ends and the cookie is cleared.
my $csrf = SP::Login::csrf_of($b->get('/')->{content});
$r = $b->post_form('/logout', { csrf => $csrf });
is($r->{status}, 200, 'POST /logout');
ok(scalar(grep { /^__Host-spiderpig_session=;.*Max-Age=0/i } @{ $r->{set_cookie_lines} }), 'clears the cookie');
is($s->api(GET => '/api/v1/queue', headers => { Cookie => "__Host-spiderpig_session=$aal2" })->{status},
    401, 'the session is over');
done_testing;
