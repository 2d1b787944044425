#!/usr/bin/perl
# The TOTP second factor in SQL: enrolment, the replay guard (also between
# two concurrent logins), the failure lockout and the admin reset.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use DBI;
use DBD::Pg qw(:async);
use Time::HiRes qw(sleep);
use SP::Stack;
use SP::Flow qw(try_sql);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', $1, 'deployer')}, $_) for qw(alice bob carol dave);

sub refused {
    my ($want, $name, $sql, @b) = @_;
    my ($rows, $err) = try_sql($s, $sql, @b);
    like($err // 'succeeded', qr/^\Q$want\E:/, $name) or diag($err);
}
# A sealed secret as lib/totp.c makes it: version 1, 12 + 20 + 16 bytes.
sub blob { '\\x01' . join('', map { sprintf '%02x', int rand 256 } 1 .. 48) }
sub enrol {
    my ($who, $step) = @_;
    $s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', $who, blob());
    $s->sql('select spiderpig.totp_confirm($1, $2)', $who, $step);
}
sub accept_step {
    $s->sql('select spiderpig.totp_accept($1, $2) as ok', @_)->[0]{ok} ? 1 : 0;
}
sub events {
    $s->sql(q{select count(*) as n from spiderpig.events where action = $1
        and details->>'user' = $2}, @_)->[0]{n};
}
my $n = $s->sql('select spiderpig.totp_now_step() as n')->[0]{n};

# Enrolment ------------------------------------------------------------------
my $b1 = blob();
$s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'alice', $b1);
my $b2 = blob();
$s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'alice', $b2);
my $row = $s->sql(q{select encode(secret_sealed, 'hex') as hex, last_step, confirmed
    from spiderpig.totp_get('alice')})->[0];
is('\\x' . $row->{hex}, $b2, 'a second enrolment replaces an unconfirmed one');
ok(!$row->{confirmed}, 'not confirmed yet');
refused('SP409', 'no login with an unconfirmed secret',
    'select spiderpig.totp_accept($1, $2)', 'alice', $n);
