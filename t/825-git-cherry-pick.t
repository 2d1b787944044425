#!/usr/bin/perl
# The git-cherry-pick stage against the demo repository (demo/make-repo):
# each change's newest patchset under refs/changes is fetched from [git]
# remote and cherry-picked onto the deploy branch (git through execve, its
# output in the log); a URL naming a patchset pins it; a change that does
# not apply is aborted (the work tree stays clean) and fails the stage with
# the failure prompt.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

# sync_test and smoke_test are the demo's own (demo/stage), which builds the
# release from the work tree, as under make run.
my $s = SP::Stack->new(
    env => { SPIDERPIG_DEMO_GIT => 1 },
    stages => { merge_timeout => 60 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
    sections => { 'stage merge' => { kind => 'git-cherry-pick' } },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $work = $s->dir . '/demo/git/work';
sub git { my $out = `git -c safe.directory='*' -C $work @_ 2>&1`; chomp $out; $out }

sub open_prompt {
    my ($id, $kind) = @_;
    $s->wait_for(sub {
        my $p = $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
        $p && $p->{kind} eq $kind ? $p : undef;
    }, 30, "the $kind prompt of $id");
}
sub answer { $s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $_[0], open_prompt($_[0], $_[1])->{id}, $_[2]) }
sub log_of { join "\n", map { $_->{line} } @{ $s->sql('select line from spiderpig.log_lines where deployment_id=$1 order by seq', $_[0]) } }
# The log, once it has a line matching re (lines are stored in batches).
sub log_with {
    my ($id, $re) = @_;
    $s->wait_for(sub { my $l = log_of($id); $l =~ $re ? $l : undef }, 10, "$re in the log of $id");
}
sub deploy {
    my $id = $s->sql(q{select id from spiderpig.enqueue('alice', $1)}, [@_])->[0]{id};
    answer($id, 'ready', 'yes');
    return $id;
}
# Roll back from the continue prompt and acknowledge, to free the queue.
sub free_queue {
    my ($id) = @_;
    answer($id, 'continue', 'no');
    answer($id, 'ack', 'ack');
    $s->wait_state($id, 'rolled_back', 20);
}

my $head0 = git('rev-parse HEAD');
my $id = deploy('1', '2', 'https://gerrit.example.org/r/c/demo/+/5/1');
$s->wait_state($id, 'awaiting_continue', 60);
pass('three changes cherry-picked, the pipeline went on');
is(git('log --format=%s', "$head0..HEAD"), "Add five.txt\nAdd two.txt\nAdd one.txt", 'on the deploy branch, in order');
is(git('show HEAD~1:two.txt'), 'v2', 'change 2: its newest patchset (2)');
is(git('show HEAD:five.txt'), 'one', 'change 5 pinned to patchset 1');
like(git('log -1 --format=%b HEAD'), qr/cherry picked from commit [0-9a-f]{40}/, 'cherry-picked with -x');
is(git('rev-parse --abbrev-ref HEAD'), 'deploy', 'on branch deploy');
my $log = log_with($id, qr/cherry-picked 3 changes/);
like($log, qr{change 2: refs/changes/02/2/2}, 'the log names each ref');
like($log, qr{change 5: refs/changes/05/5/1}, 'the pinned one too');
like($log, qr/cherry-picked 3 changes onto deploy/, 'and what the stage did');
like(log_with($id, qr/built release $id from/), qr/built release $id from \S+\/demo\/git\/work/,
    'demo/stage built the release from the work tree');
my $page = $s->api(GET => '/', url => 'http://127.0.0.1:' . $s->port('demo_test') . '/');
like($page->{body} // '', qr/<h1>release $id<\/h1>.*Add five\.txt/s, 'the test server serves it');
free_queue($id);

my $head1 = git('rev-parse HEAD');
$id = deploy('3', '4');
$s->wait_state($id, 'awaiting_failure', 60);
my $d = $s->sql('select failure_detail from spiderpig.deployments where id=$1', $id)->[0];
like($d->{failure_detail}, qr{^change 4 \(refs/changes/04/4/1\) does not apply on deploy$}, 'a conflict fails the stage, naming the change');
like(log_with($id, qr/aborting/), qr/does not apply on deploy; aborting the cherry-pick/, 'the log says so');
is(git('status --porcelain'), '', 'the aborted pick left the work tree clean');
is(git('log --format=%s', "$head1..HEAD"), 'Name the release three', 'change 3 is picked, 4 is not');
answer($id, 'failure', 'exit');
$s->wait_state($id, 'abandoned', 10);

# A pick left unfinished (a worker killed mid-stage) is aborted first.
# (as the repositories' owner, the stage user, when we are root)
my $owner = getpwuid((stat $work)[4]);
my @as = $> == 0 && $owner ne 'root' ? ('runuser', '-u', $owner, '--') : ();
system(@as, 'sh', '-c', "cd $work && git fetch -q ../origin.git refs/changes/04/4/1 && "
    . "git -c user.name=x -c user.email=x\@x cherry-pick FETCH_HEAD >/dev/null 2>&1");
ok(-e "$work/.git/CHERRY_PICK_HEAD", 'a conflicting pick is left unfinished');
$id = deploy('6');
$s->wait_state($id, 'awaiting_continue', 60);
like(log_with($id, qr/cherry-picked 1 change/), qr/a cherry-pick was left unfinished: aborting it/, 'the next merge aborts it first');
is(git('log -1 --format=%s'), 'Add six.txt', 'and picks its change');
free_queue($id);

$id = deploy('77');
$s->wait_state($id, 'awaiting_failure', 60);
like($s->sql('select failure_detail from spiderpig.deployments where id=$1', $id)->[0]{failure_detail},
    qr{^change 77 has no patchset on }, 'a change the remote lacks fails the stage');
done_testing;
