#!/usr/bin/perl
# The admin page and the dashboard draw their forms from the one action
# table the API uses: every admin action has its form, a form refuses what
# the API refuses (freeze's "until" bounds), set-role works from the page,
# and the pages show states as a person reads them.
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

my $page = $root->get('/admin');
is($page->{status}, 200, 'the admin page');
for my $a (qw(freeze unfreeze set-role ban unban logout totp-reset logout-all move token-revoke)) {
    like($page->{content}, qr{<form method="post" action="/admin/\Q$a\E">}, "a form for $a");
}
like($page->{content}, qr{name="until" maxlength="40"}, 'until: at most 40 characters, as in the API');

my $csrf = SP::Login::csrf_of($page->{content});
my $r = $root->post_form('/admin/freeze', { csrf => $csrf, reason => 'x', until => '2099-01-01' });
is($r->{status}, 400, 'until without a time: 400 on the page');
like($r->{content}, qr/until must be 20 to 40 characters/, 'says why, like the API');
my $api = $s->api(POST => '/api/v1/admin/freeze', token => $s->user('ada', 'admin'),
    json => { reason => 'x', until => '2099-01-01' });
is($api->{json}{detail}, 'until must be 20 to 40 characters long', 'the API says the same');
is($s->sql(q{select count(*) as n from spiderpig.freezes})->[0]{n}, 0, 'nothing frozen');

$r = $root->post_form('/admin/set-role', { csrf => $csrf, name => 'dave', role => 'admin' });
is($r->{status}, 303, 'set-role from the page');
is($s->sql(q{select role from spiderpig.users where name = 'dave'})->[0]{role}, 'admin', 'dave is an admin');
$r = $root->post_form('/admin/set-role', { csrf => $csrf, name => 'dave', role => 'root' });
is($r->{status}, 400, 'a role the API refuses is refused here');
$r = $root->post_form('/admin/set-role', { name => 'dave', role => 'deployer' });
is($r->{status}, 403, 'without the csrf field the form path refuses');
is($root->post_form('/admin/nonesuch', { csrf => $csrf })->{status}, 404, 'an unknown admin action: 404');

# The dashboard: the queue form of the enqueue action, states as labels.
$r = $root->post_form('/ui/deployments', { csrf => $csrf, patches => '4711, 4712' });
is($r->{status}, 303, 'two patches queued from the form');
is_deeply($s->sql(q{select patches from spiderpig.deployments})->[0]{patches}, ['4711', '4712'],
    'split like the API array');
is($root->post_form('/ui/deployments', { csrf => $csrf, patches => '4711 4711' })->{status}, 400,
    'the same change twice: refused like in the API');
my $dash = $root->get('/')->{content};
like($dash, qr{<span class="state" title="queued">Queued</span>}, 'the dashboard shows the state label');
like($dash, qr{<input name="patches" size="60" required>}, 'and the enqueue form');

done_testing;
