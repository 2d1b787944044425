#!/usr/bin/perl
# Tokens and sessions are checked against their hash; revocation, ban,
# logout and idle or absolute expiry take effect on the next check.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha256);
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, $_) for qw(alice bob);
my $who = sub {
    my ($kind, $tok) = @_;
    my $r = $s->sql("select * from spiderpig.auth_$kind(\$1::bytea)", '\\x' . unpack('H*', sha256($tok)))->[0];
    return $r ? "$r->{username}:$r->{role}" : undef;
};
my $t1 = $s->sql(q{select spiderpig.create_token('alice', 'alice', 'laptop') as t})->[0]{t};
like($t1, qr/^spt_[A-Za-z0-9_-]{40,}$/, 'token has a prefix and 240+ random bits');
is($who->(token => $t1), 'alice:deployer', 'token authenticates');
is($who->(token => $t1 . 'x'), undef, 'a different token does not');
is($s->sql(q{select count(*) as n from spiderpig.api_tokens where token_hash = convert_to($1, 'UTF8')}, $t1)->[0]{n}, 0, 'the plaintext is not stored');

my $tid = $s->sql(q{select id from spiderpig.api_tokens where username='alice'})->[0]{id};
$s->sql(q{select spiderpig.revoke_token('alice', $1)}, $tid);
is($who->(token => $t1), undef, 'a revoked token is refused');

my $t2 = $s->sql(q{select spiderpig.create_token('root', 'bob', 'ci', '1 minute') as t})->[0]{t};
my $sess = $s->sql(q{select spiderpig.create_session('bob') as t})->[0]{t};
is($who->(session => $sess), 'bob:deployer', 'session authenticates');
$s->sql(q{select spiderpig.ban_user('root', 'bob', 'compromised laptop')});
is($who->(token => $t2), undef, 'a banned user\'s token is refused');
is($who->(session => $sess), undef, 'a banned user\'s session is refused');
$s->sql(q{select spiderpig.unban_user('root', 'bob')});
is($who->(token => $t2), undef, 'tokens stay revoked after an unban');

my $s1 = $s->sql(q{select spiderpig.create_session('alice') as t})->[0]{t};
my $s2 = $s->sql(q{select spiderpig.create_session('bob') as t})->[0]{t};
$s->sql(q{select spiderpig.logout_user('root', 'alice')});
is($who->(session => $s1), undef, 'logout of one user ends their session');
is($who->(session => $s2), 'bob:deployer', 'and not others');
$s->sql(q{select spiderpig.logout_all('root')});
is($who->(session => $s2), undef, 'log out everyone ends every session');

my $s3 = $s->sql(q{select spiderpig.create_session('alice') as t})->[0]{t};
$s->sql(q{update spiderpig.sessions set last_seen_at = now() - interval '31 minutes' where revoked_at is null});
is($who->(session => $s3), undef, 'a session idle for 31 minutes is refused');
my $s4 = $s->sql(q{select spiderpig.create_session('alice', '1 second') as t})->[0]{t};
sleep 2;
is($who->(session => $s4), undef, 'a session past its absolute expiry is refused');
done_testing;
