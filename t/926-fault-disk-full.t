#!/usr/bin/perl
# The database's disk fills up: log_lines moves to a tablespace on an 8 MiB
# tmpfs and a stage prints 20 MB. The log writer's COPY fails with "No space
# left on device"; the stage must fail with that reason in its event (the
# events live elsewhere) instead of passing with its log silently lost, the
# deployment is rolled back, and nothing hangs. The mount is removed at the
# end whatever happens.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time);
use SP::Stack;
use SP::Fault qw(answer_prompt drive_to_end enqueue_offered);

plan skip_all => 'needs root to mount a tmpfs' if $> != 0;
my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $flood = SP::Stack->repo . '/t/bin/fault-flood.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $mnt = tempdir('spiderpig-full-XXXXXX', DIR => '/tmp');
my $mounted;
END { if ($mounted) { system('umount', '-l', $mnt); rmdir $mnt } }

my $s = SP::Stack->new(
    nginx => 0, workers => 1,
    stages => { (map { ($_ => [$stage, 'ok']) } @STAGES),
                merge => [$flood, '200000'], merge_timeout => 120 },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["FAULT_DIR=$tmp"] },
);
system('mount', '-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', $mnt) == 0 or die "mount failed\n";
$mounted = 1;
my (undef, undef, $uid, $gid) = getpwnam('spiderpig-pg') or die "no user spiderpig-pg\n";
chown $uid, $gid, $mnt or die "chown $mnt: $!";
$s->sql(qq{create tablespace faults_small location '$mnt'});
$s->sql('alter table spiderpig.log_lines set tablespace faults_small');

my $id = enqueue_offered($s);
my $t0 = time;
answer_prompt($s, $id, 'ready');
my $ev = $s->wait_for(sub {
    $s->sql(q{select details->>'ok' as ok, details->>'detail' as detail from spiderpig.events
              where deployment_id = $1 and action = 'stage_finished'}, $id)->[0];
}, 90, 'merge to be reported');
diag(sprintf('merge reported %.1f s after the answer: %s', time - $t0, $ev->{detail}));
is($ev->{ok}, 'false', 'merge failed');
like($ev->{detail}, qr/log/i, 'the reason is the log');
like($ev->{detail}, qr/No space left on device|could not extend/, 'and says the disk is full');
my $final = drive_to_end($s, $id, limit_s => 60);
is($final, 'rolled_back', 'the deployment was rolled back, nothing hung');
like($s->sql('select rollback_reason from spiderpig.deployments where id = $1', $id)->[0]{rollback_reason},
    qr/merge failed: .*(No space left on device|could not extend)/, 'the rollback reason carries it');
ok(!$s->sql(q{select 1 from spiderpig.deployments where id = $1 and worker_id is not null}, $id)->[0],
    'no worker holds it');
like(`cat ${\$s->log_path('worker-1')}`, qr/No space left on device/, 'the worker\'s own log says it too');

# Space again: the writer stores lines again without a restart.
$s->sql('alter table spiderpig.log_lines set tablespace pg_default');
$s->sql('drop tablespace faults_small');
my $id2 = enqueue_offered($s);
my $final2 = drive_to_end($s, $id2, limit_s => 120);
is($final2, 'done', 'with room again the next deployment runs to the end');
is($s->sql(q{select count(*) as n from spiderpig.log_lines where deployment_id = $1
             and line like 'flood %'}, $id2)->[0]{n}, 200000, 'and all its lines are stored');
undef $s;
system('umount', $mnt) == 0 and do { $mounted = 0; rmdir $mnt };
ok(!$mounted, 'the tmpfs is unmounted');
done_testing;
