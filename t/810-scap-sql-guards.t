#!/usr/bin/perl
# sql/010's scap functions keep the state machine valid whatever a worker
# sends: only the holder moves the row, only forward and only among the
# states a worker may hold; a scap prompt's answer moves nothing; keys
# must fit on one line; only the worker role may call them.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['1'])})->[0]{id};
$s->sql('select spiderpig.offer_next()');
my $ready = $s->sql(q{select id from spiderpig.prompts where deployment_id = $1}, $id)->[0]{id};
$s->sql('select spiderpig.answer($1, $2, $3, $4)', 'alice', $id, $ready, 'yes');
$s->sql(q{select * from spiderpig.claim_next('w1', '30 seconds')});
my $one = sub { my ($sql, @b) = @_; (values %{ $s->sql($sql, @b)->[0] })[0] };

is($one->('select spiderpig.scap_begin($1, $2)', $id, 'w1'), 'started', 'the holder starts the run');
is($one->('select spiderpig.scap_begin($1, $2)', $id, 'w1'), 'merging', 'once');
is($one->('select spiderpig.scap_begin($1, $2)', $id, 'w2'), undef, 'another worker cannot');
is($one->('select spiderpig.scap_status($1, $2, $3, $4)', $id, 'w2', 'Syncing canaries',
    'syncing_canary'), undef, 'nor move it');
is($one->('select spiderpig.scap_status($1, $2, $3, $4)', $id, 'w1', 'Syncing canaries',
    'syncing_canary'), 'syncing_canary', 'the holder moves it forward');
is($one->('select spiderpig.scap_status($1, $2, $3, $4)', $id, 'w1', 'Syncing to testservers',
    'syncing_test'), 'syncing_canary', 'never backward');
is($one->('select spiderpig.scap_status($1, $2, $3, $4)', $id, 'w1', 'x', 'awaiting_finish'),
    'syncing_canary', 'never into a state without a holder');
is($one->('select spiderpig.scap_status($1, $2, $3, $4)', $id, 'w1', 'x', 'done'),
    'syncing_canary', 'nor to an end');
my (undef, $err) = try_sql($s, q{select spiderpig.scap_ask($1, 'w1', 'q',
    '[{"key": "y n", "label": "Yes"}]', 'y n', false, 'other')}, $id);
like($err // '', qr/^SP400/, 'a key that is not one printable word is refused');
(undef, $err) = try_sql($s, q{select spiderpig.scap_ask($1, 'w1', 'q',
    '[{"key": "y", "label": "Yes"}]', 'n', false, 'other')}, $id);
ok($err, 'a default that is not a choice is refused');
my $p = $one->(q{select spiderpig.scap_ask($1, 'w1', 'Continue?',
    '[{"key": "y", "label": "Yes"}, {"key": "n", "label": "No"}]', 'n', false, 'continue')}, $id);
ok($p, 'a scap prompt');
$s->sql('select spiderpig.answer($1, $2, $3, $4)', 'alice', $id, $p, 'y');
is($one->('select state from spiderpig.deployments where id = $1', $id), 'syncing_canary',
    'its answer moves nothing');
my $poll = $s->sql(q{select * from spiderpig.scap_poll('w1', $1, '30 seconds', $2)}, $id, $p)->[0];
is_deeply([@$poll{qw(state answered answer answered_by)}], ['syncing_canary', 1, 'y', 'alice'],
    'scap_poll renews and reports the answer');

for my $f ('scap_end(bigint, text, text, text)', 'scap_ask(bigint, text, text, jsonb, text, boolean, text)',
    'scap_status(bigint, text, text, text)', 'scap_poll(text, bigint, interval, bigint)') {
    my $r = $s->sql(q{select has_function_privilege('spiderpig_web', $1, 'EXECUTE') as web,
        has_function_privilege('spiderpig_worker', $1, 'EXECUTE') as worker}, "spiderpig.$f")->[0];
    ok(!$r->{web} && $r->{worker}, "only the worker role may call $f");
}
is($one->(q{select spiderpig.scap_end($1, 'w1', 'ok', 'exit status 0')}, $id), 'done', 'exit 0 is done');
my $d = $s->sql('select * from spiderpig.deployments where id = $1', $id)->[0];
ok(!defined $d->{worker_id} && defined $d->{finished_at}, 'released and finished');
done_testing;
