#!/usr/bin/perl
# A freeze and its lifting are announced as "freeze" events: frozen true
# with the reason, the admin and the end time; then frozen false with who
# lifted it. A freeze that ends by its end time is announced when it ends,
# once (not again when the next freeze tidies it away).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 100, backoff_max_ms => 1000 });
my $r = SP::Hooks->new(secret => $s->hooks_secret, port => $port);

$s->sql(q{select spiderpig.add_user('root', 'carol', 'admin')});
$s->sql(q{select spiderpig.freeze('carol', 'all hands', now() + interval '1 hour')});
$s->sql(q{select spiderpig.unfreeze('root')});

my $req = $r->wait_for(sub { @_ >= 2 }, 30, 'two events');
is(scalar @$req, 2, 'two announcements');
is_deeply([ map { $_->{event} } @$req ], [qw(freeze freeze)], 'both freeze events');
ok($req->[0]{valid} && $req->[1]{valid}, 'signed');
my ($on, $off) = map { $_->{json} } @$req;
is($on->{frozen}, JSON::PP::true, 'the first: frozen');
is($on->{reason}, 'all hands', 'with the reason');
is($on->{user}, 'carol', 'by the admin who froze');
like($on->{until}, qr/^\d{4}-/, 'until when');
ok(!exists $on->{deployment}, 'no deployment');
is($off->{frozen}, JSON::PP::false, 'the second: lifted');
is($off->{user}, 'root', 'by the admin who lifted it');
is($off->{reason}, 'all hands', 'naming the freeze');

$s->sql(q{select spiderpig.freeze('carol', 'short one', now() + interval '2 seconds')});
$req = $r->wait_for(sub { @_ >= 4 }, 30, 'the short freeze and its end');
my $end = $req->[3]{json};
is($end->{frozen}, JSON::PP::false, 'the end time lifts it, announced');
is($end->{reason}, 'short one', 'naming that freeze');
is($end->{user}, 'expired', 'lifted by the clock');
ok($req->[3]{valid}, 'signed');
$s->sql(q{select spiderpig.freeze('carol', 'the next one')});
$req = $r->wait_for(sub { @_ >= 5 }, 30, 'the next freeze');
sleep 1;
$req = $r->requests;
is_deeply([ map { [$_->{json}{reason}, $_->{json}{frozen} ? 1 : 0] } @$req[3 .. $#$req] ],
    [ ['short one', 0], ['the next one', 1] ],
    'the next freeze does not announce the old one\'s end again');
done_testing;
