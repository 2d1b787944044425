#!/usr/bin/perl
# spiderpig-admin runs the admin functions on a real database: each
# subcommand changes what the function changes, and an argument that looks
# like SQL is stored as the text it is (psql variables, never spliced in).
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
my $repo = SP::Stack->repo;
my $conn = $s->conninfo;
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});

sub admin {
    my @argv = ("$repo/tools/spiderpig-admin", '-d', $conn, '-u', 'root', @_);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        exec(@argv) or die "exec: $!";
    }
    my $out = do { local $/; <$fh> };
    close($fh);
    return ($? >> 8, $out);
}

my $evil = q{x'); drop table spiderpig.users; --};
my ($rc, $out) = admin('freeze', $evil);
is($rc, 0, 'freeze exits 0') or diag($out);
is($s->sql(q{select reason from spiderpig.freezes where lifted_at is null
    order by id desc limit 1})->[0]{reason}, $evil,
    'the freeze is in force with the reason exactly as given');
($rc, $out) = admin('unfreeze');
is($rc, 0, 'unfreeze exits 0') or diag($out);
is($s->sql(q{select count(*) as n from spiderpig.freezes
    where lifted_at is null})->[0]{n}, 0, 'and the freeze is lifted');

my $d1 = $s->sql(q{select * from spiderpig.enqueue('alice', array['1'])})->[0]{id};
my $d2 = $s->sql(q{select * from spiderpig.enqueue('alice', array['2'])})->[0]{id};
($rc, $out) = admin('queue', 'list');
is($rc, 0, 'queue list exits 0');
like($out, qr/^\s*1 \|\s+$d1 \|\s+alice.*\n\s*2 \|\s+$d2 \|/m, 'and lists the queue in order');
($rc, $out) = admin('queue', 'move', $d2, 1);
is($rc, 0, 'queue move exits 0') or diag($out);
is($s->sql('select position from spiderpig.deployments where id=$1', $d2)->[0]{position},
    1, 'the moved deployment is first');
($rc, $out) = admin('queue', 'move', "$d2; select 1", 1);
is($rc, 2, 'a deployment id that is not a number is a usage error');

my $tok = $s->sql(q{select spiderpig.create_token('root', 'alice', 'ci') as t})->[0]{t};
my $tid = $s->sql(q{select id from spiderpig.api_tokens where username = 'alice'})->[0]{id};
($rc, $out) = admin('token', 'list', 'alice');
is($rc, 0, 'token list exits 0');
like($out, qr/^\s*$tid \| alice\s+\| ci\s/m, "lists alice's token");
($rc, $out) = admin('token', 'revoke', $tid);
is($rc, 0, 'token revoke exits 0') or diag($out);
ok(defined $s->sql('select revoked_at from spiderpig.api_tokens where id=$1', $tid)->[0]{revoked_at},
    'and the token is revoked');

$s->sql(q{select spiderpig.create_session('alice')});
($rc, $out) = admin('logout', 'alice');
is($rc, 0, 'logout exits 0') or diag($out);
like($out, qr/^\s*1\s*$/m, 'and ends her one session');
is($s->sql(q{select count(*) as n from spiderpig.sessions where username = 'alice'
    and revoked_at is null})->[0]{n}, 0, 'none is left');

($rc, $out) = admin('ban', 'alice', 'left the team');
is($rc, 0, 'ban exits 0') or diag($out);
ok($s->sql(q{select banned from spiderpig.users where name = 'alice'})->[0]{banned},
    'alice is banned');
($rc, $out) = admin('unban', 'alice');
ok(!$s->sql(q{select banned from spiderpig.users where name = 'alice'})->[0]{banned},
    'unban lifts it');

($rc, $out) = admin('-u', 'alice', 'freeze', 'mine');
isnt($rc, 0, 'an actor who is not an admin is refused');
like($out, qr/SP403/, 'with the function\'s SP403');
done_testing;
