#!/usr/bin/perl
# States, stages and prompt kinds have one definition (lib/vocab.def): the
# committed SQL and docs are what the generator makes of it today, and the
# database's functions and constraints follow it.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $repo = SP::Stack->repo;
my $gen = "$repo/build/vocab-gen";
ok(-x $gen, 'build/vocab-gen exists') or BAIL_OUT('run make build');
for ([sql => 'sql/vocab.sql'], [doc => 'doc/vocabulary.md']) {
    my ($mode, $file) = @$_;
    my $want = qx{'$gen' $mode};
    is($?, 0, "vocab-gen $mode exits 0");
    open(my $fh, '<', "$repo/$file") or die "$file: $!";
    my $have = do { local $/; <$fh> };
    ok($have eq $want, "$file is current with lib/vocab.def (run make)");
}

# The C side of the definition, read from the file itself.
open(my $fh, '<', "$repo/lib/vocab.def") or die $!;
my (@states, %label, @stages, %prompt);
while (<$fh>) {
    if (/^VOCAB_STATE\((\w+),\s*(\w+),\s*([01]),\s*"([^"]*)"\)/) {
        push @states, $1; $label{$1} = $4;
    } elsif (/^VOCAB_STAGE\((\w+),\s*\w+,\s*(\w+),\s*([01]),/) {
        push @stages, [$1, $2, $3];
    } elsif (/^VOCAB_PROMPT\((\w+),\s*(\w+),/) {
        $prompt{$1} = $2;
    }
}
cmp_ok(scalar @states, '>=', 17, 'vocab.def lists the states');

my $s = SP::Stack->new(workers => 0, nginx => 0);
my $rows = $s->sql(q{select name, label from spiderpig.vocabulary()
    where kind = 'state' order by ord});
is_deeply([map { $_->{name} } @$rows], \@states,
    'spiderpig.vocabulary() has the states in order');
is_deeply({ map { $_->{name} => $_->{label} } @$rows }, \%label,
    'with their labels');
is($s->sql(q{select spiderpig.state_label('awaiting_continue') as l})->[0]{l},
    'Waiting for you: continue to canaries?', 'state_label() for a person');
is_deeply([map { [$_->{name}, $_->{state}, $_->{rollback} ? 1 : 0] }
    @{ $s->sql(q{select name, state, rollback from spiderpig.vocabulary()
        where kind = 'stage' order by ord}) }], \@stages,
    'stages with the state that runs them and whether they roll back');
is_deeply({ map { $_->{name} => $_->{state} }
    @{ $s->sql(q{select name, state from spiderpig.vocabulary()
        where kind = 'prompt'}) } }, \%prompt, 'prompt kinds');

# The pipeline order comes from the definition too.
is($s->sql(q{select spiderpig.state_after('smoke_testing') as s})->[0]{s},
    'awaiting_continue', 'after the smoke test comes the continue prompt');
is($s->sql(q{select spiderpig.stage_of('checking_canary') as s})->[0]{s},
    'canary_check', 'stage_of() maps a state to its stage');

# The constraints are the derived ones: a state outside the vocabulary is
# refused by name, and so is a second active deployment.
my $cons = $s->sql(q{select conname from pg_constraint
    where conrelid = 'spiderpig.deployments'::regclass and contype = 'c'
    and pg_get_constraintdef(oid) ~ '''merging''' });
is_deeply($cons, [], 'no constraint on deployments spells out states any more');
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $d = $s->sql(q{select * from spiderpig.enqueue('alice', array['1'])})->[0];
my $dbh = $s->dbh;
$dbh->{PrintError} = 0;
$dbh->{RaiseError} = 0;
ok(!$dbh->do(q{update spiderpig.deployments set state = 'exploding',
    position = null where id = ?}, undef, $d->{id}), 'an unknown state is refused');
like($dbh->errstr, qr/deployments_state_known/, 'by the derived constraint');

# Re-running migrate re-applies the vocabulary without error.
my $conn = $s->conninfo;
my $out = qx{'$repo/tools/migrate' '$conn' 2>&1};
is($?, 0, 'migrate re-applies sql/vocab.sql') or diag($out);
is($s->sql(q{select count(*) as n from pg_indexes
    where indexname = 'deployments_one_active'})->[0]{n}, 1,
    'the one-active index is there after it');
done_testing;
