#!/usr/bin/perl
# 200 submissions at once from 20 users: every one is queued, and the
# positions are exactly 1..200 with no gaps or repeats.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use SP::Stack;

my $per_user = 10;
my $s = SP::Stack->new(workers => 0,
    settings => { max_queued_per_user => $per_user });
my @tokens = map { $s->user("user$_", 'deployer') } 1 .. 20;

# Children must not share the parent's kept-alive TLS connection: drop it
# before forking so each child opens its own.
delete $s->{http};
my @pids;
for my $u (0 .. $#tokens) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # The child shares the parent's stack object: leave with _exit so
        # no destructor stops the stack or closes the parent's handles.
        my $fails = 0;
        for my $i (1 .. $per_user) {
            my $change = 100000 + $u * 100 + $i;
            my $r = $s->api(POST => '/api/v1/deployments', token => $tokens[$u],
                json => { patches => ["$change"] });
            if ($r->{status} != 201) {
                print STDERR "user$u #$i: $r->{status} $r->{body}\n";
                $fails++;
            }
        }
        POSIX::_exit($fails ? 1 : 0);
    }
    push @pids, $pid;
}
my $failed = 0;
for (@pids) { waitpid($_, 0); $failed++ if $? != 0 }
is $failed, 0, 'every client got 201 for every submission';

my $rows = $s->sql(q{select position from spiderpig.deployments
    where state = 'queued' order by position});
is scalar @$rows, 200, '200 queued deployments';
is_deeply [map { $_->{position} } @$rows], [1 .. 200], 'positions exactly 1..200';

my $per = $s->sql(q{select requester, count(*) as n from spiderpig.deployments
    group by requester order by requester});
is scalar(grep { $_->{n} == $per_user } @$per), 20, 'ten from each of the 20 users';

my $q = $s->api(GET => '/api/v1/queue', token => $tokens[0]);
is $q->{status}, 200, 'queue answers';
is scalar @{ $q->{json}{queued} }, 200, 'the API lists all 200';
is_deeply [map { $_->{position} } @{ $q->{json}{queued} }], [1 .. 200], 'in order';

done_testing;
