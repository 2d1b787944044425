#!/usr/bin/perl
# An idle socket is pinged every ping_interval seconds (here 1) through
# nginx and stays open while the client answers: pings keep tunnels and
# proxies from closing it.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my $tok = $s->user('alice');

# ping_interval = 1 in stream.ini, then restart the daemon to read it.
my $ini = do { local (@ARGV, $/) = $st->ini_path; <> };
$ini =~ s/^ping_interval\s*=.*$/ping_interval = 1/m or die "no ping_interval in the ini\n";
open(my $fh, '>', $st->ini_path) or die $!;
print $fh $ini;
close $fh;
$s->stack('stop', 'stream');
$s->stack('start', 'stream');

my $r = $st->run('ping.js', $st->opts(token => $tok, ms => 4500));
cmp_ok($r->{pings}, '>=', 2, "the idle socket was pinged ($r->{pings} times in 4.5 s)");
ok($r->{open}, '... and is still open');
done_testing;
