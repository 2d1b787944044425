#!/usr/bin/perl
# Bad enqueue bodies are refused with a problem+json naming the field, and
# nothing is written.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $tok = $s->user('alice', 'deployer');
sub count { $s->sql('select count(*) as n from spiderpig.deployments')->[0]{n} }
my $before = count();

my @cases = (
    # [name, body, content-type, status, field, detail-regex]
    ['not JSON', '{"patches": [', 'application/json', 400, undef, qr/not valid JSON/],
    ['trailing garbage', '{"patches": ["1"]} x', 'application/json', 400, undef, qr/not valid JSON/],
    ['array body', '["12345"]', 'application/json', 400, undef, qr/JSON object/],
    ['empty body', '', 'application/json', 400, 'patches', qr/required/],
    ['patches missing', '{}', 'application/json', 400, 'patches', qr/required/],
    ['patches a string', '{"patches": "12345"}', 'application/json', 400, 'patches', qr/array/],
    ['patch a number', '{"patches": [12345]}', 'application/json', 400, 'patches[0]', qr/string/],
    ['no patches', '{"patches": []}', 'application/json', 400, 'patches', qr/1 to 20/],
    ['21 patches', '{"patches": [' . join(',', map { "\"$_\"" } 1001 .. 1021) . ']}',
        'application/json', 400, 'patches', qr/1 to 20/],
    ['shell injection', '{"patches": ["1; rm -rf /"]}', 'application/json', 400,
        'patches[0]', qr/patches\[0\]/],
    ['leading zero', '{"patches": ["012345"]}', 'application/json', 400, 'patches[0]', qr/leading zero/],
    ['ten digits', '{"patches": ["1234567890"]}', 'application/json', 400, 'patches[0]', qr/digits/],
    ['http URL', '{"patches": ["http://gerrit.example.org/r/12345"]}', 'application/json', 400,
        'patches[0]', qr/https/],
    ['URL with a query', '{"patches": ["https://gerrit.example.org/r/12345?x=1"]}',
        'application/json', 400, 'patches[0]', qr/character/],
    ['URL with ..', '{"patches": ["https://gerrit.example.org/r/../12345"]}',
        'application/json', 400, 'patches[0]', qr/\.\./],
    ['duplicate', '{"patches": ["12345", "https://gerrit.example.org/r/12345"]}',
        'application/json', 400, 'patches[1]', qr/repeats patches\[0\]/],
    ['unknown field', '{"patches": ["12345"], "requester": "mallory"}',
        'application/json', 400, 'requester', qr/unknown field/],
    ['field twice', '{"patches": ["1"], "patches": ["2"]}', 'application/json', 400,
        'patches', qr/twice/],
    ['NUL byte', "{\"patches\": [\"1\"]}\0", 'application/json', 400, undef, qr/NUL/],
    ['bad UTF-8', "{\"patches\": [\"\xff\"]}", 'application/json', 400, undef, qr/UTF-8/],
    ['form type', 'patches=12345', 'application/x-www-form-urlencoded', 415, undef, qr/application\/json/],
    ['text type', '{"patches": ["12345"]}', 'text/plain', 415, undef, qr/application\/json/],
);
for my $c (@cases) {
    my ($name, $body, $ct, $status, $field, $re) = @$c;
    my $r = $s->api(POST => '/api/v1/deployments', token => $tok, body => $body,
        headers => { 'Content-Type' => $ct });
    is $r->{status}, $status, "$name: $status" or diag $r->{body};
    like $r->{headers}{'content-type'} // '', qr{^application/problem\+json}, "$name: problem+json";
    is $r->{json}{status}, $status, "$name: status member";
    ok $r->{json}{type} && $r->{json}{title}, "$name: type and title";
    is $r->{json}{field}, $field, "$name: field " . ($field // 'none') if defined $field;
    like $r->{json}{detail} // '', $re, "$name: detail says why";
}
is count(), $before, 'nothing was written';

my $ok = $s->api(POST => '/api/v1/deployments', token => $tok,
    json => { patches => ['https://host.example/r/12345', '999999999'] });
is $ok->{status}, 201, 'a valid request still works' or diag $ok->{body};
is count(), $before + 1, 'and writes one row';

done_testing;
