#!/usr/bin/perl
# Under systemd with WatchdogSec= (WATCHDOG_USEC in the environment) each
# daemon sends WATCHDOG=1 again and again, at half the interval, on the
# datagram socket NOTIFY_SOCKET names (as t/956 reads READY=1): the app,
# the stream daemon, the webhook sender, and the worker, also while a
# stage command runs (its main loop watches the command and is alive). Each daemon gets a socket
# of its own, so a ping is known to be its own.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use SP::Stack;

my $bin = SP::Stack->repo . '/t/bin/worker-stage.sh';
my $tmp = tempdir('spiderpig-watchdog-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $tmp;
my $rec = "$tmp/record";
my $hookport = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0,
    stages => { merge => [$bin, 'ok', '20'] },
    worker => { env => ["WORKER_TEST_RECORD=$rec"] },
    hooks => { url => "http://127.0.0.1:$hookport/hook" });
# Started by new() without a NOTIFY_SOCKET: again below with one.
$s->stack('stop', 'hooks');

my %sock;
for my $d (qw(fcgi stream hooks worker)) {
    my $path = "$tmp/notify-$d";
    $sock{$d} = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path)
        or die "socket: $!";
    chmod 0666, $path;    # the daemons run as their own users
}

# The messages that arrive on d's socket within timeout seconds, until
# $want WATCHDOG=1 have come.
sub pings {
    my ($d, $want, $timeout) = @_;
    my ($n, @all) = (0);
    my $sel = IO::Select->new($sock{$d});
    my $end = time + $timeout;
    while ($n < $want && (my $left = $end - time) > 0) {
        last unless $sel->can_read($left);
        my $msg;
        defined($sock{$d}->recv($msg, 4096)) or last;
        push @all, $msg;
        $n++ if $msg eq 'WATCHDOG=1';
    }
    return ($n, @all);
}

# WatchdogSec=2s: a ping every second.
local $ENV{WATCHDOG_USEC} = 2_000_000;
{
    local $ENV{NOTIFY_SOCKET} = "$tmp/notify-fcgi";
    $s->stack('start', 'fcgi');
}
{
    local $ENV{NOTIFY_SOCKET} = "$tmp/notify-stream";
    $s->stack('start', 'stream');
}
{
    local $ENV{NOTIFY_SOCKET} = "$tmp/notify-hooks";
    $s->stack('start', 'hooks');
}
my $pid = do { local $ENV{NOTIFY_SOCKET} = "$tmp/notify-worker"; $s->start_worker };

for my $d (qw(fcgi stream hooks worker)) {
    my ($n, @msgs) = pings($d, 3, 30);
    is($msgs[0], 'READY=1', "$d: READY=1 first");
    is($n, 3, "$d: then WATCHDOG=1, again and again (3 of them)")
        or diag(explain(\@msgs));
}

# The worker in a stage that sleeps 20 s: its loop watches the command
# and keeps pinging.
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
$s->wait_for(sub { -e $rec && `cat $rec` =~ /^$id run merge$/m }, 20, 'merge to start');
pings('worker', 1e9, 0.1);    # what came before the stage
my ($n) = pings('worker', 3, 30);
is($n, 3, 'worker: WATCHDOG=1 keeps coming while a stage command runs');
is($s->sql('select state from spiderpig.deployments where id=$1', $id)->[0]{state},
    'merging', '... which is still running');

# Done: the stage need not finish (the stack's teardown takes the rest).
$s->signal_worker($pid, 'KILL');
done_testing;
