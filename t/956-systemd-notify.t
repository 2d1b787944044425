#!/usr/bin/perl
# Under systemd (Type=notify) a daemon says READY=1 once it serves and
# STOPPING=1 when a signal stops it, on the datagram socket NOTIFY_SOCKET
# names: here a worker started the way tools/stack starts it, with the
# variable set.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
my $dir = tempdir('spiderpig-notify-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $path = "$dir/notify";
my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path)
    or die "socket: $!";
chmod 0666, $path;   # the worker runs as its own user

sub next_message {
    my ($timeout) = @_;
    return undef unless IO::Select->new($sock)->can_read($timeout);
    my $msg;
    defined($sock->recv($msg, 4096)) or return undef;
    return $msg;
}

my $pid = do { local $ENV{NOTIFY_SOCKET} = $path; $s->start_worker };
my $msg = next_message(20);
is($msg, 'READY=1', 'the worker says READY=1 once it runs');
is($s->sql('select count(*) as n from spiderpig.workers')->[0]{n}, 1,
    'by then it has registered with the database');
$s->signal_worker($pid, 'TERM');
is(next_message(5), 'STOPPING=1', 'and STOPPING=1 on SIGTERM');
is(next_message(0.5), undef, 'nothing else');
done_testing;
