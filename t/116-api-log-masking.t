#!/usr/bin/perl
# Sensitive log lines are collapsed to one placeholder per run for everyone
# but the requester or an admin asking with sensitive=1.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $alice = $s->user('alice', 'deployer');
my $bob   = $s->user('bob', 'deployer');
my $root  = $s->user('ada', 'admin');
my $id = $s->api(POST => '/api/v1/deployments', token => $alice,
    json => { patches => ['777'] })->{json}{id};

my @lines = ([1, 0, 'cloning'], [2, 1, 'password=hunter2'], [3, 1, 'token: abc'],
    [4, 0, 'synced'], [5, 1, 'secret=xyz']);
$s->sql(q{insert into spiderpig.log_lines (deployment_id, seq, stream, sensitive, line)
    values ($1, $2, 'stdout', $3, $4)}, $id, $_->[0], $_->[1] ? 'true' : 'false', $_->[2])
    for @lines;

my $b = $s->api(GET => "/api/v1/deployments/$id/log", token => $bob);
is $b->{status}, 200, 'another deployer reads the log';
my @got = map { [$_->{seq}, $_->{last_seq}, $_->{sensitive} ? 1 : 0, $_->{text}] } @{ $b->{json}{lines} };
is_deeply \@got, [
    [1, undef, 0, 'cloning'],
    [2, 3, 1, '<sensitive information hidden>'],
    [4, undef, 0, 'synced'],
    [5, 5, 1, '<sensitive information hidden>'],
], 'each run of sensitive lines is one placeholder';
unlike $b->{body}, qr/hunter2|abc|xyz/, 'no secret in the answer';
is $b->{json}{next_after}, 5, 'next_after is the last seq read';

my $bs = $s->api(GET => "/api/v1/deployments/$id/log?sensitive=1", token => $bob);
is $bs->{status}, 403, 'another deployer asking for sensitive lines: 403';
unlike $bs->{body}, qr/hunter2/, 'and sees nothing';

my $a = $s->api(GET => "/api/v1/deployments/$id/log", token => $alice);
is scalar @{ $a->{json}{lines} }, 4, 'the requester without sensitive=1 sees them collapsed too';

my $as = $s->api(GET => "/api/v1/deployments/$id/log?sensitive=1", token => $alice);
is $as->{status}, 200, 'requester with sensitive=1';
is_deeply [map { $_->{text} } @{ $as->{json}{lines} }],
    ['cloning', 'password=hunter2', 'token: abc', 'synced', 'secret=xyz'], 'sees every line';

my $rs = $s->api(GET => "/api/v1/deployments/$id/log?sensitive=1", token => $root);
is $rs->{status}, 200, 'admin with sensitive=1';
is scalar @{ $rs->{json}{lines} }, 5, 'sees every line';

my $p = $s->api(GET => "/api/v1/deployments/$id/log?after=3&limit=1", token => $bob);
is_deeply [map { $_->{seq} } @{ $p->{json}{lines} }], [4], 'after=3&limit=1: line 4';
is $p->{json}{next_after}, 4, 'next_after 4';

my $e = $s->api(GET => "/api/v1/deployments/$id/log?after=5", token => $bob);
is_deeply $e->{json}{lines}, [], 'nothing after the last line';
is $e->{json}{next_after}, 5, 'next_after stays';

is $s->api(GET => "/api/v1/deployments/$id/log?limit=5001", token => $bob)->{status}, 400,
    'limit above 5000: 400';
is $s->api(GET => "/api/v1/deployments/$id/log?color=red", token => $bob)->{json}{field}, 'color',
    'unknown parameter named';
is $s->api(GET => "/api/v1/deployments/999999/log", token => $bob)->{status}, 404,
    'no such deployment: 404';

done_testing;
