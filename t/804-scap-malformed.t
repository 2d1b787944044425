#!/usr/bin/perl
# Records scap cannot have meant: cut JSON, choices missing or with a
# newline in a key, unknown subtypes and types, a status that is an
# object, a progress that is a word, an array, and a 10 MB record (cut at
# 64 KiB, so it is no record). None becomes a prompt, the worker says why
# for each keyed one without storing the key, and scap runs to its end.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('malformed');
my $s = $t->stack;
my $id = $t->start;
$s->wait_state($id, 'done', 60);
pass('scap ran to its end: done');
$t->wait_log($id, qr/^scap run over/);
is($s->sql(q{select count(*) as n from spiderpig.prompts where deployment_id = $1
    and kind = 'scap'}, $id)->[0]{n}, 0, 'no malformed record became a prompt');

my @log = @{ $t->log_lines($id) };
my @why = grep { $_->{stream} eq 'system' && $_->{line} =~ /record that cannot be used/ } @log;
is(scalar @why, 7, 'one system line for each keyed record that cannot be used');
like(join("\n", map { $_->{line} } @why), qr/without choices.*\n.*key is not.*\n.*unknown subtype.*\n.*unknown type.*\n.*without a "type".*\n.*status.*\n.*progress/,
    'each says why');
ok((grep { $_->{line} eq 'after the malformed records' } @log), 'later records still work');
is($t->deployment($id)->{status_text}, 'Still standing', 'and a status after them is shown');
my @big = grep { length($_->{line}) >= 60000 } @log;
cmp_ok(scalar @big, '>=', 100, 'the 10 MB record is plain output, cut in pieces');
my $max = 0;
for (@log) { $max = length $_->{line} if length $_->{line} > $max }
cmp_ok($max, '<=', 65536, 'no stored line is longer than 64 KiB');
my ($cut) = grep { $_->{line} =~ /^\{"iokey": / } @log;
ok($cut, 'the cut JSON line is plain output');
my $key_lines = $s->sql(q{select count(*) as n from spiderpig.log_lines
    where deployment_id = $1 and line ~ '[0-9a-f]{64}'}, $id)->[0]{n};
cmp_ok($key_lines, '<=', 3, 'only the lines that were never records carry a key-like string');
ok(!(grep { $_->{stream} eq 'system' && $_->{line} =~ /[0-9a-f]{64}/ } @log),
    'the worker never writes the key into the log');
done_testing;
