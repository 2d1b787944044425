#!/usr/bin/perl
# The demo deployment script: a deployment that passes every stage leaves
# all three demo servers on its release; one whose canary check fails is
# rolled back, and test and canary serve the release from before.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 1,
    worker => { env => [ map { "SPIDERPIG_CANARY_$_" } 'REQUESTS=3', 'THRESHOLD=1' ] });
my $tok = $s->user('alice', 'deployer');

sub serves {
    my ($server) = @_;
    my $r = $s->api(GET => '/', url => 'http://127.0.0.1:' . $s->port("demo_$server") . '/');
    return $r->{body} =~ m{<h1>release (\w+)</h1>} ? $1 : "(status $r->{status})";
}

sub answer_open_prompt {
    my ($id, $answer) = @_;
    my $p = $s->wait_for(sub {
        $s->sql('select * from spiderpig.prompts where deployment_id = $1 and answered_at is null', $id)->[0];
    }, 20, "a prompt for deployment $id");
    my $r = $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
        json => { prompt => 0 + $p->{id}, answer => $answer // $p->{choices}[0] });
    is($r->{status}, 200, "answered the $p->{kind} prompt") or diag($r->{body});
}

sub deploy {
    my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => [@_] });
    is($r->{status}, 201, "enqueued @_") or diag($r->{body});
    return $r->{json}{id};
}

my $good = deploy('12345');
$s->wait_state($good, 'awaiting_ready', 20);
answer_open_prompt($good, 'yes');
$s->wait_state($good, 'awaiting_continue', 30);
is(serves('test'), $good, 'after the smoke test the test server serves the new release');
is(serves('canary'), 'r0', 'canary still serves r0');
answer_open_prompt($good, 'yes');
$s->wait_state($good, 'awaiting_finish', 30);
is(serves($_), $good, "$_ serves release $good") for qw(test canary production);
answer_open_prompt($good, 'finish');
$s->wait_state($good, 'done', 20);

# Break the new release before it reaches the canary: without its index
# the canary server answers 403, and the canary check fails.
my $broken = deploy('678');
$s->wait_state($broken, 'awaiting_ready', 20);
answer_open_prompt($broken, 'yes');
$s->wait_state($broken, 'awaiting_continue', 30);
is(serves('test'), $broken, 'the next release reached the test server');
unlink($s->dir . "/demo/releases/$broken/index.html") or die "unlink: $!";
answer_open_prompt($broken, 'yes');
# The failed canary check asks the failure prompt; the deployer rolls back.
$s->wait_state($broken, 'awaiting_failure', 40);
answer_open_prompt($broken, 'rollback');
$s->wait_for(sub {
    my $st = $s->sql('select state from spiderpig.deployments where id = $1', $broken)->[0]{state};
    $st =~ /^(awaiting_ack|rolled_back|rollback_failed)$/ ? $st : 0;
}, 40, "deployment $broken to roll back");
is(serves('test'), $good, 'test is back on the previous release');
is(serves('canary'), $good, 'canary is back on the previous release');
is(serves('production'), $good, 'production never left the previous release');
my $log = join "\n", map { $_->{line} } @{ $s->sql(
    'select line from spiderpig.log_lines where deployment_id = $1 order by seq', $broken) };
like($log, qr/canary: \d+ of 3 requests failed \(threshold 1\)/, 'the log says why the canary check failed');
done_testing;