refused('SP400', 'a sealed secret of the wrong size',
    'select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'alice', '\\x0102');
$s->sql('select spiderpig.totp_confirm($1, $2)', 'alice', $n - 2);
ok($s->sql(q{select confirmed from spiderpig.totp_get('alice')})->[0]{confirmed},
    'a code confirms the enrolment');
refused('SP409', 'a confirmed secret is not replaced',
    'select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'alice', blob());
refused('SP409', 'nor confirmed twice', 'select spiderpig.totp_confirm($1, $2)', 'alice', $n - 1);
is(scalar @{ $s->sql(q{select * from spiderpig.totp_get('bob')}) }, 0,
    'no row for a user who has not enrolled');
refused('SP401', 'unknown user', q{select * from spiderpig.totp_get('nobody')});

# Replay guard ---------------------------------------------------------------
is(accept_step('alice', $n - 2), 0, 'the confirming step cannot log in again');
is(accept_step('alice', $n - 1), 1, 'a newer step is accepted');
is(accept_step('alice', $n - 1), 0, 'the same step twice: the second is refused');
is(accept_step('alice', $n - 2), 0, 'an older step is refused');
refused('SP400', 'a step far from now is refused',
    'select spiderpig.totp_accept($1, $2)', 'alice', $n + 100);

# Two logins with the same code at once: the row lock makes the second wait
# for the first, then its conditional UPDATE finds the step used.
my $dsn = 'dbi:Pg:' . join(';', split / /, $s->conninfo);
my %o = (RaiseError => 1, PrintError => 0, AutoCommit => 0);
my $first = DBI->connect($dsn, '', '', \%o) or die $DBI::errstr;
my $second = DBI->connect($dsn, '', '', \%o) or die $DBI::errstr;
my $concurrent = sub {
    my ($step, $first_ends) = @_;
    my ($ok_a) = $first->selectrow_array('select spiderpig.totp_accept($1, $2)', undef, 'alice', $step);
    my $sth = $second->prepare('select spiderpig.totp_accept($1, $2)', { pg_async => PG_ASYNC });
    $sth->execute('alice', $step);
    sleep 0.5;
    my $waited = !$second->pg_ready;
    $first_ends eq 'commit' ? $first->commit : $first->rollback;
    $second->pg_result;
    my ($ok_b) = $sth->fetchrow_array;
    $second->commit;
    return ($ok_a ? 1 : 0, $waited ? 1 : 0, $ok_b ? 1 : 0);
};
is_deeply([$concurrent->($n, 'commit')], [1, 1, 0],
    'concurrent logins with one code: the second waits, then is refused');
is_deeply([$concurrent->($n + 1, 'rollback')], [1, 1, 1],
    'when the first rolls back, the second gets the step');
$_->disconnect for $first, $second;
is($s->sql(q{select last_step from spiderpig.totp_get('alice')})->[0]{last_step}, $n + 1,
    'last_step is the newest accepted step');

# Lockout ---------------------------------------------------------------------
enrol('bob', $n - 2);
my @counts = map { $s->sql(q{select spiderpig.totp_fail('bob') as n})->[0]{n} } 1 .. 4;
is_deeply(\@counts, [1, 2, 3, 4], 'totp_fail counts recent failures');
is($s->sql(q{select spiderpig.totp_locked_until('bob') as u})->[0]{u}, undef,
    '4 failures do not lock');
is($s->sql(q{select spiderpig.totp_fail('bob') as n})->[0]{n}, 5, 'the 5th failure');
ok($s->sql(q{select spiderpig.totp_locked_until('bob')
    between now() + interval '14 minutes' and now() + interval '15 minutes' as ok})->[0]{ok},
    'locks for 15 minutes');
is(events('totp_locked', 'bob'), 1, 'the lock is an event');
refused('SP429', 'a right code is refused while locked',
    'select spiderpig.totp_accept($1, $2)', 'bob', $n - 1);
$s->sql(q{update spiderpig.totp_failures set at = at - interval '14 minutes' where username = 'bob'});
ok(defined $s->sql(q{select spiderpig.totp_locked_until('bob') as u})->[0]{u},
    'still locked 14 minutes after the 5th failure');
$s->sql(q{update spiderpig.totp_failures set at = at - interval '2 minutes' where username = 'bob'});
is($s->sql(q{select spiderpig.totp_locked_until('bob') as u})->[0]{u}, undef,
    'unlocked 16 minutes after');
is(accept_step('bob', $n - 1), 1, 'and a right code works again');

$s->sql(q{select spiderpig.totp_fail('carol')}) for 1 .. 4;
$s->sql(q{update spiderpig.totp_failures set at = at - interval '11 minutes' where username = 'carol'});
is($s->sql(q{select spiderpig.totp_fail('carol') as n})->[0]{n}, 1,
    'failures older than 10 minutes do not count');
is($s->sql(q{select spiderpig.totp_locked_until('carol') as u})->[0]{u}, undef,
    '5 failures spread over 11 minutes do not lock');

enrol('dave', $n - 2);
$s->sql(q{select spiderpig.totp_fail('dave')}) for 1 .. 4;
is(accept_step('dave', $n - 1), 1, 'a right code after 4 failures');
is($s->sql(q{select spiderpig.totp_fail('dave') as n})->[0]{n}, 1,
    'starts the count again');

# Reset -----------------------------------------------------------------------
refused('SP403', 'a deployer cannot reset', q{select spiderpig.totp_reset('alice', 'bob')});
refused('SP403', 'not even their own', q{select spiderpig.totp_reset('bob', 'bob')});
$s->sql(q{select spiderpig.totp_fail('bob')}) for 1 .. 5;
$s->sql(q{select spiderpig.totp_reset('root', 'bob')});
is(scalar @{ $s->sql(q{select * from spiderpig.totp_get('bob')}) }, 0,
    'an admin reset deletes the enrolment');
is($s->sql(q{select spiderpig.totp_locked_until('bob') as u})->[0]{u}, undef,
    'and the lock');
is($s->sql(q{select actor from spiderpig.events where action = 'totp_reset'})->[0]{actor},
    'root', 'the reset is audited with the admin');
$s->sql('select spiderpig.totp_begin_enrolment($1, $2::bytea)', 'bob', blob());
pass('bob can enrol again');
refused('SP404', 'resetting a user without a second factor',
    q{select spiderpig.totp_reset('root', 'carol')});

# Audit and privileges --------------------------------------------------------
is(events('totp_enrolment_started', 'alice'), 2, 'each enrolment is an event');
is(events('totp_confirmed', 'alice'), 1, 'the confirmation too');
is(events('totp_accepted', 'alice'), 3, 'each accepted code, not the refused ones');
is(events('totp_failed', 'carol'), 5, 'each failure');

my $web = DBI->connect('dbi:Pg:' . join(';', split / /, $s->conninfo('spiderpig_web')),
    '', '', { RaiseError => 0, PrintError => 0, AutoCommit => 1 }) or die $DBI::errstr;
ok($web->selectall_arrayref(q{select * from spiderpig.totp_get('alice')}),
    'the web role calls the functions');
ok(!$web->selectall_arrayref('select * from spiderpig.totp'),
    'but cannot read the table');
is($web->state, '42501', 'permission denied');
ok(!$web->selectall_arrayref(q{select spiderpig.totp_lock_end('alice')}),
    'nor call the internal helpers');
$web->disconnect;
done_testing;
