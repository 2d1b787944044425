#!/usr/bin/perl
# The second factor refuses a code used before, anything but exactly six
# digits, and locks after 5 failures in 10 minutes: 429 with Retry-After.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
sub aal2 { $s->sql('select count(*)::int as n from spiderpig.sessions where aal = 2')->[0]{n} }

# Enrol: the confirming code is now used.
my $b1 = SP::Login->new($s);
is($b1->login('alice')->{status}, 303, 'alice signs in');
my $p = $b1->totp_page;
my $secret = $p->{secret};
ok($secret, 'the enrolment page shows the secret');
my $code = SP::Login::totp_code($secret);
is($b1->totp_submit($p, $code)->{status}, 303, 'enrolment confirmed with a code');
is(aal2(), 1, 'one AAL2 session');

# A second login with the same code.
my $b2 = SP::Login->new($s);
is($b2->login('alice')->{status}, 303, 'alice signs in again elsewhere');
$p = $b2->totp_page;
is($p->{res}{status}, 200, 'the code form');
ok(!$p->{uri}, 'no new enrolment');
my $r = $b2->totp_submit($p, $code);
is($r->{status}, 401, 'the used code is refused');
like($r->{content}, qr/already used/i, 'as wrong or already used');
is(aal2(), 1, 'no new AAL2 session');

for my $bad ('12345', '1234567', '12a456', ' 123456', '１２３４５６') {
    $r = $b2->totp_submit($p, $bad);
    is($r->{status}, 400, "'$bad' is refused as malformed");
}
is(aal2(), 1, 'still no new AAL2 session');

# A code that matches no step in the window.
my %near = map { SP::Login::totp_code($secret, time + $_) => 1 } -60, -30, 0, 30, 60;
my $wrong = '000000';
$wrong = sprintf '%06d', ($wrong + 1) % 1_000_000 while $near{$wrong};
for my $n (2 .. 4) {
    $r = $b2->totp_submit($p, $wrong);
    is($r->{status}, 401, "wrong code, failure $n");
}
$r = $b2->totp_submit($p, $wrong);
is($r->{status}, 429, 'the 5th failure locks');
like($r->{headers}{'retry-after'} // '', qr/^[1-9][0-9]*$/, 'with Retry-After');
cmp_ok($r->{headers}{'retry-after'}, '<=', 15 * 60, 'of at most the 15 minute lock');
$r = $b2->totp_submit($p, SP::Login::totp_code($secret));
is($r->{status}, 429, 'while locked even a current code is refused');
is(aal2(), 1, 'and no AAL2 session was made');
done_testing;
