#!/usr/bin/perl
# The web role reads only through the functions of sql/006: a direct
# SELECT on the tables (log lines, sessions, API tokens among them) is
# refused with permission denied, and the functions answer.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use DBI;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->user('alice', 'deployer');
my $id = $s->sql(q{select (spiderpig.enqueue('alice', '{42}')).id})->[0]{id};
$s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, sensitive, line)
    values ($1, 1, 'stdout', true, 'password=hunter2')}, $id);

my $web = DBI->connect('dbi:Pg:' . join(';', split / /, $s->conninfo('spiderpig_web')),
    '', '', { RaiseError => 0, PrintError => 0, AutoCommit => 1 }) or die $DBI::errstr;

for my $t (qw(log_lines sessions api_tokens deployments prompts events users
              freezes workers settings queue totp login_attempts)) {
    ok(!$web->selectall_arrayref("select * from spiderpig.$t"), "select from $t is refused");
    is($web->state, '42501', "$t: permission denied");
}

my $log = $web->selectall_arrayref(
    q{select text from spiderpig.log_page('alice', $1, 0, 10, false)}, {}, $id);
is_deeply($log, [['<sensitive information hidden>']], 'log_page answers, collapsed');
ok($web->selectall_arrayref(q{select spiderpig.deployment_get($1)}, {}, $id)->[0][0],
    'deployment_get answers');
ok($web->selectall_arrayref(q{select spiderpig.queue_page()})->[0][0], 'queue_page answers');
ok($web->selectall_arrayref(q{select spiderpig.status()})->[0][0], 'status answers');
ok(!$web->selectall_arrayref(q{select spiderpig.admin_overview('alice')}),
    'admin_overview refuses a deployer');
is($web->state, 'SP403', 'with SP403');
ok(!$web->selectall_arrayref(q{select spiderpig.freeze_json()}),
    'the internal helpers are not the web role\'s');
$web->disconnect;
done_testing;
