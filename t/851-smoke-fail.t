#!/usr/bin/perl
# A smoke test whose assertions do not hold fails its stage: each failing
# case is a FAIL line naming the file and line, the URL, the target and
# what differed (status, body, header value, header present, header
# absent, an unreachable target), the passing ones are PASS lines, and the
# failed stage asks the failure prompt, whose default (here after 2 s) rolls
# the deployment back with the summary as the reason.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;
use SP::Deploy qw(enqueue answer wait_any log_of);

my $tmp = tempdir(CLEANUP => 1);
chmod 0755, $tmp;
my $yaml = "$tmp/smoke.yaml";
open(my $fh, '>', $yaml) or die "$yaml: $!";
print $fh <<'YAML';
http://demo.spiderpig.test:
- path: /
  assert_status: 200
- path: /nope
  assert_status: 200
- path: /
  assert_body_contains: "Welcome to Wikipedia"
- path: /
  assert_body_regex: "^release [a-z]+$"
- path: /
  assert_headers:
    Content-Type: application/json
- path: /
  assert_headers_regex:
    X-Cache: "hit"
- path: /
  assert_headers_absent:
  - Content-Type
YAML
close $fh;
chmod 0644, $yaml;

my $s = SP::Stack->new(workers => 1, settings => { failure_timeout => '2 seconds' },
    stages => { smoke_test => {
    kind => 'httpbb', tests => $yaml, targets => '127.0.0.1:@PORT_demo_test@, 127.0.0.1:1' } });
my $tok = $s->user('alice', 'deployer');
my $id = enqueue($s, $tok, '4343');
answer($s, $tok, $id, 'yes');
my $st = wait_any($s, $id, qr/^(awaiting_continue|awaiting_failure)$/, 60);
is($st, 'awaiting_failure', 'the failed smoke test asks the failure prompt');
$st = wait_any($s, $id, qr/^(awaiting_ack|rolled_back)$/, 30);
pass("nobody answered: rolled back ($st)");
my $log = log_of($s, $id, qr/rollback (done|FAILED)|smoke tests: \d+ of \d+ passed.*\n(.*\n)*.*prompt/);
my $t = '127.0.0.1:' . $s->port('demo_test');
like($log, qr{smoke: PASS GET http://demo.spiderpig.test/ on \Q$t\E: 200}, 'the passing case is a PASS line');
like($log, qr{smoke: FAIL GET http://demo.spiderpig.test/nope on \Q$t\E \(\Q$yaml\E:4\): status 404, expected 200}, 'wrong status');
like($log, qr{smoke: FAIL .*:6\): body does not contain "Welcome to Wikipedia"}, 'body does not contain');
like($log, qr{smoke: FAIL .*:8\): body does not match /\^release \[a-z\]\+\$/}, 'body does not match');
like($log, qr{smoke: FAIL .*:10\): header Content-Type is "text/html", expected "application/json"}, 'header value');
like($log, qr{smoke: FAIL .*:13\): header X-Cache is absent, expected to match /hit/}, 'header regex on an absent header');
like($log, qr{smoke: FAIL .*:16\): header Content-Type is present, expected absent}, 'header present');
like($log, qr{smoke: FAIL GET http://demo.spiderpig.test/ on 127.0.0.1:1 \(\S+:2\): .*(Couldn't connect|Connection refused)}, 'an unreachable target fails');
like($log, qr{smoke tests: 1 of 14 passed, the rest FAILED}, 'the summary');
my $why = $s->sql('select rollback_reason from spiderpig.deployments where id = $1', $id)->[0]{rollback_reason} // '';
like($why, qr/smoke_test failed: smoke tests: 1 of 14 passed.*\(the failure prompt timed out\)/, "the rollback's reason: $why");
done_testing;
