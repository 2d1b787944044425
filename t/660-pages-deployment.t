#!/usr/bin/perl
# The deployment page (/deployments/{id}) in HTML while the API route stays
# JSON: patches as links, each stage with status, start and duration, the
# open prompt's buttons only for those who may answer, with its deadline,
# rollback only where the state allows it, the log drawn for a page without
# JavaScript (colours stripped, text escaped), sensitive runs collapsed
# with "show" for the requester only; every value escaped; the page head
# has a viewport and our script under a strict CSP.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $s = SP::Stack->new(oidc => 1, workers => 0);
my $alice = SP::Login->new($s);
$alice->login('alice');
is($alice->enrol_totp->{status}, 303, 'alice signs in');
my $root = SP::Login->new($s);
$root->login('root');
is($root->enrol_totp->{status}, 303, 'root signs in');
$s->user('bob', 'deployer');

my $id = $s->sql(q{select (spiderpig.enqueue('alice', array['12345', 'https://gerrit.example.org/r/c/core/+/678'],
    '<script>alert(1)</script>')).id})->[0]{id};
my $html = { Accept => 'text/html' };

my $r = $alice->get("/deployments/$id", { headers => $html });
is($r->{status}, 200, 'the deployment page answers 200');
like($r->{headers}{'content-type'}, qr{^text/html}, 'as HTML');
my $csp = $r->{headers}{'content-security-policy'};
like($csp, qr/script-src 'self'/, "CSP: scripts from our origin only ($csp)");
like($csp, qr/connect-src 'self'/, 'CSP: connections to our origin only');
unlike($csp, qr/unsafe-inline/, 'CSP: nothing inline');
my $c = $r->{content};
like($c, qr/<meta name="viewport" content="width=device-width/, 'a viewport tag');
like($c, qr{<script src="/static/spiderpig.js" defer></script>}, 'our script, from static/');
unlike($c, qr/<script>alert/, 'the note is escaped');
like($c, qr/&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'and shown as text');
like($c, qr{<a rel="noreferrer" href="https://gerrit.wikimedia.org/r/c/12345">12345</a>}, 'a change number links to its change');
like($c, qr{href="https://gerrit.example.org/r/c/core/\+/678"}, 'a change URL links to itself');
like($c, qr{<th scope="row">Merge</th><td><span class="status status-pending">pending}, 'stages listed with their status');
unlike($c, qr/Roll back deployment/, 'no rollback while queued');
like($c, qr/Cancel deployment $id/, 'cancel while queued, named by its deployment');
like($c, qr/<time datetime="[0-9-]+T[0-9:.]+\+00:00">/, 'times in UTC ISO inside <time datetime>');

$r = $alice->get("/api/v1/deployments/$id", { headers => { Accept => 'application/json' } });
like($r->{headers}{'content-type'}, qr{^application/json}, 'the API route stays JSON');

# Offered: the ready prompt, with buttons for alice and root, not bob.
$s->sql('select spiderpig.offer_next()');
$c = $alice->get("/deployments/$id", { headers => $html })->{content};
like($c, qr/Waiting for an answer/, 'the open prompt is shown');
like($c, qr/<time class="countdown" datetime="[^"]+">/, 'with its deadline');
like($c, qr/aria-label="Yes: answer yes for deployment $id"/, 'its buttons have names that say what they do');
# bob has no provider account: read the page as root instead, and check
# what a viewer who may not answer sees through the SQL read.
my $view = $s->sql(q{select spiderpig.deployment_page('bob', $1)::jsonb->>'may_answer' as m,
    spiderpig.deployment_page('bob', $1)::jsonb->>'may_rollback' as rb}, $id)->[0];
is($view->{m}, 'false', 'bob may not answer alice\'s prompt');
like($root->get("/deployments/$id", { headers => $html })->{content}, qr/answer yes for deployment $id/,
    'an admin may');

# Into the pipeline: rollback offered; the log drawn, escaped, colours gone.
$s->sql(q{update spiderpig.prompts set answered_at = now(), answer = 'yes', answered_by = 'alice' where deployment_id = $1}, $id);
$s->sql(q{update spiderpig.deployments set state = 'merging', started_at = now() - interval '75 seconds' where id = $1}, $id);
$s->sql(q{insert into spiderpig.events (actor, deployment_id, action, details) values ('w1', $1, 'stage_started', '{"stage":"merge"}')}, $id);
$s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, sensitive, line) values
    ($1, 1, 'stdout', false, E'\x1b[32mgreen <b>bold</b>\x1b[0m plain'),
    ($1, 2, 'stdout', true, 'password=hunter2'),
    ($1, 3, 'stdout', false, 'after')}, $id);
$r = $alice->get("/deployments/$id", { headers => $html });
$c = $r->{content};
like($c, qr/Roll back deployment $id/, 'rollback offered in the pipeline');
unlike($c, qr/Cancel deployment $id/, 'cancel no longer');
like($c, qr/<span class="line">green &lt;b&gt;bold&lt;\/b&gt; plain<\/span>/, 'a log line: colours stripped, escaped');
unlike($c, qr/hunter2/, 'a sensitive line is not shown');
like($c, qr/sensitive information hidden/, 'its run is collapsed');
like($c, qr/href="\?sensitive=1">Show them/, 'with "show" for the requester');
like($c, qr/status-running">running/, 'the running stage');
like($c, qr/class="duration" data-seconds="\d+" data-running="1">/, 'durations, marked running');
like($alice->get("/deployments/$id?sensitive=1", { headers => $html })->{content}, qr/password=hunter2/,
    'the requester may show the sensitive lines');


# The canary check's samples (the table of sql/012 when it is there; the
# same columns made here when it is not yet).
$s->sql(q{create table if not exists spiderpig.canary_samples (deployment_id bigint not null references spiderpig.deployments (id),
    seq integer not null, at timestamptz not null default now(), elapsed double precision not null, judge text not null,
    canary_errors double precision, canary_requests double precision, control_errors double precision,
    control_requests double precision, statistic double precision, verdict text not null, primary key (deployment_id, seq))});
$s->sql(q{alter table spiderpig.canary_samples owner to spiderpig_owner});
like($alice->get("/deployments/$id")->{content}, qr/No error-rate samples recorded/, 'no samples: the chart says so');
$s->sql(q{insert into spiderpig.canary_samples (deployment_id, seq, elapsed, judge, canary_errors, canary_requests,
    control_errors, control_requests, verdict) select $1, g, g * 10, 'threshold', g, 1000, 2, 1000, 'pass'
    from generate_series(1, 5) g}, $id);
$c = $alice->get("/deployments/$id")->{content};
like($c, qr{<table id="error-samples">}, 'samples: a table of them (without JavaScript)');
like($c, qr{<td data-value="50.0">50.0</td><td data-value="0.50">0.50 %</td><td data-value="0.20">0.20 %</td><td>pass</td>},
    'each with its time, rates and verdict');
like($c, qr{<script src="/static/vendor/uPlot.iife.min.js" defer></script>}, 'and uPlot, served locally, to draw them');

$r = $alice->get('/deployments/999999', { headers => $html });
is($r->{status}, 404, 'no such deployment: 404');
like($r->{headers}{'content-type'}, qr{^text/html}, 'as a page');
done_testing;
