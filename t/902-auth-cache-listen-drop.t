#!/usr/bin/perl
# The app's cache of verified credentials hears revocations on the
# connections it LISTENs with. When they drop, a revocation committed
# meanwhile is announced to nobody: the cache must be flushed before a
# request is served again, so the next request is still refused.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);

sub drop_app_connections {
    return $s->sql(q{select count(pg_terminate_backend(pid)) as n from pg_stat_activity
        where application_name = 'spiderpig-fcgi'})->[0]{n};
}

for my $round (1 .. 3) {
    my $tok = $s->user("eve$round", 'deployer');
    for (1 .. 3) {
        is $s->api(GET => '/api/v1/queue', token => $tok)->{status}, 200, "round $round: cached";
    }
    ok drop_app_connections() > 0, "round $round: the app's connections are cut";
    $s->sql(q{update spiderpig.api_tokens set revoked_at = now() where username = $1}, "eve$round");
    my $r = $s->api(GET => '/api/v1/queue', token => $tok);
    is $r->{status}, 401, "round $round: revoked while nobody listened, refused on the next request"
        or diag $r->{body};

    # The same with a ban, and the queue document: a change made while
    # the connections were down is seen.
    my $ok = $s->user("fred$round", 'deployer');
    is $s->api(GET => '/api/v1/queue', token => $ok)->{status}, 200, 'a good token' for 1 .. 2;
    drop_app_connections();
    my $id = $s->sql(q{select id from spiderpig.enqueue($1, array['77'])}, "fred$round")->[0]{id};
    my $q = $s->api(GET => '/api/v1/queue', token => $ok);
    is $q->{status}, 200, 'the app is back';
    my @ids = map { $_->{id} } ($q->{json}{active} // ()), @{ $q->{json}{queued} // [] };
    ok((grep { $_ == $id } @ids), 'a deployment queued while the connections were down is shown');
    drop_app_connections();
    $s->sql(q{select spiderpig.ban_user('root', $1, 'gone')}, "fred$round");
    my $b = $s->api(GET => '/api/v1/queue', token => $ok);
    is $b->{status}, 401, 'banned while down: refused' or diag $b->{body};
}

done_testing;
