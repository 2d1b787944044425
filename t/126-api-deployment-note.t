#!/usr/bin/perl
# A deployment carries an optional note from its requester: set by the API
# or the dashboard form, shown by both and by psql, checked the same way
# everywhere (at most 500 characters, no control characters).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1);
my $tok = $s->user('ada', 'deployer');

my $r = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['12345'], note => 'fixes T1234 <for> the "search" team' });
is($r->{status}, 201, 'queued with a note') or diag($r->{body});
is($r->{json}{note}, 'fixes T1234 <for> the "search" team', 'the answer carries it');
my $id = $r->{json}{id};
is($s->api(GET => "/api/v1/deployments/$id", token => $tok)->{json}{note},
    'fixes T1234 <for> the "search" team', 'so does the deployment');
is($s->sql('select note from spiderpig.deployments where id = $1', $id)->[0]{note},
    'fixes T1234 <for> the "search" team', 'and psql');

$r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['777'] });
is($r->{status}, 201, 'the note is optional');
is($r->{json}{note}, undef, 'and null when not given');

for ([ 'x' x 501, qr/note/ ], [ "two\nlines", qr/note/ ]) {
    my ($note, $why) = @$_;
    my $n = $s->sql('select count(*) as n from spiderpig.deployments')->[0]{n};
    $r = $s->api(POST => '/api/v1/deployments', token => $tok,
        json => { patches => ['888'], note => $note });
    is($r->{status}, 400, 'a bad note is refused');
    is($r->{json}{field}, 'note', 'naming the field');
    is($s->sql('select count(*) as n from spiderpig.deployments')->[0]{n}, $n, 'nothing queued');
}

# psql: the three-argument enqueue, with the constraint behind it.
my $d = $s->sql(q{select * from spiderpig.enqueue('root', array['999'], 'from psql')})->[0];
is($d->{note}, 'from psql', 'psql queues with a note');

# The dashboard form has the field, and the page shows the note escaped.
my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
my $page = $b->get('/');
like($page->{content}, qr/name="note"/, 'the deploy form has a note field');
my $csrf = SP::Login::csrf_of($page->{content});
$r = $b->post_form('/ui/deployments', { csrf => $csrf, patches => '4242',
    note => '<b>hotfix</b>' });
is($r->{status}, 303, 'queued from the page');
$page = $b->get('/');
like($page->{content}, qr{&lt;b&gt;hotfix&lt;/b&gt;}, 'the note is shown, escaped');
unlike($page->{content}, qr{<b>hotfix</b>}, 'never as markup');
done_testing;
