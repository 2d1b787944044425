#!/usr/bin/perl
# API tokens follow the provider's say (issue 7, finding 4):
#  1. alice signs in through the provider as an admin and gets a token: it
#     carries admin. The login recorded the sign-in and its role.
#  2. The provider drops her from the admin group; she signs in again: the
#     same token now carries deployer (min of the token's role and the role
#     at her last sign-in), and an admin API call is refused.
#  3. A sign-in that finds her in no group at all: the token stops working.
#  4. Back in a group, then no sign-in for longer than token_idle_days (14):
#     401. An admin raising token_idle_days in psql lets it work again.
#  5. An account never bound to the provider (made in psql, like the CI
#     users of the other tests) is not subject to the idle rule.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

my $idp = BadIdP->start;
my $s = $idp->stack;

sub gate_role {
    my ($tok) = @_;
    my $rows = $s->sql(q{select role from spiderpig.auth_token(sha256(convert_to($1, 'UTF8')))}, $tok);
    return @$rows ? $rows->[0]{role} : 'none';
}
sub status_of { $s->api(GET => '/api/v1/status', token => $_[0])->{status} }

# 1.
$idp->mode('good', username => 'alice', groups => ['deployers', 'sre-admins']);
$idp->logs_in($s, 'alice as an admin');
my $u = $s->sql(q{select role, idp_role, idp_login_at is not null as seen
    from spiderpig.users where name = 'alice'})->[0];
is_deeply($u, { role => 'admin', idp_role => 'admin', seen => 1 },
    'the sign-in and its role are recorded');
my $tok = $s->token('alice');
is(gate_role($tok), 'admin', 'the token carries admin');
is(status_of($tok), 200, 'and works');

# 2.
$idp->mode('good', username => 'alice', groups => ['deployers']);
$idp->logs_in($s, 'alice, no longer an admin');
is(gate_role($tok), 'deployer', 'the same token now carries deployer');
my $r = $s->api(POST => '/api/v1/admin/freeze', token => $tok, json => { reason => 'x' });
is($r->{status}, 403, 'an admin call with it is refused');
# An admin raising her role in psql does not raise what the token carries.
$s->sql(q{select spiderpig.add_user('root', 'alice', 'admin')});
is(gate_role($tok), 'deployer', 'nor does a role raised in psql');

# 3.
$idp->mode('good', username => 'alice', groups => ['others']);
my $cb = BadIdP::login_round($s)->{callback} // {};
is($cb->{status}, 403, 'a sign-in in no group is refused');
is(gate_role($tok), 'none', 'and the token stops working');
is(status_of($tok), 401, 'the API answers 401');

# 4.
$idp->mode('good', username => 'alice', groups => ['deployers']);
$idp->logs_in($s, 'alice back in the deployers');
is(status_of($tok), 200, 'the token works again');
$s->sql(q{update spiderpig.users set idp_login_at = now() - interval '15 days' where name = 'alice'});
is(status_of($tok), 401, 'no sign-in for 15 days: 401');
$s->sql(q{update spiderpig.settings set token_idle_days = 30});
is(status_of($tok), 200, 'token_idle_days = 30 (psql): works again');

# 5.
my $ci = $s->user('ci-bot', 'deployer');
is(status_of($ci), 200, 'a psql-made account that never used the provider keeps its token');
done_testing;
