#!/usr/bin/perl
# Two receivers, each with its own sender, secret and events filter (a chat
# bot that wants started and finished, an IRC relay that wants the prompts
# too), get their own signed deliveries of the same deployment's events, in
# order. The IRC relay is down while the deployment runs: the chat bot gets
# everything meanwhile, and once the relay comes up it gets all of its
# events, none lost. Each delivery verifies with its receiver's secret
# only.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;
use SP::Deploy qw(enqueue answer wait_any);

my ($chat_port, $irc_port) = SP::Stack::free_ports(2);
my $s = SP::Stack->new(workers => 1, hooks => {
    name => 'chat', url => "http://127.0.0.1:$chat_port/hook",
    events => 'started, finished', backoff_ms => 100, backoff_max_ms => 1000 });
my $irc_secret = 'irc-relay-secret-' . join('', map { int rand 10 } 1 .. 16);
$s->start_hooks(name => 'irc', url => "http://127.0.0.1:$irc_port/hook",
    secret => $irc_secret, events => 'prompt, started, finished',
    backoff_ms => 100, backoff_max_ms => 1000, max_attempts => 1000, timeout => 2);
my $chat_secret = $s->hooks_secret;
is($s->hooks_secret('irc'), $irc_secret, 'the second receiver has its own secret');
isnt($chat_secret, $irc_secret, 'the two secrets differ');
is_deeply([ map { $_->{name} } @{ $s->sql(q{select name from spiderpig.hook_receivers order by name}) } ],
    [qw(chat irc)], 'both receivers registered');
my $status = eval { $s->stack('status') } // $@;
like($status, qr/^hooks-irc running \(\d+\)$/m, 'tools/stack status names the second sender');

# The chat bot is up; the IRC relay is not (nothing listens on its port).
my $chat = SP::Hooks->new(secret => $chat_secret, port => $chat_port);

my $tok = $s->user('alice');
my $id = enqueue($s, $tok, '123');
is(answer($s, $tok, $id, 'yes'), 'ready', 'ready: yes');
is(answer($s, $tok, $id, 'yes', 60), 'continue', 'continue: yes');
is(answer($s, $tok, $id, 'finish', 60), 'finish', 'finish');
is(wait_any($s, $id, qr/^done$/, 30), 'done', 'done');

my $creq = $chat->wait_for(sub { grep { ($_->{event} // '') eq 'finished' } @_ },
    60, 'the chat bot to get the finished event');
is_deeply([ map { $_->{event} } @$creq ], [qw(started finished)],
    'the chat bot got its events, in order, while the relay is down');

# The relay's sender has been trying its oldest row all along, the others
# wait behind it.
$s->wait_for(sub {
    $s->sql(q{select attempts from spiderpig.hook_deliveries where receiver = 'irc' order by outbox_id limit 1})->[0]{attempts} >= 2
}, 30, 'the relay\'s sender to retry');
my $irc_rows = $s->sql(q{select o.event, d.status, d.attempts, d.last_error
    from spiderpig.hook_deliveries d join spiderpig.hook_outbox o on o.id = d.outbox_id
    where d.receiver = 'irc' order by d.outbox_id});
is(scalar @$irc_rows, 5, 'five events for the relay');
ok(!(grep { $_->{status} ne 'pending' } @$irc_rows), 'all still pending for it')
    or diag explain $irc_rows;
like($irc_rows->[0]{last_error}, qr/connect|refused/i, 'its oldest failed to connect');
my $chat_rows = $s->sql(q{select o.event, d.status from spiderpig.hook_deliveries d
    join spiderpig.hook_outbox o on o.id = d.outbox_id where d.receiver = 'chat' order by d.outbox_id});
is_deeply([ map { "$_->{event}:$_->{status}" } @$chat_rows ],
    [qw(prompt:filtered started:delivered prompt:filtered prompt:filtered finished:delivered)],
    'for the chat bot the prompts are filtered, the rest delivered');
my $m = $s->sql(q{select spiderpig.metrics(null) as m})->[0]{m};
like($m, qr/^spiderpig_webhooks\{receiver="irc",status="pending"\} 5$/m,
    '/metrics: the relay has five pending');
like($m, qr/^spiderpig_webhooks\{receiver="chat",status="pending"\} 0$/m,
    '/metrics: the chat bot none');

# The relay comes up and gets all of its events, in order.
my $irc = SP::Hooks->new(secret => $irc_secret, port => $irc_port);
my $ireq = $irc->wait_for(sub { grep { ($_->{event} // '') eq 'finished' } @_ },
    60, 'the relay to get the finished event');
my @seen = map { $_->{event} eq 'prompt' ? "prompt:$_->{json}{prompt}{kind}" : $_->{event} } @$ireq;
is_deeply(\@seen, [qw(prompt:ready started prompt:continue prompt:finish finished)],
    'the relay got its events, in order, none lost') or diag explain \@seen;
my %once;
$once{ $_->{delivery} }++ for @$ireq;
is(scalar keys %once, scalar @$ireq, 'each once');
$s->wait_for(sub {
    $s->sql(q{select count(*) as n from spiderpig.hook_deliveries where status = 'pending'})->[0]{n} == 0
}, 30, 'nothing pending for either receiver');

# The same event went to both, each signed with its receiver's secret only.
my %chat_by = map { $_->{event} => $_ } @$creq;
my %irc_by = map { $_->{event} => $_ } grep { $_->{event} ne 'prompt' } @$ireq;
for my $ev (qw(started finished)) {
    my ($c, $i) = ($chat_by{$ev}, $irc_by{$ev});
    is($c->{delivery}, $i->{delivery}, "$ev: the same announcement to both");
    is($c->{json}{deployment}, $id, "$ev: the deployment");
}
for my $q (@$creq) {
    ok($q->{valid}, "chat $q->{event}: verifies with the chat secret");
    ok(!SP::Hooks::verify($irc_secret, $q->{timestamp}, $q->{body}, $q->{signature}),
        "chat $q->{event}: not with the relay's");
}
for my $q (@$ireq) {
    ok($q->{valid}, "irc $q->{event}: verifies with the relay's secret");
    ok(!SP::Hooks::verify($chat_secret, $q->{timestamp}, $q->{body}, $q->{signature}),
        "irc $q->{event}: not with the chat secret");
}

open(my $fh, '<', $s->log_path('hooks-irc')) or die "hooks-irc.log: $!";
my $log = join '', <$fh>;
like($log, qr/receiver irc: sending to http:\/\/127\.0\.0\.1:$irc_port/, 'the relay\'s sender logs its receiver');
like($log, qr/delivered id=\d+ event=finished attempt=1\b/, 'and its deliveries');
done_testing;
