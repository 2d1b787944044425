#!/usr/bin/perl
# GET /metrics answers admins and the scraper's token ([fcgi]
# metrics_token, good for nothing else) in Prometheus text format, and
# Debian's prometheus scrapes it with that token: the database's gauges and
# the app's request counters arrive as series.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use SP::Stack;

plan skip_all => 'prometheus is not installed (Debian package prometheus)'
    unless -x '/usr/bin/prometheus';

my $scrape = 'scrape-' . join('', map { sprintf '%02x', int rand 256 } 1 .. 20);
my $s = SP::Stack->new(workers => 1,
    sections => { fcgi => { metrics_token => $scrape } });
my $dep = $s->user('dora', 'deployer');
my $adm = $s->user('ada', 'admin');
$s->api(POST => '/api/v1/deployments', token => $dep, json => { patches => ['1'] });
$s->api(POST => '/api/v1/deployments', token => $dep, json => { patches => ['2'] });

my $r = $s->api(GET => '/metrics', token => $dep);
is($r->{status}, 403, 'a deployer gets 403');
$r = $s->api(GET => '/metrics');
is($r->{status}, 401, 'no credentials: 401');
is($s->api(GET => '/metrics', token => $adm)->{status}, 200, 'an admin gets 200');
is($s->api(GET => '/metrics', token => "${scrape}x")->{status}, 401,
    'a token that is not the scraper\'s: 401');
is($s->api(GET => '/api/v1/queue', token => $scrape)->{status}, 401,
    'the scraper\'s token opens nothing else');
$r = $s->api(GET => '/metrics', token => $scrape);
is($r->{status}, 200, 'the scraper\'s token gets 200');
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'in the text format');
like($r->{body}, qr/^# TYPE spiderpig_queue_length gauge\nspiderpig_queue_length \d+$/m,
    'with the queue length');
like($r->{body}, qr/^spiderpig_prompts_waiting \d+$/m, 'prompts waiting');
like($r->{body}, qr/^spiderpig_worker_heartbeat_age_seconds [\d.e+-]+$/m, 'the worker heartbeat age');
like($r->{body}, qr/^spiderpig_deployments_finished_total\{state="rolled_back"\} \d+$/m, 'rollbacks');
like($r->{body}, qr/^spiderpig_http_requests_total\{method="POST",route="\/api\/v1\/deployments",status="201"\} [1-9]\d*$/m,
    'the enqueue requests by route and status');
like($r->{body}, qr/^spiderpig_http_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m,
    'and the latency histogram');
{
    my $pid = open(my $lint, '|-') // die "fork: $!";
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>&', \*STDOUT);
        exec('/usr/bin/promtool', 'check', 'metrics') or die "exec: $!";
    }
    print $lint $r->{body};
    close($lint);
    is($?, 0, 'promtool check metrics finds nothing to lint');
}

# Debian's prometheus scrapes it over nginx with the scraper's token.
my $dir = tempdir('spiderpig-prom-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($pport) = SP::Stack::free_ports(1);
open(my $fh, '>', "$dir/token") or die $!;
print $fh $scrape;
close($fh);
my $https = $s->port('https');
open($fh, '>', "$dir/prometheus.yml") or die $!;
print $fh <<"EOC";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: spiderpig
    scheme: https
    metrics_path: /metrics
    tls_config:
      insecure_skip_verify: true
    authorization:
      type: Bearer
      credentials_file: $dir/token
    static_configs:
      - targets: ['127.0.0.1:$https']
EOC
close($fh);
my $pid = fork // die "fork: $!";
if (!$pid) {
    open(STDOUT, '>', "$dir/prometheus.log");
    open(STDERR, '>&', \*STDOUT);
    exec('/usr/bin/prometheus', "--config.file=$dir/prometheus.yml",
        "--storage.tsdb.path=$dir/data", "--web.listen-address=127.0.0.1:$pport")
        or die "exec: $!";
}
my $http = HTTP::Tiny->new(timeout => 5);
sub query {
    my ($q) = @_;
    my $res = $http->get("http://127.0.0.1:$pport/api/v1/query?query=" .
        join('', map { sprintf('%%%02X', ord) } split //, $q));
    return [] unless $res->{success};
    my $j = eval { decode_json($res->{content}) } // return [];
    return $j->{data}{result} // [];
}
my $up = eval { $s->wait_for(sub {
    my $v = query('up{job="spiderpig"}');
    @$v && $v->[0]{value}[1] eq '1' ? $v : undef
}, 60, 'prometheus to scrape spiderpig') };
ok($up, 'prometheus scrapes /metrics: up == 1') or diag(`tail -20 $dir/prometheus.log`);
my $q = eval { $s->wait_for(sub { my $v = query('spiderpig_queue_length'); @$v ? $v : undef }, 20) } // [];
cmp_ok($q->[0]{value}[1] // -1, '>=', 0, 'spiderpig_queue_length is a series in prometheus');
my $c = eval { $s->wait_for(sub { my $v = query('sum(spiderpig_http_requests_total)'); @$v ? $v : undef }, 20) } // [];
cmp_ok($c->[0]{value}[1] // 0, '>', 0, 'and so are the request counters');
kill 'TERM', $pid;
waitpid($pid, 0);
done_testing;
