package SP::Flow;
# Helpers for the SQL-level tests: call a state-change function and get
# either its row or the SQLSTATE it raised, and walk a deployment through
# the stages the way a worker would.
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(try_sql walk_stages open_prompt);

# ($rows, undef) on success, (undef, "SQLSTATE: message") on error.
sub try_sql {
    my ($s, $sql, @binds) = @_;
    my $dbh = $s->dbh;
    local $dbh->{RaiseError} = 1;
    local $dbh->{PrintError} = 0;
    my $rows = eval { $dbh->selectall_arrayref($sql, { Slice => {} }, @binds) };
    return ($rows, undef) if $rows;
    my $state = $dbh->state // '?';
    my ($msg) = split /\n/, ($dbh->errstr // $@ // '');
    $msg =~ s/^ERROR:\s+//;
    return (undef, "$state: $msg");
}

# The open prompt of a deployment (hashref) or undef.
sub open_prompt {
    my ($s, $id) = @_;
    my $r = $s->sql('select * from spiderpig.prompts where deployment_id = $1 and answered_at is null', $id);
    return $r->[0];
}

# Run claim/stage_begin/stage_done as worker $w until the row stops being
# runnable; $fail_at names a stage to fail. Returns the final state.
sub walk_stages {
    my ($s, $id, $w, $fail_at) = @_;
    for (1 .. 20) {
        my $row = $s->sql('select * from spiderpig.claim_next($1, $2::interval)', $w, '30 seconds')->[0];
        return $s->sql('select state from spiderpig.deployments where id=$1', $id)->[0]{state}
            unless $row && defined $row->{id};
        if ($row->{state} eq 'rolling_back') {
            $s->sql('select spiderpig.rollback_done($1, $2, true, $3)', $id, $w, 'rolled back');
            next;
        }
        my $st = $s->sql('select spiderpig.stage_of($1) as s', $row->{state})->[0]{s};
        $s->sql('select spiderpig.stage_begin($1, $2)', $id, $w);
        my $ok = (defined $fail_at && $st eq $fail_at) ? 0 : 1;
        $s->sql('select spiderpig.stage_done($1, $2, $3, $4)', $id, $w, $ok ? 1 : 0, $ok ? 'ok' : 'exit status 1');
    }
    die "walk_stages: no end";
}

1;
