#!/usr/bin/perl
# A date that matches the pattern but is not on the calendar (30 February,
# 31 April, 29 February of a common year) is refused with 400 naming the
# field, on the API and on the history page, never a 500 from the database.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(workers => 0, oidc => 1,
    settings => { worker_stale_after => undef });
my $tok = $s->user('ada', 'admin');

for my $t ('2026-02-30T00:00:00Z', '2026-04-31T12:00:00Z', '2025-02-29T00:00:00Z') {
    my $r = $s->api(GET => "/api/v1/deployments?since=$t", token => $tok);
    is($r->{status}, 400, "history since=$t: 400");
    is($r->{json}{field}, 'since', 'naming since');
    $r = $s->api(POST => '/api/v1/admin/freeze', token => $tok,
        json => { reason => 'x', until => $t });
    is($r->{status}, 400, "freeze until=$t: 400");
    is($r->{json}{field}, 'until', 'naming until');
}
my $r = $s->api(GET => '/api/v1/deployments?since=2028-02-29T00:00:00Z', token => $tok);
is($r->{status}, 200, 'a leap day is a date');
is($s->sql('select count(*) as n from spiderpig.freezes')->[0]{n}, 0, 'nothing frozen');

my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
for my $d ('2026-02-30', '2026-06-31') {
    my $p = $b->get("/deployments?from=$d");
    is($p->{status}, 400, "history page from=$d: 400");
    like($p->{content}, qr/must be a date/, 'says why');
}
is($b->get('/deployments?from=2028-02-29')->{status}, 200, 'a leap day on the page');
done_testing;
