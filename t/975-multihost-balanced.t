#!/usr/bin/perl
# Two hosts, each a network namespace with one app, one worker and one
# stream daemon, share one PostgreSQL over TCP (scram passwords); nginx
# balances the two apps and the two stream daemons. Requests through nginx
# reach both apps (each opens database sessions from its own address), and
# a deployment queued and driven through the API runs to its end, with a
# stream client through nginx seeing it finish.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(sleep);
use SP::MultiHost;
use SP::Stream;

my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my $stage = SP::Stack->repo . '/t/bin/fault-stage.sh';
my $tmp = tempdir(CLEANUP => 1);
chmod 0777, $tmp;
my $m = SP::MultiHost->new(hosts => 2, stack => {
    stream => 0,
    stages => { map { ($_ => [$stage, 'ok']) } @STAGES },
    worker => { poll_interval => 1, heartbeat_interval => 1, lease => 5,
                env => ["FAULT_DIR=$tmp"] },
});
my $s = $m->stack;
my $tok = $s->user('alice', 'deployer');

# Sequential requests on fresh connections: nginx's round robin alternates.
for (1 .. 20) {
    delete $s->{http};
    my $r = $s->api(GET => '/api/v1/queue', token => $tok);
    die "GET /api/v1/queue: $r->{status}\n" unless $r->{status} == 200;
}
is_deeply([$m->db_clients('spiderpig-fcgi')], [1, 2],
    'both apps served requests: each has database sessions from its host');
is_deeply([$m->db_clients('spiderpig-worker')], [1, 2], 'both workers are connected');
is_deeply([$m->db_clients('spiderpig-stream')], [1, 2], 'both stream daemons are connected');

my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['12345'] });
is($r->{status}, 201, 'a deployment queued through nginx') or diag($r->{body});
my $id = $r->{json}{id};

my $st = SP::Stream->new($s);
my $c = $st->spawn('events.js', $st->opts(token => $tok, deployment => $id, ms => 120000));
$st->wait_line($c, 'READY', 20);

my ($state, $bad) = $m->api_drive($id, $tok, limit_s => 120);
is($state, 'done', 'the deployment ran to its end');
is_deeply($bad, [], 'every API answer on the way was 200');
sleep 2;    # the last NOTIFY on its way to the client; not a timing assert
$st->say_to($c, 'STOP');
my @f = @{ $st->result($c, 30)->{frames} };
my @states = map { $_->{deployment}{state} } grep { $_->{type} eq 'deployment' } @f;
ok((grep { $_ eq 'done' } @states), 'the stream client saw it done')
    or diag("states: @states");
done_testing;
