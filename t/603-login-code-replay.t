#!/usr/bin/perl
# An authorization code is good once: the same callback (code and state)
# presented again is refused, however the state is handled.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
sub sessions { $s->sql('select count(*)::int as n from spiderpig.sessions')->[0]{n} }

my $b = SP::Login->new($s);
my $cb = $b->to_callback('alice');
my $binding = $b->cookie('__Host-spiderpig_login');
my $res = $b->get($cb);
is($res->{status}, 303, 'the first use of the code logs in');
is(sessions(), 1, 'one session');

# Same code again, from the same browser with its binding cookie restored.
$b->set_cookie('__Host-spiderpig_login', $binding);
$res = $b->get($cb);
ok($res->{status} >= 400 && $res->{status} < 500, "the second use is refused ($res->{status})");
ok(!grep(/^__Host-spiderpig_session=[^;]/, @{ $res->{set_cookie_lines} }), 'no new session cookie');

# The same code with a fresh, valid state of this browser: the state passes,
# the provider refuses the used code.
my $b2 = SP::Login->new($s);
my $cb2 = $b2->to_callback('alice');
my ($state2) = $cb2 =~ /[?&]state=([^&]+)/;
(my $replay = $cb) =~ s/([?&]state=)[^&]+/$1$state2/;
$res = $b2->get($replay);
ok($res->{status} >= 400 && $res->{status} < 500, "the used code with a fresh state is refused ($res->{status})");
is(sessions(), 1, 'still one session');
done_testing;
