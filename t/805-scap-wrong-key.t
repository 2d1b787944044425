#!/usr/bin/perl
# Records with another key, an empty key or none: plain output, stored as
# they came, and never a prompt or a state move (a stage of the build that
# prints JSON cannot drive the deployment).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('wrongkey');
my $s = $t->stack;
my $id = $t->start;
$s->wait_state($id, 'done', 30);
$t->wait_log($id, qr/^scap run over/);
is($s->sql(q{select count(*) as n from spiderpig.prompts where deployment_id = $1
    and kind = 'scap'}, $id)->[0]{n}, 0, 'no forged record became a prompt');
is_deeply($t->states($id), [], 'nor moved the deployment');
is($t->deployment($id)->{status_text}, undef, 'nor set its status');
my @out = map { $_->{line} } grep { $_->{stream} eq 'stdout' } @{ $t->log_lines($id) };
is(scalar(grep { /"iokey":"f{64}"|"iokey":"e{64}"/ && /Forged: deploy\?/ } @out), 1,
    'the forged prompt is a plain log line, as it was');
ok((grep { /Syncing to production/ } @out), 'so is the forged status');
ok((grep { /"iokey":""/ && /Forged input/ } @out), 'and the record with an empty key');
ok((grep { /no key at all/ } @out), 'and the one without a key');
ok((grep { $_ eq 'genuine line' } @out), 'the genuine record is a log line');
ok(!(grep { /record that cannot be used/ } map { $_->{line} } @{ $t->log_lines($id) }),
    'a wrong key is not a malformed record: nothing is said about it');
done_testing;
