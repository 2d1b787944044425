#!/usr/bin/perl
# A receiver that is down (nothing listens on its port) gets every
# announcement once it comes up, in order, none lost: the sender retries
# the oldest with growing gaps (each retry's delay is longer than the one
# before), and the newer rows wait behind it. The database going away
# and coming back loses nothing either: the sender reconnects.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Hooks;
use Time::Local qw(timegm);

my $port = (SP::Stack::free_ports(1))[0];
my $s = SP::Stack->new(workers => 0, nginx => 0, hooks => {
    url => "http://127.0.0.1:$port/hook", backoff_ms => 300,
    backoff_max_ms => 3000, max_attempts => 50, timeout => 2 });

$s->sql(q{select spiderpig.freeze('root', 'one')});
$s->sql(q{select spiderpig.unfreeze('root')});
$s->sql(q{select spiderpig.freeze('root', 'three')});

# The log's failed lines: [time in seconds, attempt, retry_ms] of row $id.
my $failures = sub {
    my ($id) = @_;
    open(my $fh, '<', $s->log_path('hooks')) or return [];
    my @f;
    while (<$fh>) {
        next unless /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z .* failed id=$id event=\w+ attempt=(\d+) retry_ms=(\d+)/;
        push @f, [ timegm($6, $5, $4, $3, $2 - 1, $1) + $7 / 1000, $8, $9 ];
    }
    return \@f;
};
my $first = $s->sql(q{select min(id) as id from spiderpig.hook_outbox})->[0]{id};
$s->wait_for(sub { @{ $failures->($first) } >= 4 }, 60, 'four failed attempts');
my $rows = $s->sql(q{select outbox_id as id, status, attempts, last_error from spiderpig.hook_deliveries order by outbox_id});
is(scalar @$rows, 3, 'three rows waiting');
ok(!(grep { $_->{status} ne 'pending' } @$rows), 'all pending');
like($rows->[0]{last_error}, qr/connect|refused/i, 'the oldest failed to connect')
    or diag explain $rows->[0];
is($rows->[1]{attempts}, 0, 'the newer ones were not tried before it');

my $f = $failures->($first);
is_deeply([ map { $_->[1] } @$f[0 .. 3] ], [1, 2, 3, 4], 'attempts 1, 2, 3, 4');
ok($f->[1][2] > $f->[0][2] && $f->[2][2] > $f->[1][2] && $f->[3][2] > $f->[2][2],
    'each retry delay longer than the one before')
    or diag explain [ map { $_->[2] } @$f ];
my @gap = map { $f->[$_ + 1][0] - $f->[$_][0] } 0 .. 2;
ok($gap[1] > $gap[0], sprintf('the second gap (%.2f s) is longer than the first (%.2f s)',
    $gap[1], $gap[0]));

# The receiver comes up on the port.
my $r = SP::Hooks->new(secret => $s->hooks_secret, port => $port);
my $req = $r->wait_for(sub { @_ >= 3 }, 60, 'three deliveries');
is(scalar @$req, 3, 'three deliveries');
is_deeply([ map { $_->{delivery} } @$req ], [ map { $_->{id} } @$rows ],
    'each row once, oldest first');
is_deeply([ map { $_->{json}{reason} } @$req ], [qw(one one three)], 'in the order they happened');
ok(!(grep { !$_->{valid} } @$req), 'all signed');
$s->wait_for(sub {
    $s->sql(q{select count(*) as n from spiderpig.hook_deliveries where status = 'delivered'})->[0]{n} == 3
}, 10, 'all rows delivered');
ok($s->sql(q{select attempts from spiderpig.hook_deliveries where outbox_id = $1}, $first)->[0]{attempts} >= 5,
    'the oldest after its retries');

$s->stop_postgres;
sleep 1;
$s->start_postgres;
$s->sql(q{select spiderpig.unfreeze('root')});
$req = $r->wait_for(sub { @_ >= 4 }, 60, 'the announcement after a database restart');
is($req->[3]{json}{frozen}, JSON::PP::false, 'after a database restart the sender carries on');
done_testing;
