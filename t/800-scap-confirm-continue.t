#!/usr/bin/perl
# scap mode, the good path: after "ready: yes" the worker starts one scap
# command with the patches, a fresh 256-bit SPIDERPIG_IO_KEY, the requester
# and FORCE_COLOR=1, stdin a pipe. scap's confirmation and its continue
# prompt become prompts answered through the API and written back on its
# stdin; its steps move the deployment through the pipeline's states; its
# status, progress and sensitive lines reach the database; exit 0 is done.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use SP::Scap qw(scap_stack);

my $t = scap_stack('deploy');
my $s = $t->stack;
my $id = $t->start('12345', '67890');

my $p = $t->prompt($id);
like($p->{question}, qr/^Backport the changes\?/, 'scap\'s confirmation is a prompt');
is_deeply($p->{choices}, ['n', 'y'], 'its buttons are scap\'s keys, in its order');
is_deeply($p->{labels}, ['No', 'Yes'], 'with scap\'s labels');
is($p->{default_answer}, 'n', 'and scap\'s default');
is($t->deployment($id)->{state}, 'merging', 'the deployment is merging');
$t->answer($id, $p, 'y');

$p = $t->prompt($id);
like($p->{question}, qr/Continue with deployment\?/, 'the continue prompt');
is($p->{default_answer}, 'n', 'defaults to rolling back');
my $d = $t->deployment($id);
is($d->{state}, 'smoke_testing', 'the test servers were synced and checked');
is($d->{status_text}, 'Running httpbb checks on testservers', 'scap\'s status is shown');
is($d->{progress}, 50, 'its progress too');
ok($d->{worker_id}, 'the worker holds the row while scap asks');
my $api = $s->api(GET => "/api/v1/deployments/$id", token => $t->{token})->{json};
is_deeply([@$api{qw(state status_text progress)}],
    ['smoke_testing', 'Running httpbb checks on testservers', 50],
    'the API shows the state, scap\'s status and its progress');
is_deeply([$api->{prompt}{kind}, $api->{prompt}{scap_role}, $api->{prompt}{labels}],
    ['scap', 'continue', ['No, roll back deployment and terminate', 'Yes, continue with deployment']],
    'and the prompt with its role and labels');
$t->answer($id, $p, 'y');

$s->wait_state($id, 'done', 30);
pass('scap exited 0: done');
is_deeply($t->states($id), [qw(syncing_test smoke_testing syncing_canary
    checking_canary syncing_production)], 'through every recognised step in order');
$d = $t->deployment($id);
is($d->{status_text}, undef, 'a null status clears it');
is($d->{progress}, 100, 'progressFinished is 100');
is($d->{worker_id}, undef, 'the row is released');

my $seen = $t->fake_log;
is_deeply([grep { /^(env|patches|stdin|answer)/ } @$seen], [
    'env SPIDERPIG_IO_KEY=hex64', 'env SPIDERPIG_REAL_USER=alice',
    'env FORCE_COLOR=1', 'patches 12345 67890', 'stdin pipe',
    'answer y', 'answer y'], 'scap got its environment, the patches and both answers');

my @log = @{ $t->log_lines($id) };
my ($merged) = grep { $_->{line} eq 'merged' } @log;
ok($merged && !$merged->{sensitive} && $merged->{stream} eq 'stdout', 'a line record is a log line');
my ($tok) = grep { $_->{line} =~ /deploy:/ } @log;
ok($tok && $tok->{sensitive}, 'a sensitive line record is stored sensitive');
ok((grep { $_->{line} eq 'Checking changes 12345 67890' } @log), 'plain output is logged');
ok(!(grep { $_->{line} =~ /iokey/ } @log), 'no record reached the log as it was');
is($s->sql(q{select count(*) as n from spiderpig.prompts where deployment_id = $1
    and kind = 'scap'}, $id)->[0]{n}, 2, 'two scap prompts, no more');
done_testing;
