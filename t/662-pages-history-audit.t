#!/usr/bin/perl
# The history page (/deployments): filters by user, state and date kept in
# the form, newest first, pages by the keyset cursor with the filters kept,
# each entry with its outcome, duration and link; a bad filter is shown
# next to its field. The audit page (/admin/audit) lists events with who,
# what, when and the address, for admins only.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(oidc => 1, workers => 0, settings => { max_queued_per_user => 100 });
my $alice = SP::Login->new($s);
$alice->login('alice');
is($alice->enrol_totp->{status}, 303, 'alice signs in');
$s->user('bob', 'deployer');
my @ids = map { $s->sql(q{select (spiderpig.enqueue($1, array[$2])).id}, $_ % 2 ? 'bob' : 'alice', 1000 + $_)->[0]{id} } 1 .. 60;
$s->sql(q{select spiderpig.cancel('bob', $1)}, $ids[0]);
$s->sql(q{update spiderpig.deployments set state = 'done', started_at = created_at,
    finished_at = created_at + interval '125 seconds', position = null where id = $1}, $ids[-1]);

my $r = $alice->get('/deployments');
is($r->{status}, 200, 'the history page');
my @rows = $r->{content} =~ m{<tr><td><a href="/deployments/(\d+)">}g;
is(scalar @rows, 50, 'fifty to a page');
is($rows[0], $ids[-1], 'newest first');
like($r->{content}, qr{<a href="/deployments\?before=(\d+)" rel="next">Older deployments</a>}, 'a link to the older ones');
my ($before) = $r->{content} =~ /before=(\d+)/;
my @more = $alice->get("/deployments?before=$before")->{content} =~ m{<tr><td><a href="/deployments/(\d+)">}g;
is_deeply([sort { $a <=> $b } (@rows, @more)], [sort { $a <=> $b } @ids], 'the next page has the rest, none twice');

$r = $alice->get('/deployments?user=bob&state=');
@rows = $r->{content} =~ m{<tr><td><a href="/deployments/(\d+)">}g;
is(scalar @rows, 30, 'filtered by user');
like($r->{content}, qr/<input name="user" maxlength="128" value="bob">/, 'the filter is kept in the form');
$r = $alice->get('/deployments?state=done');
like($r->{content}, qr{<option value="done" selected>Done</option>}, 'the state select keeps its choice');
like($r->{content}, qr{<a href="/deployments/$ids[-1]">#$ids[-1]</a></td><td><span class="state" title="done">Done</span></td><td>done</td>},
    'the outcome of a finished one');
like($r->{content}, qr{<span class="duration" data-seconds="125">2m 05s</span>}, 'and its duration');
$r = $alice->get('/deployments?state=cancelled');
like($r->{content}, qr{/deployments/$ids[0]}, 'filtered by state');
my $today = $s->sql(q{select to_char(now() at time zone 'UTC', 'YYYY-MM-DD') as d})->[0]{d};
@rows = $alice->get("/deployments?from=$today&to=$today")->{content} =~ m{<tr><td><a href="/deployments/(\d+)">}g;
is(scalar @rows, 50, 'filtered by date (today: all of them, paged)');
@rows = $alice->get('/deployments?from=2001-01-01&to=2001-01-02')->{content} =~ m{<tr><td><a href="/deployments/(\d+)">}g;
is(scalar @rows, 0, 'another day: none');
$r = $alice->get("/deployments?user=bob&before=$ids[-1]");
like($r->{content}, qr{href="/deployments\?user=bob&amp;before=\d+"}, 'paging keeps the filters') if
    $r->{content} =~ /Older deployments/;
$r = $alice->get('/deployments?from=yesterday');
is($r->{status}, 400, 'a bad date: 400');
like($r->{content}, qr/<input name="from" maxlength="10" value="yesterday" aria-invalid="true"/, 'shown at its field, kept');

# Audit: admins only.
is($alice->get('/admin/audit', { headers => { Accept => 'text/html' } })->{status}, 403, 'alice may not read the audit');
my $root = SP::Login->new($s);
$root->login('root');
is($root->enrol_totp->{status}, 303, 'root signs in');
my $csrf = SP::Login::csrf_of($root->get('/admin')->{content});
$s->sql(q{select spiderpig.freeze('root', 'x'), spiderpig.unfreeze('root') from generate_series(1, 20)});
is($root->post_form('/admin/freeze', { csrf => $csrf, reason => 'audit me' })->{status}, 303, 'root freezes again');
$r = $root->get('/admin/audit');
is($r->{status}, 200, 'root reads the audit');
like($r->{content}, qr{<tr><td><time datetime="[^"]+">[^<]+</time></td><td>root</td><td>freeze</td><td></td><td>127\.0\.0\.1</td><td><code class="details">\{[^<]*audit me}, 'who, what, when and from where');
like($r->{content}, qr{<td>alice</td><td>enqueued</td><td><a href="/deployments/\d+">}, 'events of deployments link to them');
like($r->{content}, qr{rel="next" href="/admin/audit\?before=\d+">Older events}, 'and pages on');
done_testing;
