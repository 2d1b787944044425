#!/usr/bin/perl
# Every bad ID token is refused. The stack's [oidc] issuer is the
# deliberately bad provider (t/badidp/server.js), which completes the code
# flow correctly (PKCE, client auth, state, iss) and then hands over an ID
# token that is wrong in exactly one way (t/622 checks that of the provider
# itself). For each mode: a fresh GET /login, follow to /authorize, follow
# back to /login/callback; the answer must be a 4xx page, with no session
# cookie and no new row in spiderpig.sessions; the provider's counters show
# whether the RP redeemed the code (it must for the token attacks, and must
# not for a bad iss parameter). Also: a replayed callback or one in another
# browser is refused before the code is redeemed, and correctly signed tokens
# whose groups give no access (or are not a list of strings) are refused. A
# good token before and after must log in, so the refusals are not a broken
# setup.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use JSON::PP ();
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

# The attacks; the RP must refuse the first group only after it redeemed the
# code (the token is what is wrong), the second before (RFC 9207: the iss
# parameter is checked before the code is exchanged).
my @AFTER_TOKEN = qw(alg_none hs256_pubkey wrong_iss wrong_aud multi_aud_no_azp
    wrong_azp expired iat_future nbf_future bad_nonce unknown_kid bad_signature
    es256_with_rsa_kid);
my @BEFORE_TOKEN = qw(wrong_iss_param no_iss_param);

my $idp = BadIdP->start;
# Many logins from one address: lift the login pages' rate limit (a 429
# would look like a refusal; the subtests also check it is not one).
my $s = SP::Stack->new(workers => 0,
    env => { SPIDERPIG_LOGIN_RATE => '100r/s', SPIDERPIG_LOGIN_BURST => 1000 },
    oidc => { issuer => $idp->issuer, client_secret => $idp->client_secret });

sub sessions { BadIdP::sessions($s) }

