#!/usr/bin/perl
# The built-in smoke test stage (kind = httpbb) against the stack's nginx
# demo test server: every assertion kind of an httpbb YAML file holds, each
# test case runs against each target, every result is a line in the
# deployment's log, and the deployment goes on to the continue prompt.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;

my $tmp = tempdir(CLEANUP => 1);
chmod 0755, $tmp;
my $yaml = "$tmp/smoke.yaml";
open(my $fh, '>', $yaml) or die "$yaml: $!";
print $fh <<'YAML';
http://demo.spiderpig.test:
- path: /
  assert_status: 200
  assert_body_contains: "<h1>release"
  assert_body_regex: "release [0-9]+</h1>"
  assert_headers:
    Content-Type: text/html
  assert_headers_regex:
    Last-Modified: "^[A-Z][a-z]{2}, [0-9]{2} "
  assert_headers_absent:
  - X-Powered-By
- path: /index.html
  method: HEAD
  assert_status: 200
- path: /index.html
  request_headers:
    Range: bytes=0-8
  assert_status: 206
  assert_body_regex: "^<!doctype$"
http://other.spiderpig.test/:
- path: /missing
  assert_status: 404
YAML
close $fh;
chmod 0644, $yaml;

my $s = SP::Stack->new(workers => 1, stages => { smoke_test => {
    kind => 'httpbb', tests => $yaml, parallel => 3,
    targets => '127.0.0.1:@PORT_demo_test@, localhost:@PORT_demo_test@' } });
my $target = '127.0.0.1:' . $s->port('demo_test');
my $tok = $s->user('alice', 'deployer');
my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => ['4242'] });
my $id = $r->{json}{id};
$s->wait_state($id, 'awaiting_ready', 20);
my $p = $s->sql('select id from spiderpig.prompts where deployment_id = $1 and answered_at is null', $id)->[0];
$s->api(POST => "/api/v1/deployments/$id/answer", token => $tok, json => { prompt => 0 + $p->{id}, answer => 'yes' });
my $ok = eval { $s->wait_state($id, 'awaiting_continue', 40) };
# The log writer commits a moment after the stage reports.
my $log = '';
eval { $s->wait_for(sub {
    $log = join "\n", map { $_->{line} } @{ $s->sql(
        'select line from spiderpig.log_lines where deployment_id = $1 order by seq', $id) };
    $log =~ /smoke tests: \d+ of/;
}, 10, 'the smoke summary in the log') };
ok($ok, 'the smoke test passed: awaiting_continue') or diag($log);
like($log, qr/smoke_test: built-in httpbb stage/, 'the log names the built-in stage');
like($log, qr/smoke: \Q$yaml\E: 4 test case\(s\)/, 'the file was read');
like($log, qr/smoke: 8 request\(s\) to 2 target\(s\), 3 at a time/, 'each case against each target');
my @pass = $log =~ /^smoke: PASS /mg;
is(scalar @pass, 8, 'eight PASS lines');
like($log, qr{smoke: PASS GET http://demo.spiderpig.test/ on \Q$target\E: 200 in \d+ ms}, 'a PASS line names method, URL, target, status and time');
like($log, qr{smoke: PASS GET http://other.spiderpig.test/missing on localhost:\d+: 404}, 'a second host (base URL with a slash) against the second target');
like($log, qr/smoke tests: 8 of 8 passed/, 'the summary');
done_testing;
