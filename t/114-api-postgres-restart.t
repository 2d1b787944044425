#!/usr/bin/perl
# With PostgreSQL down the API answers 503 with Retry-After (health checks
# still answer); once it is back the same app process serves again.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, settings => { worker_stale_after => undef });
my $tok = $s->user('alice', 'deployer');
sub app_pid {
    open my $fh, '<', $s->dir . '/run/fcgi.pid' or return '';
    chomp(my $pid = <$fh> // '');
    return $pid;
}
my $pid = app_pid();
ok $pid, "app pid $pid";

is $s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, 'up: 200';

$s->stop_postgres;
my $r = $s->api(GET => '/api/v1/queue', token => $tok);
is $r->{status}, 503, 'database down: 503';
ok $r->{headers}{'retry-after'}, 'with Retry-After';
like $r->{headers}{'content-type'} // '', qr{^application/problem\+json}, 'problem+json';

my $e = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['1'] });
is $e->{status}, 503, 'enqueue while down: 503';

my $ready = $s->api(GET => '/api/v1/readyz');
is $ready->{status}, 503, 'readyz: 503';
is $ready->{headers}{'retry-after'}, '2', 'readyz Retry-After: 2';
is $ready->{json}{status}, 503, 'readyz problem+json';
is $s->api(GET => '/api/v1/healthz')->{status}, 200, 'healthz needs no database';

$s->start_postgres;
my $back = $s->wait_for(sub {
    my $q = $s->api(GET => '/api/v1/queue', token => $tok);
    $q->{status} == 200 ? $q : undef;
}, 20, 'the API to answer again');
is $back->{status}, 200, 'back: 200';
is $s->api(GET => '/api/v1/readyz')->{status}, 200, 'readyz: 200';
my $d = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['2'] });
is $d->{status}, 201, 'enqueue works again' or diag $d->{body};
is app_pid(), $pid, 'same app process';

done_testing;
