#!/usr/bin/perl
# Every page in real headless Chromium (t/browser/pages.js), alice and root
# at once: axe-core finds no serious or critical violation, light and dark;
# no CSP violation; screenshots at 1280 and 390 px, light and dark, kept in
# $SP_SCREENSHOTS (default /tmp/spiderpig-screenshots); the terminal with
# 100000 coloured lines; and the live parts: root sees alice's deployment
# queue, alice answers every prompt by clicking, watches her log, rolls
# back at the finish prompt (after confirming), root freezes and alice's
# banner appears, all without a reload. Skipped only without Chromium.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use SP::Stack;

my $CHROMIUM = $ENV{SP_CHROMIUM} // '/usr/bin/chromium';
plan skip_all => "$CHROMIUM is absent (install the Debian package chromium)" unless -x $CHROMIUM;
my $node = `command -v node 2>/dev/null`;
chomp $node;
ok($node, 'node is installed') or do { done_testing; exit 1 };
ok(-f 't/browser/node_modules/axe-core/axe.min.js', 'axe-core is installed (cd t/browser && npm ci)')
    or do { done_testing; exit 1 };

my $st = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(oidc => 1, stream => 1,
    stages => { (map { ($_ => [$st, "ok", "1"]) } qw(merge sync_test smoke_test sync_canary canary_check sync_production)),
                (map { ("${_}_rollback" => [$st, "ok"]) } qw(sync_test sync_canary sync_production)) },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 });
$s->user('bob', 'deployer');
$s->user('alice', 'deployer');

# A finished deployment of alice's with a long coloured log (and a
# sensitive run), for the terminal and the deployment page.
my $big = $s->sql(q{
    with d as (select (spiderpig.enqueue('alice', array['13579', 'https://gerrit.example.org/r/c/core/+/2468'],
                   'a long log for the terminal')).id)
    select id from d})->[0]{id};
$s->sql(q{update spiderpig.deployments set state = 'done', position = null, started_at = now() - interval '9 minutes',
    finished_at = now() - interval '1 minute' where id = $1}, $big);
my $i = 0;
for my $stage (qw(merge sync_test smoke_test sync_canary canary_check sync_production)) {
    my $at = 9 * 60 - 70 * $i++;
    $s->sql(q{insert into spiderpig.events (at, actor, deployment_id, action, details) values
        (now() - make_interval(secs => $2), 'worker-1', $1, 'stage_started', jsonb_build_object('stage', $3::text)),
        (now() - make_interval(secs => $2 - 60), 'worker-1', $1, 'stage_finished', jsonb_build_object('stage', $3::text, 'ok', true))},
        $big, $at, $stage);
}
$s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, sensitive, line)
    select $1, g, case when g % 7 = 0 then 'stderr' else 'stdout' end, g between 40 and 42,
        case when g between 40 and 42 then 'token=secret-' || g
             else format(E'\x1b[3%sm[%s]\x1b[0m line %s <b>x</b> \x1b[1mbold\x1b[0m done', 1 + g % 3, to_char(g, 'FM000000'), g) end
    from generate_series(1, 100000) g}, $big);


# The canary check's samples (the table of sql/012 when it is there; the
# same columns made here when it is not yet).
$s->sql(q{create table if not exists spiderpig.canary_samples (deployment_id bigint not null references spiderpig.deployments (id),
    seq integer not null, at timestamptz not null default now(), elapsed double precision not null, judge text not null,
    canary_errors double precision, canary_requests double precision, control_errors double precision,
    control_requests double precision, statistic double precision, verdict text not null, primary key (deployment_id, seq))});
$s->sql(q{alter table spiderpig.canary_samples owner to spiderpig_owner});
$s->sql(q{insert into spiderpig.canary_samples (deployment_id, seq, elapsed, judge, canary_errors, canary_requests,
    control_errors, control_requests, verdict) select $1, g, g * 5, 'threshold', 3 + (g % 4) + g / 6.0, 1000,
    2 + (g % 3), 1000, 'pass' from generate_series(1, 24) g}, $big);

my $shots = $ENV{SP_SCREENSHOTS} // '/tmp/spiderpig-screenshots';
my $out = tempdir('spiderpig-browser-XXXXXX', DIR => $ENV{SP_TMPDIR} // '/tmp');
my @cmd = ('timeout', '-k', '5', '420', $node, 't/browser/pages.js', '--base', $s->base_url,
    '--issuer', $s->oidc_issuer, '--shots', $shots, '--out', $out, '--biglog', $big, '--stream', 1, '--timeout', 400);
note("@cmd");
open(my $fh, '-|', @cmd) or die "run node: $!";
my $n = 0;
while (my $line = <$fh>) {
    chomp $line;
    if ($line =~ /^(not )?ok \d+ - (.*)$/) { ok(!$1, "browser: $2"); $n++ }
    elsif ($line =~ /^1\.\./) { }
    elsif ($line =~ /^# ?(.*)$/) { diag($1) }
    else { diag($line) }
}
close $fh;
is($? >> 8, 0, 'pages.js exit status');
ok($n >= 60, "the browser run got through its steps ($n checks)");
my @png = glob("$shots/*.png");
ok(@png >= 40, scalar(@png) . " screenshots in $shots");
is($s->sql(q{select state from spiderpig.deployments where requester = 'alice' and id <> $1 order by id desc limit 1}, $big)->[0]{state},
    'rolled_back', "alice's deployment was rolled back");
if (Test::More->builder->is_passing) { remove_tree($out) } else { diag("browser artifacts kept in $out") }
done_testing;
