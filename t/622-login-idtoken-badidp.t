#!/usr/bin/perl
# The bad provider of t/620 and t/621 (t/badidp/server.js) checked on its
# own, without spiderpig: every mode's ID token is wrong in exactly the way
# the mode names (an independent verifier in t/badidp/selftest.js), and the
# provider's own checks (client auth, PKCE, single-use code, redirect_uri)
# work. So a refusal seen in t/620 can only be for the intended reason.
use strict; use warnings;
use Test::More;

my $node = `command -v node 2>/dev/null`;
chomp $node;
plan skip_all => 'node is not installed' unless $node;

# The self test starts its own provider and stops it; timeout bounds it.
my @tap = `timeout 60 $node t/badidp/selftest.js 2>&1`;
my $rc = $?;
my $n = 0;
for (@tap) {
    chomp;
    if (/^(not )?ok \d+ - (.*)$/) { ok(!$1, $2); $n++ }
    elsif (/^#/ || /^1\.\./) { note $_ }
    else { diag $_ }
}
ok($n >= 80, "the self test ran its checks ($n)");
is($rc, 0, 'selftest.js exit status');
done_testing();
