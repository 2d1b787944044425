#!/usr/bin/perl
# A smoke test file that does not parse, or that parses into something
# httpbb would not run, fails the stage with one clear line naming the
# file, the line and what is wrong; no request is sent and it is never a
# pass.
use strict; use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::More;
use SP::Stack;
use SP::Deploy qw(enqueue answer wait_any log_of);

my $tmp = tempdir(CLEANUP => 1);
chmod 0755, $tmp;
my %files = (
    syntax  => "http://demo.spiderpig.test:\n- path: /\n  assert_status: [200\n",
    unknown => "http://demo.spiderpig.test:\n- path: /\n  assert_staus: 200\n",
    regex   => "http://demo.spiderpig.test:\n- path: /\n  assert_body_regex: \"([a-z\"\n",
);
for (keys %files) {
    open(my $fh, '>', "$tmp/$_.yaml") or die;
    print $fh $files{$_};
    close $fh;
    chmod 0644, "$tmp/$_.yaml";
}

my $s = SP::Stack->new(workers => 1, stages => { smoke_test => {
    kind => 'httpbb', tests => "$tmp/syntax.yaml", targets => '127.0.0.1:@PORT_demo_test@' } });
my $tok = $s->user('alice', 'deployer');
my $id = enqueue($s, $tok, '4444');
answer($s, $tok, $id, 'yes');
my $st = wait_any($s, $id, qr/^(awaiting_continue|awaiting_ack|rolled_back|awaiting_failure)$/, 60);
is($st, 'awaiting_failure', 'a file that does not parse fails the stage: the failure prompt');
my $fd = $s->sql('select failure_detail from spiderpig.deployments where id = $1', $id)->[0]{failure_detail} // '';
like($fd, qr/^smoke tests \S+syntax\.yaml: line \d+: YAML syntax/, "the prompt's reason: $fd");
my $log = log_of($s, $id, qr/YAML/);
like($log, qr{smoke: \Q$tmp\E/syntax\.yaml: line \d+: YAML syntax: }, 'one line names the file, the line and the syntax error');
unlike($log, qr/smoke: (PASS|FAIL) /, 'no request was sent');

# The parser's other refusals, through the same runner outside the worker.
for my $case (['unknown', qr/line 3: unknown or unsupported key 'assert_staus'/],
              ['regex', qr/line 3: invalid regular expression/]) {
    my $out = `build/t/builtin_stage httpbb tests=$tmp/$case->[0].yaml targets=127.0.0.1:1 2>&1`;
    like($out, $case->[1], "$case->[0]: a clear reason");
    like($out, qr/verdict: failed/, "$case->[0]: the stage failed");
}
done_testing;
