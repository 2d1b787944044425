#!/usr/bin/perl
# The app keeps verified tokens and sessions in memory, yet a ban, a token
# revocation (through the API or a plain UPDATE in psql), a logout, "log
# out everyone" and a role change are honoured on the very next request
# made with a credential it had cached. The queue document it keeps shows
# every change committed before the request.
use strict; use warnings;
use lib 't/lib';
use Digest::SHA qw(sha256_hex);
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $adm = $s->user('ada', 'admin');

# Three reads: the first checks the database, the others hit the cache.
sub warm {
    my (%how) = @_;
    for (1 .. 3) {
        my $r = $s->api(GET => '/api/v1/queue', %how);
        return $r->{status} unless $r->{status} == 200;
    }
    return 200;
}
sub next_status { $s->api(GET => '/api/v1/queue', @_)->{status} }

# A live AAL2 session for user, made as login would (its cookie value).
sub session_for {
    my ($user) = @_;
    my $tok = 'sess-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 40);
    $s->sql(q{insert into spiderpig.sessions (token_hash, username, expires_at, aal)
        values (decode($1, 'hex'), $2, now() + interval '1 hour', 2)}, sha256_hex($tok), $user);
    return (headers => { Cookie => "__Host-spiderpig_session=$tok" });
}

for my $round (1 .. 3) {
    my $tok = $s->user('mallory', 'deployer');
    is warm(token => $tok), 200, "round $round: mallory's token works (cached)";
    my $tid = $s->sql(q{select max(id) as id from spiderpig.api_tokens where username = 'mallory'})->[0]{id};
    is $s->api(DELETE => "/api/v1/admin/tokens/$tid", token => $adm)->{status}, 200, 'admin revokes it';
    is next_status(token => $tok), 401, "round $round: the next request is refused";

    $tok = $s->token('mallory');
    is warm(token => $tok), 200, 'a new token works (cached)';
    $s->sql(q{update spiderpig.api_tokens set revoked_at = now() where username = 'mallory'
        and revoked_at is null});
    is next_status(token => $tok), 401, 'revoked by a plain UPDATE in psql: refused at once';

    $tok = $s->token('mallory');
    is warm(token => $tok), 200, 'another token works (cached)';
    $s->sql(q{select spiderpig.ban_user('root', 'mallory', 'testing the cache')});
    is next_status(token => $tok), 401, 'banned in psql: refused at once';
    $s->sql(q{select spiderpig.unban_user('root', 'mallory')});
}

my %alice = session_for('ada');
is warm(%alice), 200, "ada's session works (cached)";
$s->sql(q{select spiderpig.logout_user('root', 'ada')});
is next_status(%alice), 401, 'logout_user: her session is refused at once';

%alice = session_for('ada');
is warm(%alice), 200, 'a new session works (cached)';
$s->sql(q{select spiderpig.logout_all('root')});
is next_status(%alice), 401, 'logout_all: refused at once';

# A role taken away: an admin's cached identity must not pass the admin gate.
my $bob = $s->user('bob', 'admin');
is warm(token => $bob), 200, "bob's admin token works (cached)";
$s->sql(q{select spiderpig.add_user('root', 'bob', 'deployer')});
my $r = $s->api(POST => '/api/v1/admin/freeze', token => $bob, json => { reason => 'x' });
is $r->{status}, 403, 'bob, now a deployer, is refused an admin action at once';
is $s->sql('select count(*) as n from spiderpig.freezes')->[0]{n}, 0, 'nothing frozen';

# Time runs out without any notification: a cached token is believed no
# longer than it lives.
my $dan = $s->user('dan', 'deployer');
$s->sql(q{update spiderpig.api_tokens set expires_at = now() + interval '2 seconds'
    where username = 'dan'});
is warm(token => $dan), 200, "dan's token, 2 seconds from its expiry, works (cached)";
sleep 3;
is next_status(token => $dan), 401, 'once expired it is refused, cache or not';

# The queue document: every write is seen by the next read.
my $carol = $s->user('carol', 'deployer');
for my $i (1 .. 10) {
    my $e = $s->api(POST => '/api/v1/deployments', token => $carol, json => { patches => ["" . (500 + $i)] });
    is $e->{status}, 201, "enqueue $i" or diag $e->{body};
    my $q = $s->api(GET => '/api/v1/queue', token => $carol);
    my @ids = map { $_->{id} } ($q->{json}{active} // ()), @{ $q->{json}{queued} // [] };
    ok((grep { $_ == $e->{json}{id} } @ids), "the next read shows deployment $e->{json}{id}");
    $s->sql('select spiderpig.cancel($1, $2)', 'root', $e->{json}{id});
    $q = $s->api(GET => '/api/v1/queue', token => $carol);
    @ids = map { $_->{id} } ($q->{json}{active} // ()), @{ $q->{json}{queued} // [] };
    ok(!(grep { $_ == $e->{json}{id} } @ids), 'and the read after its cancel in psql does not');
}

done_testing;
