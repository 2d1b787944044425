#!/usr/bin/perl
# The daemon's database role, spiderpig_stream, reads only through the
# stream_* functions of sql/009: no table, no write function, no other
# read.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use DBI;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->user('alice');
my $id = $s->sql(q{select (spiderpig.enqueue('alice', ARRAY['12345'])).id as id})->[0]{id};
my $dbh = DBI->connect('dbi:Pg:dbname=spiderpig;host=' . $s->dir . '/run/pg;port=' . $s->port('pg'),
    'spiderpig_stream', '', { RaiseError => 0, PrintError => 0, AutoCommit => 1 })
    or die $DBI::errstr;
my $ok = sub { my ($sql, @b) = @_; my $r = $dbh->selectall_arrayref($sql, undef, @b); defined $r };

ok($ok->('select * from spiderpig.stream_watch($1, $2)', 'alice', $id), 'stream_watch is allowed');
ok($ok->('select * from spiderpig.stream_log($1, $2, 0, 10, false, 10, 1000)', 'alice', $id),
    'stream_log is allowed');
ok($ok->('select spiderpig.stream_deployment($1)', $id), 'stream_deployment is allowed');
ok($ok->('select spiderpig.stream_overview()'), 'stream_overview is allowed');
for my $t (qw(log_lines deployments users sessions api_tokens events prompts queue)) {
    ok(!$ok->("select 1 from spiderpig.$t limit 1"), "no SELECT on $t");
}
ok(!$ok->(q{select spiderpig.enqueue('alice', ARRAY['1'])}), 'no write function (enqueue)');
ok(!$ok->(q{select spiderpig.ban_user('root', 'alice', 'x')}), 'no admin function (ban_user)');
ok(!$ok->(q{select spiderpig.stream_may_reveal('alice', 1)}), 'no direct call of the helpers');
$dbh->disconnect;
done_testing;
