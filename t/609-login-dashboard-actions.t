#!/usr/bin/perl
# The dashboard's buttons drive a deployment like the API does: queue
# patches, answer its prompts, ask for a rollback, cancel a queued one; a
# refused action is shown as an error page and changes nothing.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Login;

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $ok = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(oidc => 1,
    stages => { map({ $_ => [$ok, 'ok'] } qw(merge sync_test smoke_test)),
                sync_test_rollback => [$ok, 'ok'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 });

my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
my $post = sub {
    my ($path, $fields) = @_;
    my $csrf = SP::Login::csrf_of($b->get('/')->{content});
    return $b->post_form($path, { csrf => $csrf, %$fields });
};
my $state = sub { $s->sql('select state from spiderpig.deployments where id=$1', $_[0])->[0]{state} };

my $r = $post->('/ui/deployments', { patches => '4242 https://gerrit.example.org/r/c/core/+/4343' });
is($r->{status}, 303, 'patches queued from the form');
my $d = $s->sql(q{select * from spiderpig.deployments order by id desc limit 1})->[0];
is_deeply($d->{patches}, ['4242', 'https://gerrit.example.org/r/c/core/+/4343'], 'both patches, in order');
$r = $post->('/ui/deployments', { patches => '1; rm -rf /' });
is($r->{status}, 400, 'a bad patch is refused');
is($s->sql(q{select count(*) as n from spiderpig.deployments})->[0]{n}, 1, 'and nothing is queued');

my $p = $s->wait_for(sub { $s->sql(q{select * from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $d->{id})->[0] }, 20, 'ready prompt');
like($b->get('/')->{content}, qr/\Q$p->{question}\E/, 'the dashboard shows the open prompt');
$r = $post->("/ui/deployments/$d->{id}/answer", { prompt => $p->{id}, answer => 'yes' });
is($r->{status}, 303, 'ready answered from the dashboard');
$s->wait_state($d->{id}, 'awaiting_continue', 30);
pass('the worker ran to the continue prompt');
$r = $post->("/ui/deployments/$d->{id}/answer", { prompt => $p->{id}, answer => 'yes' });
is($r->{status}, 409, 'answering a closed prompt again is a conflict');

$r = $post->("/ui/deployments/$d->{id}/rollback", { reason => 'wrong branch', confirm => 1 });
is($r->{status}, 303, 'rollback asked from the dashboard');
$s->wait_state($d->{id}, 'awaiting_ack', 30);
like($s->sql(q{select rollback_reason from spiderpig.deployments where id=$1}, $d->{id})->[0]{rollback_reason},
    qr/wrong branch/, 'with the reason given');

my $q = $s->sql(q{select id from spiderpig.enqueue('alice', array['777'])})->[0]{id};
$r = $post->("/ui/deployments/$q/cancel", { confirm => 1 });
is($r->{status}, 303, 'a queued deployment cancelled from the dashboard');
is($state->($q), 'cancelled', 'it is cancelled');
$r = $post->("/ui/deployments/$d->{id}/cancel", { confirm => 1 });
is($r->{status}, 409, 'cancelling one that is rolling back is refused');
is($state->($d->{id}), 'awaiting_ack', 'and changes nothing');
done_testing;
