#!/usr/bin/perl
# The OIDC state is single use and bound to the browser that started the
# login: a callback without state, with a state used before, or with the
# state of a login begun in another browser is refused, and nobody is
# logged in.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
sub sessions { $s->sql('select count(*)::int as n from spiderpig.sessions')->[0]{n} }
sub no_session_cookie { !grep(/^__Host-spiderpig_session=[^;]/, @{ $_[0]{set_cookie_lines} }) }

# The login cookie: __Host-, Secure, HttpOnly, Path=/, no Domain, Lax.
my $b = SP::Login->new($s);
my $res = $b->get('/login');
is($res->{status}, 302, 'GET /login redirects to the provider');
my ($lc) = grep { /^__Host-spiderpig_login=/ } @{ $res->{set_cookie_lines} };
ok($lc, 'sets the login binding cookie');
like($lc, qr/;\s*Secure/i, 'Secure');
like($lc, qr/;\s*HttpOnly/i, 'HttpOnly');
like($lc, qr/;\s*Path=\//i, 'Path=/');
unlike($lc, qr/Domain=/i, 'no Domain');
like($lc, qr/SameSite=Lax/i, 'SameSite=Lax');
my ($binding) = $lc =~ /=([^;]+)/;
is_deeply($s->sql(q{select count(*)::int as n from spiderpig.login_attempts
    where binding_hash = sha256(convert_to($1, 'UTF8'))}, $binding), [{ n => 1 }],
    'only the hash of the binding value is stored');
like($res->{headers}{location}, qr/code_challenge_method=S256/, 'PKCE S256');
like($res->{headers}{location}, qr/[?&]nonce=[\w-]{43}/, 'a nonce');

# 1. No state.
$b = SP::Login->new($s);
my $cb = $b->to_callback('alice');
(my $nostate = $cb) =~ s/([?&])state=[^&]*&?/$1/;
$res = $b->get($nostate);
is($res->{status}, 400, 'a callback without state is refused');
ok(no_session_cookie($res), 'no session cookie');

# 2. The same state twice: the first use (above, without the state) did
# not consume it; use it properly, then replay it.
$res = $b->get($cb);
is($res->{status}, 303, 'the genuine callback logs in');
my $n = sessions();
my $b2 = SP::Login->new($s);
my $cb2 = $b2->to_callback('alice');
my $binding2 = $b2->cookie('__Host-spiderpig_login');
$res = $b2->get($cb2);
is($res->{status}, 303, 'a second login works');
$b2->set_cookie('__Host-spiderpig_login', $binding2);
$res = $b2->get($cb2);
is($res->{status}, 400, 'replaying its callback (same state, same browser) is refused');
like($res->{content}, qr/already used|unknown/i, 'as a used state');
ok(no_session_cookie($res), 'no session cookie');
is(sessions(), $n + 1, 'no session row from the replay');

# 3. A state from another browser: mallory starts a login, and victim's
# browser (its own login cookie) is sent mallory's callback.
my $mallory = SP::Login->new($s);
my $mcb = $mallory->to_callback('alice');
my $victim = SP::Login->new($s);
$victim->get('/login');    # the victim's own binding cookie
$n = sessions();
$res = $victim->get($mcb);
is($res->{status}, 400, "another browser's state is refused");
like($res->{content}, qr/another browser/i, 'saying so');
ok(no_session_cookie($res), 'no session cookie');
$res = SP::Login->new($s)->get($mcb);
is($res->{status}, 400, 'and so is a browser without a login cookie');
is(sessions(), $n, 'nobody was logged in');
$res = $mallory->get($mcb);
is($res->{status}, 303, 'the browser that began it can still finish it');
done_testing;
