#!/usr/bin/perl
# The gerrit-merge stage against the Gerrit double: the worker reads each
# change for the ready prompt (project, branch, subject, owner, patchset,
# votes, CI verdict, stored in deployment_changes and read through
# changes_json), approves each with Code-Review +2 as [gerrit] user, polls
# until Gerrit says merged, and goes on. The HTTP password never reaches
# the log. The worker's [gerrit] url sets settings.gerrit_host.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use SP::Stack;
use SP::Gerrit;

my $ok = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $g = SP::Gerrit->new({
    12345 => { scenario => 'mergeable', project => 'mediawiki/core', branch => 'wmf/1.45',
               subject => 'Fix the login form', patchsets => 3 },
    678 => { scenario => 'slow', subject => 'Tune the cache' },
});
my $s = SP::Stack->new(
    nginx => 0,
    stages => { map({ $_ => [$ok, 'ok'] } qw(sync_test smoke_test)), merge_timeout => 60 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
    sections => $g->sections,
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
$s->wait_for(sub { ($s->sql('select gerrit_host from spiderpig.settings')->[0]{gerrit_host} // '') eq $g->host },
    10, 'the worker to set settings.gerrit_host');
pass('the worker set settings.gerrit_host from [gerrit] url');

my $url = 'https://' . $g->host . '/c/mediawiki/core/+/12345';
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', $1)}, [$url, '678'])->[0]{id};
my $p = $s->wait_for(sub {
    my $q = $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
    $q && $q->{question} =~ /Tune the cache/ ? $q : undef;
}, 20, 'the ready prompt to show the fetched changes');
like($p->{question} || "", qr/^Ready to deploy \Q$url\E, 678\? 12345 PS3 mediawiki\/core wmf\/1\.45 "Fix the login form" by Alice Author, mergeable, CR none, Verified \+1; 678 PS1 demo\/app main "Tune the cache"/,
    'the ready question names project, branch, subject, owner, patchset, votes and CI') or diag $p->{question};
my $ch = decode_json($s->sql('select spiderpig.changes_json($1)::text as j', $id)->[0]{j});
is(scalar @$ch, 2, 'changes_json lists both changes');
is_deeply([ map { [ @$_{qw(change patchset project branch subject owner status verified)} ] } @$ch ],
    [ [12345, 3, 'mediawiki/core', 'wmf/1.45', 'Fix the login form', 'Alice Author', 'NEW', 1],
      [678, 1, 'demo/app', 'main', 'Tune the cache', 'Alice Author', 'NEW', 1] ],
    'with what Gerrit said');

my $api = decode_json($s->sql('select spiderpig.deployment_get($1)::text as j', $id)->[0]{j});
is_deeply([ map { $_->{subject} } @{ $api->{changes} } ], ['Fix the login form', 'Tune the cache'],
    'deployment_get (the API and the deployment page) carries the changes');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_state($id, 'awaiting_continue', 40);
pass('merged, then the test servers and smoke tests ran');

my @req = @{ $g->requests };
my @reviews = grep { m{^POST /a/changes/\d+/revisions/[0-9a-f]{40}/review } } @req;
is(scalar @reviews, 2, 'two approvals');
ok(!(grep { !/auth=yes \{"labels":\{"Code-Review":2\}\}$/ } @reviews), 'each with basic auth and Code-Review +2');
ok((grep { m{^GET /a/changes/12345\?o=CURRENT_REVISION&o=ALL_REVISIONS&o=DETAILED_LABELS&o=DETAILED_ACCOUNTS } } @req),
    'the change is read with the documented options');

my $log = join "\n", map { $_->{line} } @{ $s->sql(
    'select line from spiderpig.log_lines where deployment_id=$1 order by seq', $id) };
like($log, qr/approved change 12345 patchset 3 \(Code-Review \+2\)/, 'the approval is logged');
like($log, qr/change 678 is not mergeable|waiting for 1 change to merge/, 'the wait for the slow change is logged');
like($log, qr/change 678 is merged/, 'the merge is logged');
like($log, qr/merged 2 changes/, 'the stage says what it did');
$ch = decode_json($s->sql('select spiderpig.changes_json($1)::text as j', $id)->[0]{j});
is_deeply([ map { $_->{status} } @$ch ], ['MERGED', 'MERGED'], 'deployment_changes says merged');
unlike($log, qr/s3cret/, 'the HTTP password is not in the deployment log');
my $wlog = do { local (@ARGV, $/) = (glob($s->dir . '/log/worker-*.log')); <> // '' };
unlike($wlog, qr/s3cret/, 'nor in the worker log');
done_testing;
