#!/usr/bin/perl
# Page forms behave as a person expects: a destructive action asks for
# confirmation on a page of its own (a second form with confirm=1, no
# JavaScript needed) and a single click at the finish prompt does not roll
# back; after POST-redirect-GET the page says what was done, once; a form
# error is shown next to its field with the input kept; a new API token is
# shown once after a redirect, so a reload creates no second one; errors
# are HTML pages for browsers and problem+json for API clients.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(oidc => 1, workers => 0);
my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
my $html = { Accept => 'text/html' };
my $csrf = SP::Login::csrf_of($b->get('/')->{content});
my $state = sub { $s->sql('select state from spiderpig.deployments where id=$1', $_[0])->[0]{state} };

# Inline errors, input kept.
my $r = $b->post_form('/ui/deployments', { csrf => $csrf, patches => '12345 1;rm', note => 'keep me' }, %$html);
is($r->{status}, 400, 'a bad patch: 400');
like($r->{content}, qr/<input name="patches"[^>]* value="12345 1;rm" aria-invalid="true" aria-describedby="err-patches">/,
    'the input is kept and marked invalid');
like($r->{content}, qr/<span class="field-error" id="err-patches">[^<]+<\/span>/, 'the problem next to it');
like($r->{content}, qr/value="keep me"/, 'the other input is kept too');
is($s->sql('select count(*) as n from spiderpig.deployments')->[0]{n}, 0, 'nothing queued');

# Queue: 303 back, the flash says what happened, once.
$r = $b->post_form('/ui/deployments', { csrf => $csrf, patches => '12345' });
is($r->{status}, 303, 'queued: 303');
is($r->{headers}{location}, '/', 'back to the dashboard');
my $id = $s->sql('select max(id) as id from spiderpig.deployments')->[0]{id};
like($b->get('/')->{content}, qr/<p class="flash" role="status">Queued/, 'the dashboard says it was queued');
unlike($b->get('/')->{content}, qr/class="flash"/, 'and says it only once');

