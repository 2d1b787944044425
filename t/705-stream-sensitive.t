#!/usr/bin/perl
# Sensitive lines reach only those who may see them and asked to: the
# requester or an admin with reveal. Everybody else gets one placeholder
# per run of them, from the backlog and from live batches alike, and a
# deployer who asks to reveal someone else's lines is refused (403) and
# gets no line at all. The collapsing is done in SQL (stream_log).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my %tok = map { $_ => $s->user($_) } qw(alice bob);
$tok{root} = $s->token('root');
my $id = $st->deployment('alice');
my %secret = map { $_ => 1 } (5, 6, 7, 15, 25, 26, 40);
my %o = (text => sub { $secret{ $_[0] } ? "SECRET-$_[0] password=hunter2" : "line $_[0]" },
    sensitive => sub { $secret{ $_[0] } });

$st->add_lines($id, 1, 20, %o);     # backlog
my $c = $st->spawn('watchers.js', $st->opts(deployment => $id, last_seq => 40,
    watchers => [
        { name => 'alice', token => $tok{alice}, reveal => JSON::PP::true },
        { name => 'alice_plain', token => $tok{alice} },
        { name => 'root', token => $tok{root}, reveal => JSON::PP::true },
        { name => 'bob', token => $tok{bob} },
        { name => 'bob_reveal', token => $tok{bob}, reveal => JSON::PP::true },
    ]));
$st->wait_line($c, 'READY', 20);
$st->add_lines($id, 21, 30, %o);    # live batches
$st->add_lines($id, 31, 40, %o);
my $r = $st->result($c, 30);

my $texts = sub { join "\n", map { $_->{text} } @{ $r->{$_[0]}{lines} } };
for my $who (qw(alice root)) {
    is(scalar(grep { /^SECRET-/ } split /\n/, $texts->($who)), 7,
        "$who (may see them, asked to) gets all 7 sensitive lines");
    is_deeply([ map { $_->{seq} } @{ $r->{$who}{lines} } ], [1 .. 40], '... and every line');
}
for my $who (qw(bob alice_plain)) {
    my @l = @{ $r->{$who}{lines} };
    unlike($texts->($who), qr/SECRET|hunter2/, "$who never receives a sensitive line");
    my @ph = grep { $_->{sensitive} } @l;
    is_deeply([ map { [ $_->{seq}, $_->{last_seq} ] } @ph ],
        [ [5, 7], [15, 15], [25, 26], [40, 40] ], '... but one placeholder per run')
        or diag(explain(\@ph));
    is(scalar(grep { !$_->{sensitive} } @l), 33, '... and the 33 other lines');
}
is(scalar(@{ $r->{bob_reveal}{lines} }), 0, 'bob asking to reveal gets no line');
is($r->{bob_reveal}{errors}[0]{status}, 403, '... but a 403 error frame');
done_testing;
