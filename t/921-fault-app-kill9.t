#!/usr/bin/perl
# kill -9 of the FastCGI app under load (four clients enqueueing and
# reading the queue as fast as they can), the app supervised as under
# `make run`. While it is down nginx answers 503 problem+json with
# Retry-After, never anything else; the supervisor starts it again and the
# clients are served again; no row is half written: every deployment has
# its 'enqueued' event, each answered 201 exists, the queue is dense.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(sleep time);
use SP::Stack;
use SP::Fault qw(alive);

my $CLIENTS = 4;
my $tmp = tempdir(CLEANUP => 1);
my $s = SP::Stack->new(
    workers => 0,
    env => { SPIDERPIG_SUPERVISE => 1, SPIDERPIG_API_RATE => '100000r/s',
             SPIDERPIG_API_BURST => '100000' },
    settings => { max_queued_per_user => 1000000, worker_stale_after => undef },
);
my @tok = map { $s->user("user$_", 'deployer') } 1 .. $CLIENTS;
sub app_pid {
    open(my $fh, '<', $s->dir . '/run/fcgi.pid') or return undef;
    chomp(my $p = <$fh> // '');
    return $p =~ /^\d+$/ && alive($p) ? $p : undef;
}
my $old = app_pid() // die "no app pid";

# Each client: requests until $tmp/stop exists, one line per answer:
# "start-time status content-type retry-after id".
my @kids;
for my $c (1 .. $CLIENTS) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(my $out, '>', "$tmp/client-$c") or _exit(1);
        my $n = 0;
        my $end = time + 120;
        while (!-e "$tmp/stop" && time < $end) {
            my $t = time;
            my $r = $n++ % 2
                ? $s->api(GET => '/api/v1/queue?limit=5', token => $tok[$c - 1])
                : $s->api(POST => '/api/v1/deployments', token => $tok[$c - 1],
                    json => { patches => ["$c$n"] });
            printf $out "%.3f %d %s %s %s\n", $t, $r->{status},
                $r->{headers}{'content-type'} // '-', $r->{headers}{'retry-after'} // '-',
                $r->{status} == 201 && $r->{json} ? $r->{json}{id} : '-';
        }
        close $out;
        _exit(0);
    }
    push @kids, $pid;
}
sleep 2;
kill 'KILL', $old;
my $killed = time;
my $new = $s->wait_for(sub { my $p = app_pid(); $p && $p != $old ? $p : undef }, 30,
    'the supervisor to start the app again');
$s->wait_for(sub { $s->api(GET => '/api/v1/healthz')->{status} == 200 }, 30, 'the new app to answer');
my $back = time;
diag(sprintf('app %d killed; %d answers %.1f s later', $old, $new, $back - $killed));
sleep 3;
open(my $fh, '>', "$tmp/stop") or die $!;
close $fh;
waitpid($_, 0) for @kids;

my (@all, %by);
for my $c (1 .. $CLIENTS) {
    open(my $in, '<', "$tmp/client-$c") or die "client $c: $!";
    while (<$in>) {
        my ($t, $st, $ct, $ra, $id) = split ' ';
        push @all, { t => $t, status => $st, ct => $ct, ra => $ra, id => $id };
        $by{$st}++;
    }
}
diag('answers: ' . join(', ', map { "$_ x$by{$_}" } sort keys %by));
ok(!(grep { $_->{status} !~ /^(200|201|503)$/ } @all), 'every answer was 200, 201 or 503');
cmp_ok($by{503} // 0, '>', 0, 'the outage was seen (503s)');
ok(!(grep { $_->{status} == 503 && ($_->{ct} !~ m{^application/problem\+json} || $_->{ra} eq '-') } @all),
    'every 503 is problem+json with Retry-After');
my @late = grep { $_->{t} > $back + 0.5 } @all;
cmp_ok(scalar @late, '>', 10, scalar(@late) . ' requests after the app came back');
ok(!(grep { $_->{status} == 503 } @late), 'all of them served');

my @created = map { $_->{id} } grep { $_->{status} == 201 } @all;
my $rows = $s->sql(q{select d.id, (select count(*) from spiderpig.events e where e.deployment_id = d.id
    and e.action = 'enqueued') as ev from spiderpig.deployments d});
my %have = map { $_->{id} => $_->{ev} } @$rows;
ok(!(grep { !exists $have{$_} } @created), scalar(@created) . ' deployments answered 201, all stored');
ok(!(grep { $_ != 1 } values %have), scalar(keys %have) . ' rows, each with exactly one enqueued event');
my $q = $s->sql(q{select count(*) as n, max(position) as top from spiderpig.deployments where state = 'queued'})->[0];
is($q->{top}, $q->{n}, 'queue positions run 1..n');
like(`cat ${\$s->dir}/log/supervise.log`, qr/fcgi .* exited with status 137; restarting/,
    'the supervisor says it restarted the app');
done_testing;
