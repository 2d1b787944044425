#!/usr/bin/perl
# The signature is real: a receiver that holds another secret finds that
# no request verifies (and refuses them), while the same requests verify
# with the sender's secret; changing one byte of a body breaks it.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 100,
    backoff_max_ms => 1000, max_attempts => 2 });
my $secret = $s->hooks_secret;
my $r = SP::Hooks->new(secret => "not-$secret", port => $port);

$s->sql(q{select spiderpig.freeze('root', 'signed?')});
$s->wait_for(sub {
    $s->sql(q{select status from spiderpig.hook_outbox})->[0]{status} eq 'failed'
}, 30, 'the row to be given up');
my $req = $r->requests;
is(scalar @$req, 2, 'two attempts');
ok(!(grep { $_->{valid} } @$req), 'none verifies with the wrong secret');
is($req->[0]{status}, 401, 'the receiver refused them');
ok(!(grep { !SP::Hooks::verify($secret, $_->{timestamp}, $_->{body}, $_->{signature}) } @$req),
    'each verifies with the right one');
(my $tampered = $req->[0]{body}) =~ s/signed\?/signed!/;
ok(!SP::Hooks::verify($secret, $req->[0]{timestamp}, $tampered, $req->[0]{signature}),
    'a changed body does not');
ok(!SP::Hooks::verify($secret, $req->[0]{timestamp} + 1, $req->[0]{body}, $req->[0]{signature}),
    'nor a changed timestamp');
like($s->sql(q{select last_error from spiderpig.hook_outbox})->[0]{last_error},
    qr/HTTP status 401/, 'the row keeps the receiver\'s answer');
done_testing;
