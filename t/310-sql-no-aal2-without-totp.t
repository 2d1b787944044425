#!/usr/bin/perl
# Issue 7, finding 2: the web role cannot turn a login that has not passed
# the second factor into a session the gate accepts. The only way to an
# AAL2 session is totp_login, which consumes a TOTP step of the session's
# own user in the same transaction; session_upgrade is not the web role's.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use DBI;
use Digest::SHA qw(sha256);
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, $_) for qw(alice bob carol dave);

# The web role, connected the way the app connects: the ini's [database] web.
my ($web_conninfo) = do {
    open(my $fh, '<', $s->ini_path) or die $s->ini_path . ": $!";
    map { /^\s*web\s*=\s*(.+?)\s*$/ ? $1 : () } <$fh>;
};
like($web_conninfo, qr/user=spiderpig_web/, 'the app connects as spiderpig_web');
my $web = DBI->connect('dbi:Pg:' . join(';', split / /, $web_conninfo), '', '',
    { RaiseError => 0, PrintError => 0, AutoCommit => 1 }) or die $DBI::errstr;

sub hash_of { '\\x' . unpack('H*', sha256($_[0])) }
# [rows] or "SQLSTATE: message", as the web role.
sub web {
    my ($sql, @b) = @_;
    my $rows = $web->selectall_arrayref($sql, { Slice => {} }, @b);
    return $rows if $rows;
    (my $msg = $web->errstr // '') =~ s/^ERROR:\s+//;
    return $web->state . ': ' . (split /\n/, $msg)[0];
}
sub refused {
    my ($want, $name, $sql, @b) = @_;
    my $r = web($sql, @b);
    like(ref $r ? 'succeeded' : $r, qr/^\Q$want\E:/, $name);
}
# What the gate says of a session token: "user:role" or undef.
sub gate {
    my $r = $s->sql('select * from spiderpig.auth_session($1::bytea)', hash_of($_[0]))->[0];
    return $r ? "$r->{username}:$r->{role}" : undef;
}
# An AAL1 session as the identity provider step leaves it (login_complete
# writes this row; made here directly so this test does not depend on how
# login_complete names users).
sub aal1 {
    my ($who) = @_;
    my $tok = 'sps_aal1-' . $who . '-' . int(rand 1e9) . ('x' x 20);
    $s->sql(q{insert into spiderpig.sessions (token_hash, username, expires_at,
        idle_timeout, aal) values ($1::bytea, $2, now() + interval '10 minutes',
        interval '10 minutes', 1)}, hash_of($tok), $who);
    return $tok;
}
sub aal2_count {
    $s->sql(q{select count(*)::int as n from spiderpig.sessions where username = $1
        and aal = 2 and revoked_at is null}, $_[0])->[0]{n};
}
sub blob { '\\x01' . join('', map { sprintf '%02x', int rand 256 } 1 .. 48) }
my $n = $s->sql('select spiderpig.totp_now_step() as n')->[0]{n};

# The review's path: login_complete, then session_upgrade, no TOTP at all.
my $mallory;
if ($s->sql(q{select to_regprocedure('spiderpig.login_complete(text,text)') is not null as x})->[0]{x}) {
    my $r = web(q{select spiderpig.login_complete('mallory', 'admin') as t});
    $mallory = ref $r ? $r->[0]{t} : undef;
    ok(defined $mallory, 'the web role opens an AAL1 session (login_complete)') or diag($r);
}
if (!defined $mallory) {
    $s->sql(q{select spiderpig.add_user('root', 'mallory', 'admin')});
    $mallory = aal1('mallory');
}
is(gate($mallory), undef, 'the gate refuses the AAL1 session');
refused('42501', 'the web role cannot call session_upgrade',
    'select spiderpig.session_upgrade($1::bytea)', hash_of($mallory));
refused('42501', 'nor record a TOTP step without the upgrade (totp_accept)',
    'select spiderpig.totp_accept($1, $2)', 'mallory', $n);
refused('42501', 'nor confirm an enrolment without it (totp_confirm)',
    'select spiderpig.totp_confirm($1, $2)', 'mallory', $n);
refused('SP404', 'totp_login without a second factor is refused',
    'select spiderpig.totp_login($1::bytea, $2)', hash_of($mallory), $n);
is(aal2_count('mallory'), 0, 'mallory has no AAL2 session');
is(gate($mallory), undef, 'and the AAL1 session still does not pass');

# The legitimate path, a confirmed second factor: the step is consumed and
# the session replaced in one call.
$s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'alice', blob());
$s->sql('select spiderpig.totp_confirm($1, $2)', 'alice', $n - 2);
my $a1 = aal1('alice');
my $r = web('select spiderpig.totp_login($1::bytea, $2) as t', hash_of($a1), $n - 1);
my $a2 = ref $r ? $r->[0]{t} : undef;
like($a2 // $r, qr/^sps_[A-Za-z0-9_-]{40,}$/, 'a valid step gives a new session token');
is(gate($a2), 'alice:deployer', 'which passes the gate');
is(gate($a1), undef, 'the AAL1 token does not');
is($s->sql(q{select revoked_by from spiderpig.sessions where token_hash = $1::bytea},
    hash_of($a1))->[0]{revoked_by}, 'upgrade', 'the AAL1 session is ended');
is($s->sql(q{select last_step from spiderpig.totp_get('alice')})->[0]{last_step}, $n - 1,
    'the step is recorded');
refused('SP401', 'an ended AAL1 session cannot be upgraded again',
    'select spiderpig.totp_login($1::bytea, $2)', hash_of($a1), $n);
refused('SP401', 'nor can an AAL2 session',
    'select spiderpig.totp_login($1::bytea, $2)', hash_of($a2), $n);

# A replayed step: no session, the AAL1 one stays as it was.
my $a3 = aal1('alice');
$r = web('select spiderpig.totp_login($1::bytea, $2) as t', hash_of($a3), $n - 1);
ok(ref $r && !defined $r->[0]{t}, 'a used step answers NULL (the caller counts a failure)')
    or diag(explain $r);
is(aal2_count('alice'), 1, 'and opens no session');
is($s->sql(q{select aal, revoked_at from spiderpig.sessions where token_hash = $1::bytea},
    hash_of($a3))->[0]{aal}, 1, 'the AAL1 session is unchanged');

# First login: the first code confirms the enrolment and upgrades.
web('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'bob', blob());
my $b1 = aal1('bob');
$r = web('select spiderpig.totp_login($1::bytea, $2) as t', hash_of($b1), $n);
is(gate(ref $r ? $r->[0]{t} : ''), 'bob:deployer', 'the confirming code gives an AAL2 session');
ok($s->sql(q{select confirmed from spiderpig.totp_get('bob')})->[0]{confirmed},
    'and confirms the enrolment');

# Locked: refused, nothing consumed, no session.
$s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'carol', blob());
$s->sql('select spiderpig.totp_confirm($1, $2)', 'carol', $n - 2);
$s->sql(q{select spiderpig.totp_fail('carol')}) for 1 .. 5;
my $c1 = aal1('carol');
refused('SP429', 'a locked user gets no session',
    'select spiderpig.totp_login($1::bytea, $2)', hash_of($c1), $n);
is(aal2_count('carol'), 0, 'carol has no AAL2 session');

# Banned between the provider and the code: refused.
$s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'dave', blob());
$s->sql('select spiderpig.totp_confirm($1, $2)', 'dave', $n - 2);
my $d1 = aal1('dave');
$s->sql(q{update spiderpig.users set banned = true where name = 'dave'});
refused('SP401', 'a banned user gets no session',
    'select spiderpig.totp_login($1::bytea, $2)', hash_of($d1), $n);

# Audit: the upgrade and the accepted code are events of the same user.
is($s->sql(q{select count(*)::int as n from spiderpig.events where actor = 'alice'
    and action = 'login' and details->>'aal' = '2'})->[0]{n}, 1, 'one AAL2 login event for alice');
$web->disconnect;
done_testing;
