#!/usr/bin/perl
# A whole deployment (the API, a worker running the demo stages) announces
# itself to the webhook receiver: the ready prompt, started, the continue
# and finish prompts, finished; in that order, each signed with the shared secret over "<timestamp>.<body>",
# with its event and delivery id in the headers and the deployment in the
# JSON body; every outbox row ends delivered.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;
use SP::Deploy qw(enqueue answer wait_any);

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 1, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 100,
    backoff_max_ms => 1000, link_base => 'https://deploy.example.org/' });
my $r = SP::Hooks->new(secret => $s->hooks_secret, port => $port);

my $tok = $s->user('alice');
my $id = enqueue($s, $tok, '123', '456');
is(answer($s, $tok, $id, 'yes'), 'ready', 'ready: yes');
is(answer($s, $tok, $id, 'yes', 60), 'continue', 'continue: yes');
is(answer($s, $tok, $id, 'finish', 60), 'finish', 'finish');
is(wait_any($s, $id, qr/^done$/, 30), 'done', 'done');

my $req = $r->wait_for(sub { grep { ($_->{event} // '') eq 'finished' } @_ },
    30, 'the finished event');
my @seen = map { $_->{event} eq 'prompt' ? "prompt:$_->{json}{prompt}{kind}" : $_->{event} } @$req;
is_deeply(\@seen, [qw(prompt:ready started prompt:continue prompt:finish finished)],
    'the events, in order') or diag explain \@seen;

my $secret = $s->hooks_secret;
for my $q (@$req) {
    ok($q->{valid}, "$q->{event}: the signature verifies");
    ok(SP::Hooks::verify($secret, $q->{timestamp}, $q->{body}, $q->{signature}),
        "$q->{event}: HMAC-SHA256 over timestamp.body");
    like($q->{line}, qr{^POST /hook HTTP/1\.1$}, "$q->{event}: a POST to the url's path");
    like($q->{content_type}, qr{^application/json}, "$q->{event}: JSON");
    like($q->{timestamp}, qr/^\d{10}$/, "$q->{event}: a Unix time");
    ok(abs($q->{timestamp} - time) < 120, "$q->{event}: about now");
    is($q->{json}{event}, $q->{event}, "$q->{event}: the body names the event");
    is($q->{json}{delivery}, $q->{delivery}, "$q->{event}: the body carries the delivery id");
    is($q->{json}{deployment}, $id, "$q->{event}: the deployment");
    is($q->{json}{user}, 'alice', "$q->{event}: its user");
    is_deeply($q->{json}{patches}, ['123', '456'], "$q->{event}: its patches");
    is($q->{json}{url}, "https://deploy.example.org/deployments/$id", "$q->{event}: the link");
    like($q->{json}{at}, qr/^\d{4}-\d\d-\d\dT/, "$q->{event}: the time");
}
my %ids;
$ids{ $_->{delivery} }++ for @$req;
is(scalar keys %ids, scalar @$req, 'each delivery id once');
is($req->[1]{json}{state}, 'merging', 'started: in the first stage');
is($req->[4]{json}{state}, 'done', 'finished: done');
like($req->[0]{json}{prompt}{question}, qr{^Ready to deploy 123, 456\?}, 'the prompt\'s question')
    or diag explain $req->[0]{json};
is_deeply($req->[0]{json}{prompt}{choices}, ['yes', 'no'], 'and its choices');

$s->wait_for(sub {
    $s->sql(q{select count(*) as n from spiderpig.hook_deliveries where status <> 'delivered'})->[0]{n} == 0
}, 10, 'the outbox to be delivered');
my $rows = $s->sql(q{select status, attempts, delivered_at is not null as d from spiderpig.hook_deliveries order by outbox_id});
is(scalar @$rows, 5, 'five deliveries');
ok(!(grep { $_->{status} ne 'delivered' || $_->{attempts} != 1 || !$_->{d} } @$rows),
    'all delivered at the first attempt');
like(join('', map { $_ } do { open(my $fh, '<', $s->log_path('hooks')) or die; <$fh> }),
    qr/delivered id=\d+ event=finished attempt=1/, 'one log line per delivery');
done_testing;
