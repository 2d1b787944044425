#!/usr/bin/perl
# A role change at login is recorded as an event (issue 7, finding 3): alice
# signs in as a deployer, then the provider puts her in the admin group,
# then takes it away again. Each change is a role_changed event with the
# old and new role; a login with the same role adds none.
use strict; use warnings;
use lib 't/lib', 't/badidp';
use Test::More;
use SP::Stack;
use BadIdP;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;

my $idp = BadIdP->start;
my $s = $idp->stack;

sub changes {
    [ map { "$_->{f}->$_->{t}" } @{ $s->sql(q{select details->>'from' as f,
        details->>'to' as t from spiderpig.events where action = 'role_changed'
        and actor = 'alice' order by id}) } ];
}

$idp->mode('good', username => 'alice', groups => ['deployers']);
$idp->logs_in($s, 'alice as a deployer');
$idp->logs_in($s, 'alice as a deployer again');
is_deeply(changes(), [], 'no role change yet');
$idp->mode('good', username => 'alice', groups => ['deployers', 'sre-admins']);
$idp->logs_in($s, 'alice in the admin group');
is_deeply(changes(), ['deployer->admin'], 'deployer -> admin recorded');
$idp->mode('good', username => 'alice', groups => ['deployers']);
$idp->logs_in($s, 'alice out of the admin group');
is_deeply(changes(), ['deployer->admin', 'admin->deployer'], 'admin -> deployer recorded');
is($s->sql(q{select role from spiderpig.users where name = 'alice'})->[0]{role}, 'deployer',
    'alice is a deployer');
done_testing;
