#!/usr/bin/perl
# readyz knows every migration in sql/ at build time: with one missing from
# the database it answers 503 and names it, and 200 once it is back.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, settings => { worker_stale_after => undef });
my @files = sort map { m{([^/]+)\.sql$} } glob($s->repo . '/sql/[0-9][0-9][0-9]_*.sql');
my $r = $s->api(GET => '/api/v1/readyz');
is($r->{status}, 200, 'ready with every migration applied') or diag($r->{body});
is($r->{json}{schema}, $files[-1], 'and reports the newest one');

for my $gone ($files[-1], '005_vocabulary') {
    $s->sql('delete from spiderpig.schema_migrations where version = $1', $gone);
    $r = $s->api(GET => '/api/v1/readyz');
    is($r->{status}, 503, "503 while $gone is not applied");
    like($r->{json}{detail} // '', qr/\Q$gone\E/, 'the detail names it')
        or diag($r->{body});
    ok($r->{headers}{'retry-after'}, 'with Retry-After');
    $s->sql('insert into spiderpig.schema_migrations (version) values ($1)', $gone);
}

# Before 005 the database has no migrations_applied(): readyz still names
# what is missing, from schema_version().
$s->sql(q{alter function spiderpig.migrations_applied() rename to migrations_applied_saved});
$s->sql(q{delete from spiderpig.schema_migrations where version > '004_login'});
$r = $s->api(GET => '/api/v1/readyz');
is($r->{status}, 503, '503 on a database at 004');
like($r->{json}{detail} // '', qr/005_vocabulary/, 'naming 005 as missing')
    or diag($r->{body});
done_testing;
