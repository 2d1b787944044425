#!/usr/bin/perl
# 500 WebSockets at once through nginx, all watching one deployment: each
# one receives the line committed after they all subscribed. The line is
# read from the database once for them all (one stream_log call per page
# and class, counted in the daemon's statement log).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use SP::Stack;
use SP::Stream;

my $N = 500;
# The handshakes come from one address faster than the API's burst allows.
my $s = SP::Stack->new(workers => 0, stream => 1,
    env => { SPIDERPIG_API_BURST => 2000 });
my $st = SP::Stream->new($s);
my $tok = $s->user('alice');
my $id = $st->deployment('alice');
$st->add_lines($id, 1, 5);

# Every statement of the daemon's role goes to log/postgres.log, so the
# reads the line causes can be counted (the daemon reconnects to pick it up).
$s->sql(q{alter role spiderpig_stream set log_statement = 'all'});
$s->stack('stop', 'stream');
$s->stack('start', 'stream');
my $c = $st->spawn('many.js', $st->opts(token => $tok, deployment => $id,
    after => 5, seq => 6, clients => $N, concurrency => 50, ms => 15000));
$st->wait_line($c, 'READY', 60);
my $pglog = $s->log_path('postgres');
my $offset = -s $pglog;
$st->add_lines($id, 6, 6, text => sub { 'the line all 500 wait for' });
$st->say_to($c, sprintf('GO %.3f', time * 1000));
my $r = $st->result($c, 60);
diag("opened $r->{opened}, subscribed $r->{subscribed}, received $r->{received}, refused $r->{nrefused}");
is($r->{opened}, $N, "$N sockets opened") or diag(explain($r->{refused}));
is($r->{subscribed}, $N, 'all subscribed');
is($r->{received}, $N, 'every socket received the line');
my @ms = sort { $a <=> $b } @{ $r->{ms} };
diag(sprintf('commit -> received: p50 %.0f ms, p99 %.0f ms, max %.0f ms',
    $ms[int($#ms * 0.5)], $ms[int($#ms * 0.99)], $ms[-1])) if @ms;
open(my $fh, '<', $pglog) or die "$pglog: $!";
seek($fh, $offset, 0);
my $reads = grep { /spiderpig_stream\@.*stream_log\(/ } <$fh>;
close $fh;
diag("stream_log calls for the line: $reads");
ok($reads >= 1 && $reads <= 2,
    'the line was read once for all sockets (one call per class), not once per socket');
done_testing;
