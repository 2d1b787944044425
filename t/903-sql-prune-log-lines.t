#!/usr/bin/perl
# Retention: prune_log_lines deletes, in batches, only the log lines of
# deployments that finished more than settings.log_retention_days ago,
# and never waits on (nor blocks) a running deployment writing its log.
use strict; use warnings;
use lib 't/lib';
use DBI;
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});

# A finished deployment of $age days ago with $n lines, straight into the
# tables (as bench/seed does).
sub old_deployment {
    my ($age, $n) = @_;
    my $id = $s->sql(q{insert into spiderpig.deployments (requester, patches, state,
        created_at, updated_at, started_at, finished_at)
        values ('alice', array['1'], 'done', now() - make_interval(days => $1),
        now() - make_interval(days => $1), now() - make_interval(days => $1),
        now() - make_interval(days => $1) + interval '1 hour') returning id}, $age)->[0]{id};
    $s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, line)
        select $1, g, 'stdout', 'line ' || g from generate_series(1, $2) g}, $id, $n);
    return $id;
}
sub lines_of { $s->sql('select count(*) as n from spiderpig.log_lines where deployment_id = $1', $_[0])->[0]{n} }

# Deployments are numbered in the order they were made, oldest first.
my @old = map { old_deployment(45 - $_, 250) } 1 .. 4;
my $recent = old_deployment(5, 100);
# The running one: enqueued and claimed as a worker would, lines written.
my $run = $s->sql(q{select id from spiderpig.enqueue('alice', array['2'])})->[0]{id};
$s->sql(q{update spiderpig.deployments set state = 'merging', position = null,
    started_at = now() where id = $1}, $run);
$s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, line)
    select $1, g, 'stdout', 'running ' || g from generate_series(1, 50) g}, $run);

is $s->sql(q{select spiderpig.prune_log_lines('root', 100) as n})->[0]{n}, 0,
    'no retention set: nothing is pruned';
$s->sql('update spiderpig.settings set log_retention_days = 30');

eval { $s->sql(q{select spiderpig.prune_log_lines('alice', 100)}) };
like $@, qr/admin/i, 'a deployer may not prune';

# A running deployment's writer holds an open transaction with new lines.
my $writer = DBI->connect('dbi:Pg:dbname=spiderpig;host=' . $s->dir . '/run/pg;port=' . $s->port('pg'),
    'spiderpig_worker', '', { RaiseError => 1, AutoCommit => 0, PrintError => 0 });
$writer->do(q{insert into spiderpig.log_lines (deployment_id, seq, stream, line)
    select ?, g, 'stdout', 'more ' || g from generate_series(51, 80) g}, undef, $run);

my $pruner = DBI->connect('dbi:Pg:dbname=spiderpig;host=' . $s->dir . '/run/pg;port=' . $s->port('pg'),
    'postgres', '', { RaiseError => 1, AutoCommit => 1, PrintError => 0 });
$pruner->do(q{set statement_timeout = '5s'});
my @batches;
while (1) {
    my ($n) = $pruner->selectrow_array(q{select spiderpig.prune_log_lines('root', 300)});
    push @batches, $n;
    last if !$n || @batches > 20;
}
is_deeply \@batches, [300, 300, 300, 100, 0], 'four old logs of 250 lines went in batches of 300'
    or diag "@batches";
is lines_of($_), 0, "old deployment $_: pruned" for @old;
is lines_of($recent), 100, 'a deployment finished 5 days ago keeps its lines';
$writer->commit;
is lines_of($run), 80, 'the running deployment kept every line, its open write included';

my $ev = $s->sql(q{select count(*) as n, sum((details->>'lines')::int) as lines
    from spiderpig.events where action = 'log_pruned'})->[0];
is_deeply [$ev->{n}, $ev->{lines}], [4, 1000], 'each batch that deleted lines is an event';

# The procedure commits after each batch: a shorter retention takes the
# recent one too, never the running one.
$s->sql('update spiderpig.settings set log_retention_days = 1');
$pruner->do(q{call spiderpig.prune_log_lines_all('root', 40)});
is lines_of($recent), 0, 'prune_log_lines_all: the deployment of 5 days ago is pruned';
is lines_of($run), 80, 'the running one is not';
is $s->sql(q{select count(*) as n from spiderpig.events where action = 'log_pruned'})->[0]{n}, 4 + 3,
    'in batches of 40 (three events)';

# Lines for a deployment that does not exist are refused (the per-line
# foreign key became a per-statement check).
eval { $s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, line)
    values (999999, 1, 'stdout', 'orphan')}) };
like $@, qr/does not exist/, 'a line for no deployment is refused';
eval { $s->sql(q{delete from spiderpig.deployments where id = $1}, $run) };
like $@, qr/still has log lines|violates foreign key/, 'a deployment with lines cannot be deleted';

$writer->disconnect;
$pruner->disconnect;
done_testing;
