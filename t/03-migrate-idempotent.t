#!/usr/bin/perl
# tools/migrate is idempotent: a second run applies nothing and records
# nothing, and --check tells an up-to-date database from one that is behind.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use File::Temp qw(tempdir);

my $s = SP::Stack->new(workers => 0, nginx => 0);
my @files = sort map { m{([^/]+)\.sql$} } glob($s->repo . '/sql/[0-9][0-9][0-9]_*.sql');
my $conn = $s->conninfo;

my $versions = sub {
    [ map { $_->{version} } @{ $s->sql('select version from spiderpig.schema_migrations order by version') } ];
};
is_deeply($versions->(), \@files, 'the stack applied every sql/NNN_*.sql, one row each');

my $out = qx{'${\ $s->repo}/tools/migrate' '$conn' 2>&1};
is($?, 0, 'a second run exits 0');
unlike($out, qr/applied \d/, 'a second run applies nothing') or diag($out);
like($out, qr/nothing to apply/, 'and says so');
is_deeply($versions->(), \@files, 'schema_migrations is unchanged');

$out = qx{'${\ $s->repo}/tools/migrate' --check '$conn' 2>&1};
is($?, 0, '--check exits 0 when everything is applied') or diag($out);

my $last = $files[-1];
$s->sql('delete from spiderpig.schema_migrations where version = $1', $last);
$out = qx{'${\ $s->repo}/tools/migrate' --check '$conn' 2>&1};
is($? >> 8, 1, '--check exits 1 when a file is not applied');
like($out, qr/\Q$last\E/, '--check names the missing file');
$s->sql('insert into spiderpig.schema_migrations (version, applied_at) values ($1, now())', $last);

# A failing file leaves nothing behind: not its first statements, not a row.
my $tmp = tempdir(CLEANUP => 1);
symlink($_, "$tmp/" . (split m{/}, $_)[-1]) for glob($s->repo . '/sql/[0-9][0-9][0-9]_*.sql');
open(my $fh, '>', "$tmp/999_broken.sql") or die $!;
print $fh "CREATE TABLE spiderpig.half_done (x int);\nSELECT 1/0;\n";
close $fh;
$out = qx{SPIDERPIG_SQL_DIR='$tmp' '${\ $s->repo}/tools/migrate' '$conn' 2>&1};
isnt($?, 0, 'a failing migration makes migrate fail');
like($out, qr/division by zero/, 'with the error from psql');
is($s->sql(q{select to_regclass('spiderpig.half_done') as t})->[0]{t}, undef,
    'its first statement was rolled back');
is_deeply($versions->(), \@files, 'and it is not recorded');

is($s->sql('select spiderpig.schema_version() as v')->[0]{v}, $last,
    'schema_version() reports the newest file');
done_testing;
