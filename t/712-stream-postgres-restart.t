#!/usr/bin/perl
# The daemon survives a database restart: it reconnects, LISTENs again and
# fetches what was committed while it was away (whose NOTIFYs it missed),
# so a watcher still gets every line once, in order, without reconnecting.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep);
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my $tok = $s->user('alice');
my $id = $st->deployment('alice');
$st->add_lines($id, 1, 5);

my $c = $st->spawn('watchers.js', $st->opts(deployment => $id, last_seq => 20,
    ms => 30000, watchers => [ { name => 'alice', token => $tok } ]));
$st->wait_line($c, 'READY', 20);
$s->stop_postgres;
$s->start_postgres;
$st->add_lines($id, 6, 10);     # most likely before the daemon is back
$s->wait_for(sub {
    $s->sql(q{select count(*) as n from pg_stat_activity where usename = 'spiderpig_stream'})->[0]{n};
}, 15, 'the daemon to reconnect');
$st->add_lines($id, 11, 20);    # live again
my $r = $st->result($c, 40);
is_deeply([ map { $_->{seq} } @{ $r->{alice}{lines} } ], [1 .. 20],
    'every line once, in order, across the restart');
is_deeply($r->{alice}{errors}, [], 'no error frames');
my $log = do { local (@ARGV, $/) = $s->log_path('stream'); <> };
like($log, qr/lost the database connection/, 'the daemon saw the connection go');
done_testing;
