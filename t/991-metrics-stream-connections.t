#!/usr/bin/perl
# GET /metrics shows the stream daemon's open WebSocket connections:
# N sockets opened through nginx make spiderpig_stream_connections say N
# for the daemon's instance ("<host>:<socket>"), and closing them brings it
# back to 0. The daemon reports through spiderpig.stream_report (sql/020),
# the one function besides its reads that its role may call; an instance
# silent for a minute is left out, and a daemon that stops says 0 on its
# way out. Bounded polling, no timing asserted.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $N = 5;
my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my $adm = $s->user('ada', 'admin');
my $tok = $s->user('alice');

# The gauge's samples: instance => value.
my $typed;
sub gauge {
    my $r = $s->api(GET => '/metrics', token => $adm);
    die "GET /metrics: $r->{status}\n" unless $r->{status} == 200;
    my %g;
    $g{$1} = $2 while $r->{body} =~ /^spiderpig_stream_connections\{stream="([^"]*)"\} (\S+)$/mg;
    like($r->{body}, qr/^# TYPE spiderpig_stream_connections gauge$/m, 'a gauge')
        unless $typed++;
    return \%g;
}

my $g = $s->wait_for(sub { my $g = gauge(); %$g ? $g : undef }, 30,
    'the daemon to report at all');
is(scalar(keys %$g), 1, 'one stream daemon reports');
my ($inst) = keys %$g;
like($inst, qr{:\Q${\ $s->dir}\E/run/stream/stream\.sock$}, "its instance is host:socket ($inst)");
is($g->{$inst}, 0, 'with no sockets open');

my $c = $st->spawn('closes.js', $st->opts(
    sockets => [ map { { name => "s$_", token => $tok } } 1 .. $N ],
    expect_closed => [], ms => 100));
$st->wait_line($c, 'READY', 20);
$s->wait_for(sub { (gauge()->{$inst} // -1) == $N }, 30, "the gauge to say $N");
pass("$N sockets open: the gauge says $N");

$st->say_to($c, 'GO');    # the client closes its sockets and exits
$st->result($c, 30);
$s->wait_for(sub { (gauge()->{$inst} // -1) == 0 }, 30, 'the gauge to drop to 0');
pass('closed: the gauge says 0');

# Stopped with sockets open, the daemon's last report is 0.
$c = $st->spawn('closes.js', $st->opts(
    sockets => [ map { { name => "s$_", token => $tok } } 1 .. $N ],
    expect_closed => [], ms => 100));
$st->wait_line($c, 'READY', 20);
$s->wait_for(sub { (gauge()->{$inst} // -1) == $N }, 30, "the gauge to say $N again");
$s->stack('stop', 'stream');
is(gauge()->{$inst}, 0, 'a daemon that stops with sockets open reports 0 on its way out');
$st->say_to($c, 'GO');
$st->result($c, 30);

# Another daemon's row, not renewed for two minutes, is left out; a fresh
# one is shown next to ours.
$s->sql(q{insert into spiderpig.stream_instances (instance, host, pid, connections, updated_at)
    values ('gone:/run/x.sock', 'gone', 1, 7, now() - interval '2 minutes'),
           ('other:/run/y.sock', 'other', 2, 3, now())});
$g = gauge();
ok(!exists $g->{'gone:/run/x.sock'}, 'an instance silent for two minutes is left out');
is($g->{'other:/run/y.sock'}, 3, 'another live instance is shown with its own count');

# The stream role: stream_report and its reads, nothing more (among the
# SECURITY DEFINER functions, the ones that reach past its own rights).
my $fns = $s->sql(q{select p.proname from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'spiderpig' and p.prosecdef
      and has_function_privilege('spiderpig_stream', p.oid, 'EXECUTE')
    order by 1});
is(join(' ', map { $_->{proname} } @$fns),
    'stream_deployment stream_log stream_overview stream_report stream_watch',
    'spiderpig_stream may execute its four reads and stream_report only');
done_testing;
