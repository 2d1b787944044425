#!/usr/bin/perl
# eve signs in at the provider but is in neither the deployer nor the admin
# group: a 403 "not authorized" page, no session cookie, no session row.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
my $b = SP::Login->new($s);

my $cb = $b->login('eve');
is($cb->{status}, 403, 'the callback answers 403');
like($cb->{headers}{'content-type'}, qr{^text/html}, 'an HTML page');
like($cb->{content}, qr/not authorized/i, 'saying "not authorized"');
ok(!grep(/^__Host-spiderpig_session=[^;]/, @{ $cb->{set_cookie_lines} }), 'no session cookie');
ok(!defined $b->cookie('__Host-spiderpig_session'), 'none in the jar');
is($s->sql('select count(*)::int as n from spiderpig.sessions')->[0]{n}, 0, 'no session row');
is_deeply($s->sql(q{select name from spiderpig.users where name = 'eve'}), [], 'eve was not created');
is($b->get('/totp')->{status}, 303, '/totp sends her back to /login');
done_testing;
