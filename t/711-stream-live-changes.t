#!/usr/bin/perl
# Without a reload, a watching client hears of a freeze and its end, of the
# queue moving (positions) and of the deployment it watches changing state
# and asking its "ready" prompt, each as it is committed.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my %tok = map { $_ => $s->user($_) } qw(alice bob carol);
my $d1 = $st->deployment('alice');
my $d2 = $st->deployment('bob');

my $c = $st->spawn('events.js', $st->opts(token => $tok{carol}, deployment => $d1));
$st->wait_line($c, 'READY', 20);
$s->sql(q{select spiderpig.freeze('root', 'maintenance window')});
sleep 0.3;
$s->sql(q{select spiderpig.unfreeze('root')});
sleep 0.3;
$s->sql(q{select spiderpig.offer_next()});
sleep 0.5;
$st->say_to($c, 'STOP');
my @f = @{ $st->result($c, 20)->{frames} };

my @ov = map { $_->{overview} } grep { $_->{type} eq 'overview' } @f;
ok((grep { $_->{freeze} && $_->{freeze}{reason} eq 'maintenance window' } @ov),
    'the freeze reached the client');
ok(defined $ov[-1] && !defined $ov[-1]{freeze}, '... and so did its end');
my ($first) = @ov;
is_deeply([ map { [ $_->{id}, $_->{position} ] } @{ $first->{queue} } ],
    [ [ $d1, 1 ], [ $d2, 2 ] ], 'the first overview has the queue with positions');
is_deeply([ map { [ $_->{id}, $_->{position} ] } @{ $ov[-1]{queue} } ],
    [ [ $d1, undef ], [ $d2, 1 ] ], "after the offer bob's deployment is first in line");
my @dep = map { $_->{deployment} } grep { $_->{type} eq 'deployment' } @f;
is($dep[0]{state}, 'queued', 'the subscribe answers with the deployment as it is');
my ($ready) = grep { $_->{state} eq 'awaiting_ready' } @dep;
ok($ready, 'the state change reached the watcher');
is($ready && $ready->{prompt} && $ready->{prompt}{kind}, 'ready', '... with its ready prompt');
done_testing;
