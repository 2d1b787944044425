#!/usr/bin/perl
# The admin page does what psql and the API do: freeze with a reason and
# unfreeze, log out one user or everyone, reset a second factor, reorder the
# queue and revoke a token; every action is audited.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);

my $root = SP::Login->new($s);
$root->login('root');
is($root->enrol_totp->{status}, 303, 'root signs in as admin');
my $alice = SP::Login->new($s);
$alice->login('alice');
is($alice->enrol_totp->{status}, 303, 'alice signs in');

my $act = sub {
    my ($name, $fields) = @_;
    my $page = $root->get('/admin');
    my $r = $root->post_form("/admin/$name", { csrf => SP::Login::csrf_of($page->{content}),
        confirm => 1, %$fields });
    is($r->{status}, 303, "admin $name") or diag $r->{content};
    return $r;
};

$act->('freeze', { reason => 'train deploy' });
my $f = $s->sql(q{select reason, frozen_by from spiderpig.freezes where lifted_at is null})->[0];
is_deeply($f, { reason => 'train deploy', frozen_by => 'root' }, 'the freeze is in force with its reason');
like($root->get('/admin')->{content}, qr{frozen</strong> by root: train deploy}, 'the admin page shows the freeze');
like($alice->get('/')->{content}, qr{frozen</strong> by root: train deploy}, 'so does the dashboard');
$act->('unfreeze', {});
is($s->sql(q{select count(*) as n from spiderpig.freezes where lifted_at is null})->[0]{n}, 0, 'lifted');

$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, 'bob');
my @d = map { $s->sql(q{select id from spiderpig.enqueue('bob', array[$1])}, $_)->[0]{id} } qw(11 12 13);
$act->('move', { deployment => $d[2], position => 1 });
is_deeply([map { $_->{id} } @{ $s->sql(q{select id from spiderpig.deployments where state='queued' order by position}) }],
    [$d[2], $d[0], $d[1]], 'the queue is reordered');

my $tok = $s->sql(q{select spiderpig.create_token('root', 'bob', 'ci') as t})->[0]{t};
my $tid = $s->sql(q{select id from spiderpig.api_tokens where username='bob'})->[0]{id};
is($s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, "bob's token works");
$act->('token-revoke', { token => $tid });
is($s->api(GET => '/api/v1/queue', token => $tok)->{status}, 401, 'a revoked token is refused on the next request');

is($s->sql(q{select count(*) as n from spiderpig.totp where username='alice'})->[0]{n}, 1, 'alice has a second factor');
$act->('totp-reset', { name => 'alice' });
is($s->sql(q{select count(*) as n from spiderpig.totp where username='alice'})->[0]{n}, 0, 'reset: she enrols again at her next sign-in');

is($alice->get('/')->{status}, 200, 'alice is still signed in');
$act->('logout', { name => 'alice' });
is($alice->get('/')->{status}, 401, 'logged out: her next request is refused');

my $r = $act->('logout-all', {});
is($root->get('/')->{status}, 401, 'log out everyone includes the admin who did it');

my @ev = map { $_->{action} } @{ $s->sql(q{select action from spiderpig.events where actor='root' order by id}) };
for my $a (qw(freeze unfreeze moved token_revoked logout logout_all)) {
    ok((grep { $_ eq $a } @ev), "audited: $a");
}
done_testing;
