#!/usr/bin/perl
# The dashboard's form is held to settings.gerrit_host like the API and
# psql (they all go through spiderpig.enqueue): a change URL naming another
# host is refused with 400 naming it, and nothing is queued.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(oidc => 1, workers => 0);
$s->sql(q{update spiderpig.settings set gerrit_host = 'gerrit.example.org'});
my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
my $post = sub {
    my ($fields) = @_;
    my $csrf = SP::Login::csrf_of($b->get('/')->{content});
    return $b->post_form('/ui/deployments', { csrf => $csrf, %$fields });
};
my $r = $post->({ patches => '4242 https://evil.example.com/r/c/core/+/4343' });
is($r->{status}, 400, 'a URL on another host: 400');
like($r->{content} // '', qr/names the host evil\.example\.com; only changes on gerrit\.example\.org are accepted/,
    'the page names the host');
is($s->sql(q{select count(*) as n from spiderpig.deployments})->[0]{n}, 0, 'nothing is queued');
$r = $post->({ patches => '4242 https://gerrit.example.org/r/c/core/+/4343' });
is($r->{status}, 303, 'the configured host is queued');
done_testing;
