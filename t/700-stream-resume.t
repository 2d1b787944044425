#!/usr/bin/perl
# A client that loses its socket in the middle of a running log and comes
# back with the last seq it saw gets every line exactly once: the backlog
# written while it was away, then the live ones, in order, no gap, no
# duplicate. Lines are written like the worker writes them, in batches with
# NOTIFY spiderpig_log, while the client is connected, away and back.
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
my $total = 600;

$st->add_lines($id, 1, 50);     # a backlog before the first subscribe
my $c = $st->spawn('resume.js', $st->opts(token => $tok, deployment => $id,
    drop_at => 200, gap_ms => 400, total => $total));
$st->wait_line($c, 'READY', 20);
for (my $seq = 51; $seq <= $total; $seq += 10) {
    $st->add_lines($id, $seq, $seq + 9);
    sleep 0.02;
}
my $r = $st->result($c, 60);
my @seqs = @{ $r->{seqs} };
diag("dropped after seq $r->{dropped_at}; received " . scalar(@seqs) . " seqs");
ok($r->{dropped_at} >= 200 && $r->{dropped_at} < $total,
    'the connection was dropped while lines were still being written');
is_deeply($r->{errors}, [], 'no error frames');
my %n;
$n{$_}++ for @seqs;
my @dup = grep { $n{$_} > 1 } sort { $a <=> $b } keys %n;
my @gap = grep { !$n{$_} } 1 .. $total;
is(scalar(@dup), 0, 'no line twice') or diag("duplicates: @dup[0 .. ($#dup < 9 ? $#dup : 9)]");
is(scalar(@gap), 0, 'no line missing') or diag("missing: @gap[0 .. ($#gap < 9 ? $#gap : 9)]");
is_deeply(\@seqs, [1 .. $total], 'every line once, in order');
done_testing;
