#!/usr/bin/perl
# The daemon takes the user from nginx's gate only: an X-Spiderpig-User
# header sent by the client is replaced by nginx, so alice's token with
# "X-Spiderpig-User: root" is still alice (and may not reveal a deployment
# of bob's, as root could). The daemon runs as its own user and answers
# only on its unix socket, which only nginx's group may open: it listens on
# no TCP port.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Stream;

my $s = SP::Stack->new(workers => 0, stream => 1);
my $st = SP::Stream->new($s);
my %tok = map { $_ => $s->user($_) } qw(alice bob);
my $id = $st->deployment('bob');
$st->add_lines($id, 1, 1, sensitive => sub { 1 }, text => sub { 'SECRET' });

my $forged = { 'X-Spiderpig-User' => 'root', 'X-Spiderpig-Role' => 'admin' };
my $r = $st->run('handshake.js', $st->opts(token => $tok{alice}, headers => $forged));
ok($r->{open}, 'the handshake with forged identity headers passes the gate as alice');
is($r->{hello}{user}, 'alice', '... and the daemon sees alice, not root');

$r = $st->run('collect.js', $st->opts(token => $tok{alice}, headers => $forged,
    deployment => $id, reveal => JSON::PP::true, last_seq => 1, ms => 3000));
is($r->{error}{status}, 403, "alice posing as root may not reveal bob's lines");
unlike(JSON::PP->new->encode($r->{frames}), qr/SECRET/, '... and receives none');

my $pid = $s->sql(q{select pid from pg_stat_activity where usename = 'spiderpig_stream'})->[0]{pid};
ok($pid, 'the daemon is connected as spiderpig_stream');
open(my $pf, '<', $s->dir . '/run/stream.pid') or die "stream.pid: $!";
chomp(my $dpid = <$pf>);
my ($uid) = do { local (@ARGV, $/) = "/proc/$dpid/status"; <> } =~ /^Uid:\s+(\d+)/m;
SKIP: {
    skip 'tools/stack separates users only when run as root', 2 unless $> == 0;
    is(scalar(getpwuid($uid)), 'spiderpig-stream', 'the daemon runs as its own user, spiderpig-stream');
    my @st = stat($s->dir . '/run/stream/stream.sock');
    is(sprintf('%04o %s', $st[2] & 07777, scalar(getgrgid($st[5]))), '0660 spiderpig-nginx',
        "its socket is open to nginx's group only");
}
my $unix = `ss -Hlxp 2>/dev/null | grep spiderpig-strea`;
like($unix, qr/stream\.sock/, 'the daemon listens on its unix socket');
my $inet = `ss -Hltup 2>/dev/null | grep spiderpig-strea`;
is($inet, '', '... and on no TCP or UDP port');
done_testing;
