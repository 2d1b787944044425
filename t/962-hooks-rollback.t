#!/usr/bin/perl
# A rollback is announced: "no" at the continue prompt rolls the deployment
# back; the receiver hears rolled_back (with the reason and whether every
# stage rolled back), then the ack prompt, then finished in state
# rolled_back.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;
use SP::Flow qw(walk_stages open_prompt);

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 100, backoff_max_ms => 1000 });
my $r = SP::Hooks->new(secret => $s->hooks_secret, port => $port);

$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select (spiderpig.enqueue('alice', array['777'])).id})->[0]{id};
$s->sql('select spiderpig.offer_next()');
my $answer = sub {
    $s->sql('select spiderpig.answer($1, $2, $3, $4)', 'alice', $id,
        open_prompt($s, $id)->{id}, $_[0]);
};
$answer->('yes');
is(walk_stages($s, $id, 'w1'), 'awaiting_continue', 'to the continue prompt');
$answer->('no');
is(walk_stages($s, $id, 'w1'), 'awaiting_ack', 'rolled back, waiting for the ack');
$answer->('ack');

my $req = $r->wait_for(sub { grep { ($_->{event} // '') eq 'finished' } @_ },
    30, 'the finished event');
my @seen = map { $_->{event} eq 'prompt' ? "prompt:$_->{json}{prompt}{kind}" : $_->{event} } @$req;
is_deeply(\@seen, [qw(prompt:ready started prompt:continue rolled_back prompt:ack finished)],
    'the events, in order') or diag explain \@seen;
my ($rb) = grep { $_->{event} eq 'rolled_back' } @$req;
ok($rb->{valid}, 'rolled_back is signed');
is($rb->{json}{deployment}, $id, 'names the deployment');
is($rb->{json}{ok}, JSON::PP::true, 'every stage rolled back');
ok(defined $rb->{json}{reason} && length $rb->{json}{reason}, 'with the reason')
    or diag explain $rb->{json};
is($rb->{json}{state}, 'awaiting_ack', 'the state after the rollback');
is($req->[-1]{json}{state}, 'rolled_back', 'finished: rolled_back');
done_testing;
