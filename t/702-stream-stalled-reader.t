#!/usr/bin/perl
# A socket whose reader stops reading is closed once the buffer cap is
# full and it takes nothing more (4008, "too slow"), and it never holds up
# the others: three readers get every line of a 12 MB log burst while it
# sits there (those slower than the burst catch up on their own).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my $tok = $s->user('alice');
my $id = $st->deployment('alice');
my ($lines, $batch) = (3000, 500);
my $text = 'x' x 4000;

my $c = $st->spawn('stalled.js', $st->opts(token => $tok, deployment => $id,
    clients => 3, total => $lines, ms => 30000));
$st->wait_line($c, 'READY', 20);
$st->say_to($c, 'GO');
for (my $seq = 1; $seq <= $lines; $seq += $batch) {
    $st->add_lines($id, $seq, $seq + $batch - 1, text => sub { "$_[0] $text" });
}
$st->wait_line($c, 'READERS_DONE', 60);
# The stalled socket stays stalled until the daemon has given up on it.
my $log = '';
my $closed = eval { $s->wait_for(sub {
    $log = do { local (@ARGV, $/) = $s->log_path('stream'); <> };
    $log =~ /closing alice's socket: 4008/;
}, 15, 'the daemon to close the stalled socket') };
$st->say_to($c, 'RESUME');
my $r = $st->result($c, 90);
note(explain($r));
is($r->{readers_done}, 3, 'the three readers received every line');
my @ms = grep { defined } @{ $r->{readers_ms} };
cmp_ok((sort { $b <=> $a } @ms)[0] // 1e9, '<', 15000,
    'the readers were not held up by the stalled one');
ok(defined $r->{stalled}{code}, 'the stalled socket was closed');
cmp_ok($r->{stalled}{last}, '<', $lines, 'the stalled socket did not get everything');
ok($closed, 'the daemon closed the stalled socket while it was stalled');
$log = do { local (@ARGV, $/) = $s->log_path('stream'); <> };
my @closed = $log =~ /closing alice's socket: (4008 too slow[^\n]*)/g;
is(scalar(@closed), 1, 'the daemon closed one socket as too slow (4008): the stalled one')
    or diag(join("\n", @closed));
ok($r->{stalled}{code} == 4008 || $r->{stalled}{code} == 1006,
    "the client saw close code $r->{stalled}{code} ($r->{stalled}{reason})");
done_testing;
