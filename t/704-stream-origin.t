#!/usr/bin/perl
# The daemon accepts a handshake only with the site's Origin (the [stream]
# origin of spiderpig.ini): another site, a look-alike, a missing Origin and
# "null" are refused with 403 before any frame is sent. Without credentials
# nginx's gate refuses it first (401).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my $tok = $s->user('alice');
my $origin = $st->origin;

my $r = $st->run('handshake.js', $st->opts(token => $tok));
ok($r->{open}, "the site's own Origin ($origin) is accepted");
is($r->{hello}{user}, 'alice', '... and the daemon greets the user the gate named');

for my $bad ('https://evil.example', "$origin.evil.example", 'null',
    (my $http = $origin) =~ s/^https/http/r) {
    $r = $st->run('handshake.js', $st->opts(token => $tok, origin => $bad));
    is($r->{status}, 403, "Origin $bad is refused with 403");
    like($r->{body} // '', qr/Origin/, '... saying the Origin is the reason');
}
$r = $st->run('handshake.js', $st->opts(token => $tok, origin => undef));
is($r->{status}, 403, 'a handshake without Origin is refused with 403');
$r = $st->run('handshake.js', $st->opts(origin => $origin));
is($r->{status}, 401, 'without credentials the gate refuses it (401)');
done_testing;
