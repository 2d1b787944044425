#!/usr/bin/perl
# A receiver that answers 500 is retried, with growing gaps, up to
# max_attempts; then the row is marked failed with the last error, the
# sender logs that it gave up, and /metrics counts it.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 300,
    backoff_max_ms => 5000, max_attempts => 4 });
my $r = SP::Hooks->new(secret => $s->hooks_secret, port => $port, status => 500);

$s->sql(q{select spiderpig.freeze('root', 'flaky receiver')});
$s->wait_for(sub {
    $s->sql(q{select status from spiderpig.hook_deliveries})->[0]{status} eq 'failed'
}, 60, 'the row to be given up');
my $row = $s->sql(q{select d.*, d.outbox_id as id from spiderpig.hook_deliveries d})->[0];
is($row->{attempts}, 4, 'after max_attempts attempts');
like($row->{last_error}, qr/HTTP status 500/, 'the last error is kept');
ok(defined $row->{done_at} && !defined $row->{delivered_at}, 'done, not delivered');

my $req = $r->requests;
is(scalar @$req, 4, 'the receiver saw four attempts');
is(scalar(grep { $_->{delivery} eq $row->{id} } @$req), 4, 'all of the same delivery');
ok(!(grep { !$_->{valid} } @$req), 'each signed');
my @gap = map { $req->[$_ + 1]{at} - $req->[$_]{at} } 0 .. 2;
ok($gap[1] > $gap[0], sprintf('the second gap (%.2f s) is longer than the first (%.2f s)', @gap[1, 0]));
ok($gap[2] > $gap[0], sprintf('the third gap (%.2f s) too', $gap[2]));

open(my $fh, '<', $s->log_path('hooks')) or die;
my $log = join '', <$fh>;
like($log, qr/gave up id=$row->{id} event=freeze attempt=4 error="HTTP status 500"/,
    'the sender logs that it gave up');
like($s->sql(q{select spiderpig.metrics(null) as m})->[0]{m},
    qr/^spiderpig_webhooks\{receiver="default",status="failed"\} 1$/m, '/metrics counts the failed row');
done_testing;
