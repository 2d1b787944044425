#!/usr/bin/perl
# An admin bans alice on /admin: her browser session and her API token are
# refused on the very next request.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);

my $alice = SP::Login->new($s);
$alice->login('alice');
is($alice->enrol_totp->{status}, 303, 'alice has an AAL2 session');
my $tok = $alice->create_token('ci');
my $r;
ok($tok, 'and an API token');
is($s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, 'the token works');
is($alice->get('/')->{status}, 200, 'the session works');

my $root = SP::Login->new($s);
$root->login('root');
is($root->enrol_totp->{status}, 303, 'root (sre-admins) signs in');
is($s->sql(q{select role from spiderpig.users where name = 'root'})->[0]{role}, 'admin', 'as admin');
is($alice->get('/admin')->{status}, 403, 'alice cannot open /admin');
$r = $root->get('/admin');
is($r->{status}, 200, 'root opens /admin');
$r = $root->post_form('/admin/ban', { csrf => SP::Login::csrf_of($r->{content}),
    name => 'alice', reason => 'test', confirm => 1 });
is($r->{status}, 303, 'root bans alice') or diag $r->{content};

is($alice->get('/')->{status}, 401, "alice's session is refused at once");
is($s->api(GET => '/api/v1/queue', token => $tok)->{status}, 401, "and so is her token");
$r = $alice->get('/tokens', { headers => { Accept => 'text/html' } });
is($r->{status}, 303, 'a browser asking for HTML is sent to the login page');
like($r->{headers}{location} // '', qr{/login\?return_to=/tokens$}, 'with return_to');
my $cb = SP::Login->new($s)->login('alice');
is($cb->{status}, 403, 'a banned user cannot sign in again');
done_testing;
