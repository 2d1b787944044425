#!/usr/bin/perl
# A stage writes one 10 MB line. It is stored split into pieces of at most
# 64 KiB that put together give the line back exactly, followed by a system
# line saying it was split (the marker); the line after it is stored; the
# stage passes and the deployment goes on to its next prompt. The API
# serves the log pages and each piece.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;
use SP::Fault qw(answer_prompt drive_to_end enqueue_offered open_prompt);

my $BYTES = 10_000_000;
my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $long = SP::Stack->repo . '/t/bin/fault-longline.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $s = SP::Stack->new(
    workers => 1,
    stages => { (map { ($_ => [$stage, 'ok']) } @STAGES), merge => [$long, "$BYTES"] },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["FAULT_DIR=$tmp"] },
);
my $tok = $s->user('alice', 'deployer');
my $id = enqueue_offered($s);
answer_prompt($s, $id, 'ready');
$s->wait_for(sub { my $p = open_prompt($s, $id); $p && $p->{kind} eq 'continue' }, 60,
    'the continue prompt after merge, sync_test and smoke_test');
pass('the deployment went on to the continue prompt');
my $ev = $s->sql(q{select details->>'ok' as ok from spiderpig.events where deployment_id = $1
    and action = 'stage_finished' and details->>'stage' = 'merge'}, $id)->[0];
is($ev->{ok}, 'true', 'merge passed');

my $rows = $s->dbh->selectall_arrayref(q{select seq, stream, line, octet_length(line) as len
    from spiderpig.log_lines where deployment_id = $1 order by seq}, { Slice => {} }, $id);
my @pieces = grep { $_->{stream} eq 'stdout' && $_->{line} =~ /^[A-Z]/ } @$rows;
my $unit = join('', map { chr(65 + $_ % 26) } 0 .. 999);
my $want = substr($unit x (int($BYTES / 1000) + 1), 0, $BYTES);
cmp_ok(scalar @pieces, '>=', int($BYTES / 65536), scalar(@pieces) . ' pieces');
ok(!(grep { $_->{len} > 65536 } @pieces), 'none longer than 64 KiB');
is(join('', map { $_->{line} } @pieces) eq $want ? 'same' : 'different', 'same',
    'put together they are the line, byte for byte');
my ($first, $last) = ($pieces[0]{seq}, $pieces[-1]{seq});
is($last - $first + 1, scalar @pieces, 'in consecutive rows');
my ($marker) = grep { $_->{stream} eq 'system' && $_->{seq} > $last } @$rows;
like($marker && $marker->{line}, qr/^the stdout line above was $BYTES bytes: stored in \d+ pieces \(seq $first-$last\)/,
    'a system line marks the split: ' . ($marker ? $marker->{line} : 'none'));
ok((grep { $_->{line} eq 'after the long line' && $_->{seq} > $last } @$rows), 'the next line is stored');

my $r = $s->api(GET => "/api/v1/deployments/$id/log?after=0&limit=1000", token => $tok);
is($r->{status}, 200, 'the log page answers 200');
my ($p1) = grep { $_->{seq} == $first } @{ $r->{json}{lines} // [] };
ok($p1 && $p1->{truncated}, 'a piece is shown cut in the page, marked truncated');
$r = $s->api(GET => "/api/v1/deployments/$id/log?line=$first", token => $tok);
is($r->{status}, 200, '?line= answers 200');
is(length($r->{json}{lines}[0]{text} // ''), $pieces[0]{len}, 'with the whole piece');

is(drive_to_end($s, $id, limit_s => 60), 'done', 'the deployment ends done');
done_testing;
