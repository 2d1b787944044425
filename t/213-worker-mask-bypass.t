#!/usr/bin/perl
# Secrets a stage prints never reach log_lines unmasked, whichever way they
# are printed: after a NUL, cut by the 64 KiB line split, with the value on
# the line after "password:", or as the bare value of a secret the worker
# put in the stage's environment ([worker] env with a secret-looking key),
# which is not stored at all. Ordinary lines stay readable.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $ENVSECRET = 'EnvLiteral4-q8Zr2Lw9';
my $bin = SP::Stack->repo . '/t/bin/worker-secrets.sh';
my $stage = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { merge => [$bin, "--auth=$ENVSECRET"],
                sync_test => [$stage, 'ok'], smoke_test => [$stage, 'ok'] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["DEPLOY_TOKEN=$ENVSECRET"] },
);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_for(sub {
    $s->sql(q{select 1 from spiderpig.log_lines where deployment_id=$1
              and line = 'ordinary line after'}, $id)->[0];
}, 30, 'the stage output in log_lines');
$s->wait_for(sub {
    $s->sql(q{select 1 from spiderpig.events where deployment_id=$1 and action='stage_finished'}, $id)->[0];
}, 30, 'merge to finish');

my $rows = $s->sql(q{select seq, stream, sensitive, line from spiderpig.log_lines
                     where deployment_id=$1 order by seq}, $id);
my @shown = grep { !$_->{sensitive} } @$rows;
my $shown = join("\n", map { $_->{line} } @shown);
my %secret = (
    'a NUL before password='               => 'NulSecret1',
    'the 64 KiB cut inside the keyword'    => 'SplitSecret2a',
    'the 64 KiB cut inside the value'      => 'ecret2b',
    'the value on the line after password:' => 'NextLineSecret3',
    'the value after "token:" and a blank line' => 'NextLineSecret3b',
);
for my $what (sort keys %secret) {
    unlike($shown, qr/\Q$secret{$what}\E/, "$what: not in any line shown unmasked");
}
my $all = join('', map { $_->{line} } @$rows);
unlike($all, qr/\Q$ENVSECRET\E/, 'the environment secret is stored nowhere, not even across the 64 KiB cut');
unlike($all, qr/\Q${\ substr($ENVSECRET, 0, 10)}\E|\Q${\ substr($ENVSECRET, -10)}\E/,
    'nor any half of it');
ok((grep { $_->{stream} eq 'stderr' && $_->{line} =~ /^stderr says \*+$/ } @$rows),
    'its place on stderr is starred out');
ok((grep { $_->{stream} eq 'system' && $_->{line} =~ /starting stage merge: .*--auth=\*+/ } @$rows),
    'and in the worker\'s own "starting" line');
my $wlog = do { local (@ARGV, $/) = (glob($s->dir . '/log/worker-*.log')); <> // '' };
ok(length $wlog, 'the worker wrote its own log');
unlike($wlog, qr/\Q$ENVSECRET\E/, 'the environment secret is not in the worker\'s own log either');
my %plain = map { $_->{line} => 1 } @shown;
ok($plain{'ordinary line before'} && $plain{'ordinary line after'}, 'ordinary lines stay unmasked');
my ($c) = grep { $_->{line} =~ /^connecting with / } @$rows;
ok($c && $c->{sensitive}, 'a line that held the environment secret is sensitive');
diag(join "\n", map { sprintf '%3d %-6s %s %s', $_->{seq}, $_->{stream}, $_->{sensitive} ? 'S' : '-',
    length $_->{line} > 60 ? substr($_->{line}, 0, 20) . '...' . substr($_->{line}, -30) : $_->{line} } @$rows)
    unless Test::More->builder->is_passing;
done_testing;
