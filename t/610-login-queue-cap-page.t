#!/usr/bin/perl
# Issue 7, finding 9, in the browser: the dashboard's form is held to the
# same per-user queue cap as the API, and the refusal page says why.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);

my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
my $post = sub {
    my ($fields) = @_;
    my $csrf = SP::Login::csrf_of($b->get('/')->{content});
    return $b->post_form('/ui/deployments', { csrf => $csrf, %$fields });
};
sub count { $s->sql(q{select count(*)::int as n from spiderpig.deployments
    where requester = 'alice'})->[0]{n} }

is($post->({ patches => "$_" })->{status}, 303, "deployment $_ queued from the form")
    for 101 .. 103;
my $r = $post->({ patches => '104' });
is($r->{status}, 409, 'the 4th is refused with 409');
like($r->{content}, qr/you already have 3 deployments queued; the limit is 3/,
    'the page names the limit');
is(count(), 3, 'and nothing more is queued');
done_testing;
