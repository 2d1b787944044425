#!/usr/bin/perl
# settings.gerrit_host holds change URLs to the configured Gerrit: enqueue
# (API and psql alike) refuses a URL naming another host with a 400 naming
# it, field "patches". Bare change numbers always pass; without a host set,
# any host passes as before. A URL naming a patchset pins it.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql);

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');
$s->sql('update spiderpig.settings set max_queued_per_user = 20');
my $enq = sub { try_sql($s, 'select id from spiderpig.enqueue($1, $2)', 'alice', [@_]) };

my ($r, $err) = $enq->('https://evil.example.com/r/c/x/+/1');
is($err, undef, 'without a Gerrit host any host is accepted (as before)');

$s->sql(q{update spiderpig.settings set gerrit_host = 'gerrit.example.org'});
($r, $err) = $enq->('12345', 'https://evil.example.com/r/c/x/+/1');
like($err // '', qr/^SP400: https:\/\/evil\.example\.com\/r\/c\/x\/\+\/1 names the host evil\.example\.com; only changes on gerrit\.example\.org are accepted/,
    'psql: another host is SP400 naming it');
($r, $err) = $enq->('https://Gerrit.Example.org/r/c/mediawiki/core/+/2', '3');
is($err, undef, 'the configured host (any case) and a bare number pass');

my $api = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['https://gerrit.example.org:8443/c/x/+/4'] });
is($api->{status}, 400, 'API: another port is another host: 400');
like($api->{headers}{'content-type'} // '', qr{^application/problem\+json}, 'problem+json');
is($api->{json}{field}, 'patches', 'field "patches"');
like($api->{json}{detail} // '', qr/names the host gerrit\.example\.org:8443/, 'the detail names the host');

is_deeply($s->sql(q{select spiderpig.patch_change(p) as c, spiderpig.patch_patchset(p) as ps, spiderpig.patch_host(p) as h
    from unnest(array['https://gerrit.example.org/r/c/core/+/12345/3', 'https://gerrit.example.org/r/c/core/+/12345',
    'https://gerrit.example.org/r/12345/', '12345']) p}),
    [ { c => 12345, ps => 3, h => 'gerrit.example.org' }, { c => 12345, ps => undef, h => 'gerrit.example.org' },
      { c => 12345, ps => undef, h => 'gerrit.example.org' }, { c => 12345, ps => undef, h => undef } ],
    'change, pinned patchset and host of each URL shape');
($r, $err) = $enq->('https://gerrit.example.org/r/c/core/+/777/2', '777');
like($err // '', qr/^SP400: the same change is listed twice/, 'a patchset URL names its change, not the patchset');

$s->sql(q{select spiderpig.gerrit_host_set('w1', 'Other.Example.org:8080')});
is($s->sql('select gerrit_host from spiderpig.settings')->[0]{gerrit_host}, 'other.example.org:8080',
    'gerrit_host_set stores the host in lower case');
ok($s->sql(q{select count(*) as n from spiderpig.events where action = 'gerrit_host'})->[0]{n} == 1, 'and records the change');
done_testing;
