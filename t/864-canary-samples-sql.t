#!/usr/bin/perl
# The worker runs the canary judge as the canary_check stage (kind =
# canary): against a Prometheus double whose canaries match the other
# hosts, the stage passes and the deployment moves on; every look is a row
# of spiderpig.canary_samples that the web role reads through
# canary_samples(id) (it has no access to the table itself), and the log
# holds each look's numbers and the verdict.
use strict; use warnings;
use lib 't/lib';
use DBI;
use Test::More;
use SP::Stack;
use SP::MetricsDouble;
use SP::Judge;
use SP::Deploy qw(enqueue answer wait_any log_of);

my $d = SP::MetricsDouble->new(scenario => 'good');
my %keys = map { split /=/, $_, 2 } SP::Judge::prom_keys($d->url);
my $s = SP::Stack->new(workers => 1, stages => { canary_check => {
    kind => 'canary', %keys, window => 30, min_window => 6, interval => 1 } });
my $tok = $s->user('alice', 'deployer');
my $id = enqueue($s, $tok, '4545');
answer($s, $tok, $id, 'yes');
$s->wait_state($id, 'awaiting_continue', 40);
answer($s, $tok, $id, 'yes');
my $st = wait_any($s, $id, qr/^(awaiting_finish|awaiting_ack|rolled_back)$/, 60);
is($st, 'awaiting_finish', 'the canary check passed');
my $log = log_of($s, $id, qr/canary: verdict/);
like($log, qr/canary_check: built-in canary stage/, 'the built-in stage ran');
like($log, qr/canary: sequential judge at [\d.]+ s of 30 s: canary \d+ errors in \d+ requests/, 'looks in the log');
like($log, qr/canary: verdict pass: canary check passed after \d+ s/, 'the verdict in the log');

my $web = DBI->connect('dbi:Pg:' . $s->conninfo('spiderpig_web'), '', '',
    { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
my $rows = $web->selectall_arrayref('select * from spiderpig.canary_samples($1)', { Slice => {} }, $id);
cmp_ok(scalar @$rows, '>=', 6, scalar(@$rows) . ' samples through canary_samples()');
is($rows->[-1]{verdict}, 'pass', 'the last sample is the verdict');
is($rows->[0]{judge}, 'sequential', 'samples name the judgement');
ok(defined $rows->[-1]{canary_requests} && $rows->[-1]{canary_requests} > 0, 'with counts');
is_deeply([ map { $_->{seq} } @$rows ], [ 1 .. @$rows ], 'numbered in order');
ok(!eval { $web->selectall_arrayref('select count(*) from spiderpig.canary_samples') },
    'the web role cannot read the table itself');
ok(!eval { $web->selectall_arrayref(q{select spiderpig.canary_record(1, 'x', 1, 'threshold', 1, 1, 1, 1, 1, 'pass')}) },
    'nor record samples');
done_testing;
