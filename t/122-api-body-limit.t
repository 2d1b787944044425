#!/usr/bin/perl
# Bodies over 64 KiB are refused before parsing, and nothing is written.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');
my $big = '{"patches": ["1"], "pad": "' . ('x' x (70 * 1024)) . '"}';
my $r = $s->api(POST => '/api/v1/deployments', token => $tok, body => $big,
    headers => { 'Content-Type' => 'application/json' });
is $r->{status}, 413, 'over 64 KiB: 413';
like $r->{headers}{'content-type'} // '', qr{^application/problem\+json}, 'problem+json';
is $s->sql('select count(*) as n from spiderpig.deployments')->[0]{n}, 0, 'nothing written';

done_testing;