# Cancel asks first; confirm=1 does it.
$r = $b->post_form("/ui/deployments/$id/cancel", { csrf => $csrf });
is($r->{status}, 200, 'cancel without confirm: a confirmation page');
like($r->{content}, qr/<input type="hidden" name="confirm" value="1">/, 'with a second form carrying confirm=1');
like($r->{content}, qr/Yes, Cancel $id/, 'whose button says what it does');
is($state->($id), 'queued', 'nothing cancelled yet');
$r = $b->post_form("/ui/deployments/$id/cancel", { csrf => $csrf, confirm => 1, back => "/deployments/$id" });
is($r->{status}, 303, 'confirmed: 303');
is($r->{headers}{location}, "/deployments/$id", 'back to the page it came from');
is($state->($id), 'cancelled', 'cancelled');
like($b->get("/deployments/$id")->{content}, qr/Cancelled: #$id\./, 'the deployment page says so');

# The finish prompt: "finish" at once; "rollback" only after confirming.
my $id2 = $s->sql(q{select (spiderpig.enqueue('alice', array['222'])).id})->[0]{id};
$s->sql('select spiderpig.offer_next()');
$s->sql(q{update spiderpig.prompts set answered_at = now(), answer = 'yes', answered_by = 'alice' where deployment_id = $1}, $id2);
$s->sql(q{update spiderpig.deployments set state = 'awaiting_finish', started_at = now() where id = $1}, $id2);
my $pid = $s->sql(q{insert into spiderpig.prompts (deployment_id, kind, question, choices, default_answer, expires_at)
    values ($1, 'finish', 'Finish?', array['finish','rollback'], 'finish', now() + interval '1 hour') returning id}, $id2)->[0]{id};
my $page = $b->get("/deployments/$id2")->{content};
like($page, qr/aria-label="Roll back: answer rollback for deployment $id2"/, 'the finish prompt offers roll back');
$r = $b->post_form("/ui/deployments/$id2/answer", { csrf => $csrf, prompt => $pid, answer => 'rollback',
    back => "/deployments/$id2" });
is($r->{status}, 200, 'a single click on roll back asks for confirmation');
like($r->{content}, qr/Answer <strong>rollback<\/strong> for deployment $id2\? This rolls the deployment back/,
    'saying which answer and what it does');
is($state->($id2), 'awaiting_finish', 'production is not rolled back by one click');

# Log out everyone asks too (root).
my $root = SP::Login->new($s);
$root->login('root');
is($root->enrol_totp->{status}, 303, 'root signs in');
my $rcsrf = SP::Login::csrf_of($root->get('/admin')->{content});
$r = $root->post_form('/admin/logout-all', { csrf => $rcsrf });
is($r->{status}, 200, '"log out everyone" asks for confirmation');
is($b->get('/')->{status}, 200, 'alice is still signed in');
# Ban: the confirmation page asks for the required reason.
$r = $root->post_form('/admin/ban', { csrf => $rcsrf, name => 'bob' });
is($r->{status}, 200, 'ban asks first');
like($r->{content}, qr/<input name="reason"[^>]*required/, 'and asks for the reason there');
$s->user('bob', 'deployer');
$r = $root->post_form('/admin/ban', { csrf => $rcsrf, name => 'bob', reason => 'test', confirm => 1 });
is($r->{status}, 303, 'confirmed ban: 303');
like($root->get('/admin')->{content}, qr/Banned: bob\./, 'the admin page says who was banned');
is($s->sql(q{select host(address) as a from spiderpig.events where action = 'ban' order by id desc limit 1})->[0]{a},
    '127.0.0.1', 'the event records the address it came from');

# Tokens: POST-redirect-GET, shown once.
$r = $b->post_form('/tokens', { csrf => $csrf, name => 'ci', days => 7 });
is($r->{status}, 303, 'POST /tokens answers 303');
is($r->{headers}{location}, '/tokens', 'to /tokens');
unlike($r->{content} // '', qr/sp_|token/i, 'the POST answer itself carries no token');
$r = $b->get('/tokens');
like($r->{content}, qr/Your new token \(shown only once; copy it now\): <code class="token">([^<]+)</, 'the token is shown after the redirect');
my ($tok) = $r->{content} =~ /<code class="token">([^<]+)</;
unlike($b->get('/tokens')->{content}, qr/class="token"/, 'a reload shows it no more');
is($s->sql(q{select count(*) as n from spiderpig.api_tokens where username = 'alice' and name = 'ci'})->[0]{n}, 1,
    'one token was created');
is($s->api(GET => '/api/v1/status', token => $tok)->{status}, 200, 'and it works');
$r = $b->post_form('/tokens', { csrf => $csrf, name => "bad\x01name" });
is($r->{status}, 400, 'a bad token name: 400');
like($r->{content}, qr/aria-invalid="true"/, 'shown next to the field');

# Error pages: HTML for browsers, problem+json for the API.
$r = $b->get('/no/such/page', { headers => $html });
is($r->{status}, 404, 'unknown page: 404');
like($r->{headers}{'content-type'}, qr{^text/html}, 'an HTML page for a browser');
like($r->{content}, qr/<h1>Not Found<\/h1>/, 'saying so');
$r = $b->get('/api/v1/deployments/999999', { headers => $html });
like($r->{headers}{'content-type'}, qr{^application/problem\+json}, 'the API answers problem+json even to a browser');
$r = $b->get('/admin', { headers => $html });
is($r->{status}, 403, 'alice on /admin: 403');
like($r->{headers}{'content-type'}, qr{^text/html}, 'as a page');
$r = $b->get('/admin', { headers => { Accept => 'application/json' } });
like($r->{headers}{'content-type'}, qr{^application/problem\+json}, 'problem+json for others');
$r = $b->post_form('/ui/deployments', { csrf => $csrf, patches => 'x' x 70000 }, %$html);
is($r->{status}, 413, 'a body over 64 KiB: 413 from nginx');
like($r->{headers}{'content-type'}, qr{^text/html}, 'as a page for a browser');
$r = $b->post_form('/ui/deployments', { csrf => $csrf, patches => 'x' x 70000 });
like($r->{headers}{'content-type'}, qr{^application/problem\+json}, 'problem+json without Accept: text/html');
done_testing;
