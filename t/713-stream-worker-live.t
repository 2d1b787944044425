#!/usr/bin/perl
# End to end with a real worker: a deployer watching her deployment from
# the moment it is queued sees it offered, runs through its stages to the
# continue prompt, and receives every line the stages printed (20000 of
# the merge alone, in batches announced by the worker's NOTIFY
# spiderpig_log) exactly once, in order, with the masked lines hidden.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;
use Time::HiRes qw(sleep);

my $N = 20_000;
my $flood = SP::Stack->repo . '/t/bin/worker-flood.sh';
my $stage = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(workers => 1, stream => 1,
    stages => { merge => [$flood, "$N"], sync_test => [$stage, 'ok'],
                smoke_test => [$stage, 'ok'] },
    worker => { poll_interval => 1 });
my $st = SP::Stream->new($s);
my $tok = $s->user('alice');
my $id = $st->deployment('alice');

my $c = $st->spawn('events.js', $st->opts(token => $tok, deployment => $id, ms => 60000));
$st->wait_line($c, 'READY', 20);
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id = $1
        and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1, $2, $3, $4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_state($id, 'awaiting_continue', 60);
# The worker's log writer may commit the last lines after the state: wait
# until the log stops growing.
my ($max, $prev) = (0, -1);
$s->wait_for(sub {
    ($prev, $max) = ($max, $s->sql(q{select max(seq) as m from spiderpig.log_lines
        where deployment_id = $1}, $id)->[0]{m});
    return 0 if $max != $prev;
    sleep 0.5;
    $s->sql(q{select max(seq) as m from spiderpig.log_lines where deployment_id = $1},
        $id)->[0]{m} == $max;
}, 20, 'the log to stop growing');
$st->say_to($c, "UNTIL $max");
my @f = @{ $st->result($c, 60)->{frames} };

my @seqs;
for my $l (map { @{ $_->{lines} } } grep { $_->{type} eq 'lines' } @f) {
    push @seqs, $l->{seq} .. ($l->{last_seq} // $l->{seq});
}
ok($max > $N, "the stages wrote $max lines");
is_deeply(\@seqs, [1 .. $max], 'the watcher got every line once, in order')
    or diag('got ' . scalar(@seqs) . ' seqs, first ' . join(' ', @seqs[0 .. 9])
        . ', last ' . join(' ', @seqs[-5 .. -1]));
my $all = join "\n", map { $_->{text} } map { @{ $_->{lines} } } grep { $_->{type} eq 'lines' } @f;
unlike($all, qr/s3cr3t/, 'no masked line reached her without reveal');
like($all, qr/<sensitive information hidden>/, '... they are placeholders');
my @states = map { $_->{deployment}{state} } grep { $_->{type} eq 'deployment' } @f;
ok((grep { $_ eq 'awaiting_ready' } @states), 'she saw the ready prompt come');
ok((grep { $_ eq 'merging' } @states), '... the merge start');
my ($cont) = grep { $_->{type} eq 'deployment' && $_->{deployment}{state} eq 'awaiting_continue' } @f;
is($cont && $cont->{deployment}{prompt}{kind}, 'continue', '... and the continue prompt');
done_testing;
