#!/usr/bin/perl
# Each committed log batch is announced once on the channel spiderpig_log
# with {"deployment": id, "seq": last seq}, in the COPY's transaction: a
# listener never hears of a seq before its rows can be read, and a chatty
# stage gives far fewer notifications than lines.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use DBI;
use JSON::PP;
use SP::Stack;

my $N = 50_000;
my $flood = SP::Stack->repo . '/t/bin/worker-flood.sh';
my $stage = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { merge => [$flood, "$N"], merge_timeout => 120,
                sync_test => [$stage, 'ok'], smoke_test => [$stage, 'ok', '1'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5 },
);

(my $dsn = $s->conninfo) =~ s/ /;/g;
my $l = DBI->connect("dbi:Pg:$dsn", '', '', { RaiseError => 1, PrintError => 0,
    AutoCommit => 1 }) or die $DBI::errstr;
$l->do('LISTEN spiderpig_log');

$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');

# Collect notifications until the deployment waits at the continue prompt
# and nothing new was heard for a second. Each one is checked on arrival:
# its rows (seq 1 .. S, numbered without gaps) must already be readable.
my (@notes, $bad_json, $early, $quiet_since);
my $end = time + 90;
while (time < $end) {
    my $heard = 0;
    while (my $n = $l->pg_notifies) {
        my ($chan, undef, $payload) = @$n;
        my $j = eval { decode_json($payload) };
        if (!$j || $chan ne 'spiderpig_log' || !defined $j->{seq}) {
            $bad_json++;
            next;
        }
        $heard = 1;
        next if $j->{deployment} != $id;
        my $c = $s->sql(q{select count(*) as n from spiderpig.log_lines
                          where deployment_id=$1 and seq <= $2}, $id, $j->{seq})->[0]{n};
        $early++, diag("seq $j->{seq} notified, $c rows readable") if $c != $j->{seq};
        push @notes, $j;
    }
    $quiet_since = time if $heard || !defined $quiet_since;
    last if time - $quiet_since > 1.5 && $s->sql(q{select state from spiderpig.deployments
        where id=$1}, $id)->[0]{state} eq 'awaiting_continue';
    sleep 0.05;
}

ok(!$bad_json, 'every payload is JSON with a deployment and a seq');
ok(scalar @notes, scalar(@notes) . ' notifications for the deployment');
ok(!$early, 'no seq is announced before its rows are committed');
my @seqs = map { $_->{seq} } @notes;
is_deeply([@seqs], [sort { $a <=> $b } @seqs], 'seqs only grow');
# Rows stored by one transaction share its xmin: each batch's last seq is
# exactly one notified seq, and nothing else is notified.
my $batches = $s->sql(q{select max(seq) as last from spiderpig.log_lines where deployment_id=$1
                        group by xmin::text order by 1}, $id);
is_deeply(\@seqs, [map { $_->{last} } @$batches],
    'one notification per committed batch, naming its last seq (' . scalar(@$batches) . ' batches)');
my $max = $s->sql(q{select max(seq) as m, count(*) as n from spiderpig.log_lines
                    where deployment_id=$1}, $id)->[0];
is($seqs[-1], $max->{m}, "the last notification names the last seq committed ($max->{m})");
cmp_ok(scalar @notes, "<", $N / 100,
    "far fewer notifications than lines ($max->{n} lines, " . scalar(@notes) . ' notifications)');
$l->disconnect;
done_testing;