sub good_login {
    my ($what, $keep) = @_;
    $idp->mode('good');
    my $n0 = sessions();
    my $r = BadIdP::login_round($s);
    $$keep = $r if $keep;
    my $cb = $r->{callback} // {};
    my $ok = is($r->{error}, undef, "$what: the round trip reaches the callback");
    $ok &= is($cb->{status}, 303, "$what: callback answers 303");
    $ok &= like($cb->{headers}{location} // '', qr{^(?:https://[^/]+)?/totp(?:\?|$)}, "$what: to /totp");
    $ok &= ok(defined $r->{session}, "$what: sets __Host-spiderpig_session");
    $ok &= is(sessions(), $n0 + 1, "$what: one new session row");
    my $row = $s->sql('select username, aal from spiderpig.sessions order by id desc limit 1')->[0];
    $ok &= is_deeply($row, { username => 'alice', aal => 1 }, "$what: an AAL1 session for alice");
    unless ($ok) {
        diag("callback: $r->{callback_url}") if $r->{callback_url};
        diag("answer: " . ($cb->{status} // '-') . "\n" . substr($cb->{content} // '', 0, 2000));
        $idp->diag_log;
    }
    return $ok;
}

my $first;
unless (good_login('good token (baseline)', \$first)) {
    diag('a good ID token does not log in: refusals would prove nothing; stopping');
    done_testing;
    exit 1;
}

# The state is single use and bound to the browser that began the login:
# replaying the baseline's callback (same cookies), or delivering a fresh
# callback to a browser without the login cookie, is refused before the code
# is redeemed.
sub refused_before_token {
    my ($name, $url, $cookie) = @_;
    my $t0 = $idp->stats->{tokens_issued};
    my $n0 = sessions();
    my $res = BadIdP::get($url, cookie => $cookie);
    my $st = $res->{status};
    subtest $name => sub {
        ok($st >= 400 && $st < 500 && $st != 429, "refused with a 4xx (got $st)");
        my $sc = $res->{headers}{'set-cookie'} // [];
        ok(!grep({ /^\s*__Host-spiderpig_session=[^;]/ } ref $sc ? @$sc : ($sc)), 'no session cookie');
        is(sessions(), $n0, 'no session row');
        is($idp->stats->{tokens_issued}, $t0, 'the code was not redeemed');
    } or diag(substr($res->{content} // '', 0, 1500));
}
refused_before_token('replayed callback', $first->{callback_url}, $first->{callback_cookie});
{
    my $r = BadIdP::login_round($s, no_callback => 1);
    refused_before_token('callback in another browser (no login cookie)', $r->{callback_url}, undef);
    my ($binding) = ($r->{callback_cookie} // '') =~ /(__Host-spiderpig_login=[^;]+)/;
    ok($binding, 'the login set its binding cookie');
    refused_before_token('callback with the login cookie of another attempt',
        BadIdP::login_round($s, no_callback => 1)->{callback_url}, $binding);
}

for my $mode (@AFTER_TOKEN, @BEFORE_TOKEN) {
    my $redeem = !grep { $_ eq $mode } @BEFORE_TOKEN;
    $idp->mode($mode);
    my $t0 = $idp->stats->{tokens_issued};
    my $n0 = sessions();
    my $r = BadIdP::login_round($s);
    my $cb = $r->{callback} // {};
    subtest $mode => sub {
        is($r->{error}, undef, 'the round trip reaches the callback')
            or return;
        my $st = $cb->{status} // 0;
        ok($st >= 400 && $st < 500, "callback refused with a 4xx (got $st)");
        isnt($st, 429, 'not merely rate-limited');
        like($cb->{headers}{'content-type'} // '', qr{^(?:text/html|application/problem\+json)\b},
            'an HTML page or a problem document');
        ok(!defined $r->{session}, 'no session cookie set')
            or diag(join "\n", @{ $r->{set_cookies} });
        is(sessions(), $n0, 'no session row');
        is($idp->stats->{tokens_issued}, $t0 + ($redeem ? 1 : 0),
            $redeem ? 'the RP redeemed the code (the ID token itself was refused)'
                    : 'the RP refused before redeeming the code');
        unlike($cb->{headers}{location} // '', qr{/totp}, 'no way on to /totp');
    } or do {
        diag("callback answered " . ($cb->{status} // '-') . ":\n" . substr($cb->{content} // '', 0, 1500));
        $idp->diag_log(15);
    };
}

is_deeply($s->sql(q{select name from spiderpig.users where name in ('mallory', 'sub-mallory')}), [],
    'the forged identity of bad_signature was never created');

# Correctly signed tokens whose groups give no access, or are not a list of
# strings (a type confusion: "deployers" as a string must not match).
for my $case (['eve', ['others'], qr/not authorized/i], ['eve', 'deployers', undef],
              ['eve', [['deployers']], undef], ['eve', [], qr/not authorized/i]) {
    my ($user, $groups, $page) = @$case;
    my $name = 'groups ' . JSON::PP->new->canonical->encode($groups);
    $idp->mode('good', username => $user, groups => $groups);
    my $n0 = sessions();
    my $r = BadIdP::login_round($s);
    my $cb = $r->{callback} // {};
    my $st = $cb->{status} // 0;
    subtest $name => sub {
        is($r->{error}, undef, 'the round trip reaches the callback') or return;
        ok($st >= 400 && $st < 500 && $st != 429, "refused with a 4xx (got $st)");
        like($cb->{content} // '', $page, 'the page says why') if $page;
        ok(!defined $r->{session}, 'no session cookie');
        is(sessions(), $n0, 'no session row');
    } or diag(substr($cb->{content} // '', 0, 1500));
}
is_deeply($s->sql(q{select name from spiderpig.users where name = 'eve'}), [],
    'no user row for someone with no access');
$idp->mode('good', username => 'alice', groups => ['deployers']);
good_login('good token after the attacks');

done_testing;
