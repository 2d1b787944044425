package SP::Fault;
# Helpers for the fault tests (t/92N-t/94N): drive a deployment to its end by
# answering its prompts, and check the invariants every fault must keep:
# never more than one active deployment, never stuck, and no log line the
# worker had committed lost or duplicated.
use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(sleep time);
our @EXPORT_OK = qw(alive open_prompt answer_prompt drive_to_end log_rows
    check_log active_count enqueue_offered rss_kb);

# The answer that moves each prompt on. A failure prompt (branches that
# ask after a failed stage) is answered with its default, a rollback.
my %ANSWER = (ready => 'yes', continue => 'yes', finish => 'finish',
    ack => 'ack', failure => 'rollback');

# 1 while pid runs (a zombie is dead).
sub alive {
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return 0;
    my $st = <$fh> // '';
    return $st !~ /^\d+ \(.*\) Z/;
}

# Resident set size of pid in KiB, or undef when it is gone.
sub rss_kb {
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/status") or return undef;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return undef;
}

sub open_prompt {
    my ($s, $id) = @_;
    return $s->sql(q{select id, kind, default_answer from spiderpig.prompts
        where deployment_id = $1 and answered_at is null}, $id)->[0];
}

# Answer the open prompt of kind (any kind when undef) with answer (the
# test's usual one when undef); waits up to 30 s for it.
sub answer_prompt {
    my ($s, $id, $kind, $answer) = @_;
    my $p = $s->wait_for(sub {
        my $p = open_prompt($s, $id);
        $p && (!defined $kind || $p->{kind} eq $kind) ? $p : undef;
    }, 30, "deployment $id: the " . ($kind // 'next') . ' prompt');
    $s->sql('select spiderpig.answer($1, $2, $3, $4)', 'root', $id, $p->{id},
        $answer // $ANSWER{ $p->{kind} } // $p->{default_answer});
    return $p->{kind};
}

# Active deployments now (the schema allows one; we count anyway).
sub active_count {
    my ($s) = @_;
    return $s->sql(q{select count(*) as n from spiderpig.deployments where state in
        ('awaiting_ready', 'merging', 'syncing_test', 'smoke_testing',
         'awaiting_continue', 'syncing_canary', 'checking_canary',
         'syncing_production', 'awaiting_finish', 'rolling_back',
         'awaiting_ack', 'awaiting_failure')})->[0]{n};
}

# Answer prompts until the deployment ends; returns its final state. Dies
# when it makes no progress (same state, no prompt) for stuck_s seconds or
# takes longer than limit_s in all. Every poll checks that at most one
# deployment is active; the number of violations is in $$two.
sub drive_to_end {
    my ($s, $id, %o) = @_;
    my $limit = time + ($o{limit_s} // 120);
    my $stuck_s = $o{stuck_s} // 30;
    my ($last, $since) = ('', time);
    while (1) {
        my $d = $s->sql('select state from spiderpig.deployments where id = $1', $id)->[0];
        ${ $o{two} }++ if $o{two} && active_count($s) > 1;
        return $d->{state} if $d->{state} =~
            /^(done|rolled_back|rollback_failed|cancelled|expired|abandoned)$/;
        if (my $p = open_prompt($s, $id)) {
            answer_prompt($s, $id, $p->{kind});
            ($last, $since) = ('', time);
            next;
        }
        if ($d->{state} ne $last) {
            ($last, $since) = ($d->{state}, time);
        } elsif (time - $since > $stuck_s) {
            die "deployment $id stuck in $last for $stuck_s s\n";
        }
        die "deployment $id did not end in time (state $d->{state})\n" if time > $limit;
        sleep 0.1;
    }
}

# The log of a deployment as [[seq, stream, line], ...] in seq order.
sub log_rows {
    my ($s, $id) = @_;
    return $s->dbh->selectall_arrayref(q{select seq, stream, line from
        spiderpig.log_lines where deployment_id = $1 order by seq}, undef, $id);
}

# The log after a fault: seq runs 1..n without a gap or a repeat, and every
# line of $before (rows committed before the fault) is still there, the
# same. Returns a list of problems (empty: fine).
sub check_log {
    my ($s, $id, $before) = @_;
    my $rows = log_rows($s, $id);
    my @bad;
    for my $i (0 .. $#$rows) {
        if ($rows->[$i][0] != $i + 1) {
            push @bad, "seq $rows->[$i][0] at position " . ($i + 1);
            last;
        }
    }
    my %now = map { $_->[0] => "$_->[1] $_->[2]" } @$rows;
    for my $r (@{ $before // [] }) {
        my $want = "$r->[1] $r->[2]";
        push @bad, "committed line $r->[0] ($want) is "
            . (defined $now{ $r->[0] } ? "now '$now{ $r->[0] }'" : 'gone')
            unless defined $now{ $r->[0] } && $now{ $r->[0] } eq $want;
    }
    return @bad;
}

# Queue a deployment for alice (made when missing) and wait for its ready
# prompt. Returns its id.
sub enqueue_offered {
    my ($s, @patches) = @_;
    $s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')})
        unless $s->sql(q{select 1 from spiderpig.users where name = 'alice'})->[0];
    my $id = $s->sql(q{select id from spiderpig.enqueue('alice', $1)},
        [@patches ? @patches : ('12345')])->[0]{id};
    $s->wait_for(sub { my $p = open_prompt($s, $id); $p && $p->{kind} eq 'ready' },
        30, "deployment $id: the ready prompt");
    return $id;
}

1;
