#!/usr/bin/perl
# Every bad answer from Gerrit fails the gerrit-merge stage with a clear
# log line and the failure prompt (default: roll back), never a pass:
# Code-Review -2, a CI failure, unmergeable twice, a pinned patchset that
# is no longer current, HTTP 500, a malformed body, JSON without the
# ")]}'" line. A new patchset during the merge asks again: "retry"
# approves the new patchset and the merge goes on.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Gerrit;

my $ok = SP::Stack->repo . '/t/bin/worker-stage.sh';
my %changes = (
    101 => { scenario => 'cr_minus2' },
    102 => { scenario => 'ci_fail' },
    103 => { scenario => 'unmergeable' },
    104 => { scenario => 'mergeable', patchsets => 2 },
    105 => { scenario => 'http500' },
    106 => { scenario => 'malformed' },
    107 => { scenario => 'noprefix' },
    108 => { scenario => 'new_patchset' },
);
my $g = SP::Gerrit->new(\%changes);
my $s = SP::Stack->new(
    nginx => 0,
    stages => { map({ $_ => [$ok, 'ok'] } qw(sync_test smoke_test)), merge_timeout => 60 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
    sections => $g->sections,
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $host = $g->host;

sub open_prompt {
    my ($id, $kind) = @_;
    $s->wait_for(sub {
        my $p = $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
        $p && $p->{kind} eq $kind ? $p : undef;
    }, 30, "the $kind prompt of $id");
}
sub answer { $s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $_[0], open_prompt($_[0], $_[1])->{id}, $_[2]) }
sub log_of { join "\n", map { $_->{line} } @{ $s->sql('select line from spiderpig.log_lines where deployment_id=$1 order by seq', $_[0]) } }

# Deploy $patch, fail at merge with $why in the detail and the log.
sub refused {
    my ($patch, $why, $name) = @_;
    my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array[$1])}, $patch)->[0]{id};
    answer($id, 'ready', 'yes');
    $s->wait_state($id, 'awaiting_failure', 40);
    my $d = $s->sql('select failure_detail, failed_state from spiderpig.deployments where id=$1', $id)->[0];
    like($d->{failure_detail}, $why, "$name: the merge fails: $d->{failure_detail}");
    my $p = open_prompt($id, 'failure');
    is($p->{default_answer}, 'rollback', "$name: the failure prompt defaults to roll back");
    ok($s->wait_for(sub { grep { $_ =~ $why } split /\n/, log_of($id) }, 10, "$name in the log"),
        "$name: the log says why");
    answer($id, 'failure', 'exit');
    $s->wait_state($id, 'abandoned', 10);
    return $id;
}

refused('101', qr/^change 101 has Code-Review -2 from Rita Reviewer$/, 'CR -2');
refused('102', qr/^change 102 failed CI \(Verified -1\)$/, 'CI failure');
my $id = refused('103', qr/^change 103 was unmergeable 2 times/, 'unmergeable');
like(log_of($id), qr/change 103 is not mergeable \(1 of 2\).*change 103 is not mergeable \(2 of 2\)/s,
    'unmergeable: both answers are logged');
refused("https://$host/c/demo/app/+/104/1", qr/^change 104 is pinned to patchset 1 but its current patchset is 2/, 'pinned old patchset');
ok(!(grep { m{/changes/104/revisions/.*/review} } @{ $g->requests }), 'pinned old patchset: never approved');
refused('105', qr/^Gerrit: GET \/changes\/105\?\S+: Gerrit answered HTTP 500$/, 'HTTP 500');
refused('106', qr/^Gerrit: GET \/changes\/106: malformed JSON at byte \d+ of the answer$/, 'malformed body');
refused('107', qr/^Gerrit: GET \/changes\/107: answer does not start with Gerrit's \)\]\}' line/, 'no )]}\' line');

$id = $s->sql(q{select id from spiderpig.enqueue('alice', array['108'])})->[0]{id};
answer($id, 'ready', 'yes');
$s->wait_state($id, 'awaiting_failure', 40);
my $p = open_prompt($id, 'failure');
like($p->{question}, qr/^Merge failed: change 108 has a new patchset 2 \(patchset 1 was shown when you said ready\); retry to approve patchset 2\./,
    'a new patchset asks again, naming it');
$g->script({ %changes, 108 => { scenario => 'mergeable' } });
answer($id, 'failure', 'retry');
$s->wait_state($id, 'awaiting_continue', 40);
my @rev = grep { m{^POST /a/changes/108/revisions/} } @{ $g->requests };
is(scalar @rev, 2, 'retry approved again');
isnt((split ' ', $rev[0])[1], (split ' ', $rev[1])[1], 'the second approval is for the new revision');
ok($s->wait_for(sub { log_of($id) =~ /approved change 108 patchset 2 .*change 108 is merged/s }, 10, 'the log'),
    'patchset 2 was approved and merged');
done_testing;
