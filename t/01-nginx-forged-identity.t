#!/usr/bin/perl
# Identity comes only from /_auth: headers that name a user, Basic auth and
# bad tokens get a 401 problem+json, and a deployer's valid token with a
# forged admin header is still a deployer.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

my $s = SP::Stack->new(workers => 0);
my $alice = $s->user('alice', 'deployer');

my %forged = (
    'REMOTE_USER'       => 'root',
    'Remote-User'       => 'root',
    'X-Remote-User'     => 'root',
    'X-Spiderpig-User'  => 'root',
    'X-Spiderpig-Role'  => 'admin',
    'X-Forwarded-User'  => 'root',
    'X-Auth-Request-User' => 'root',
);
my @attempts = (
    [ 'no credentials', {} ],
    (map { [ "$_ header", { $_ => $forged{$_} } ] } sort keys %forged),
    [ 'all forged headers', {%forged} ],
    [ 'Basic root:root', { Authorization => 'Basic cm9vdDpyb290' } ],
    [ 'Basic alice:token', { Authorization => 'Basic ' . encode_b64("alice:$alice") } ],
    [ 'a made-up bearer token', { Authorization => 'Bearer spt_' . ('A' x 43), %forged } ],
    [ 'a token with one byte changed', { Authorization => 'Bearer ' . flip_last($alice) } ],
    [ 'a session cookie that does not exist', { Cookie => '__Host-spiderpig=nope', %forged } ],
);
for my $a (@attempts) {
    my ($what, $h) = @$a;
    for my $req ([ GET => '/api/v1/queue' ], [ POST => '/api/v1/admin/freeze' ]) {
        my $r = $s->api($req->[0], $req->[1], headers => $h,
            $req->[0] eq 'POST' ? (json => { reason => 'forged' }) : ());
        is($r->{status}, 401, "$what: $req->[0] $req->[1] is 401");
        like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, "$what: problem+json")
            and is($r->{json}{status}, 401, "$what: the problem says 401");
    }
}
is($s->sql('select count(*) as n from spiderpig.freezes')->[0]{n}, 0, 'no freeze was made');

# A valid deployer token with forged admin headers.
my %with_forgery = (%forged, Authorization => "Bearer $alice");
my $r = $s->api(GET => '/api/v1/queue', headers => \%with_forgery);
is($r->{status}, 200, 'the deployer token itself works') or diag($r->{body});

$r = $s->api(POST => '/api/v1/admin/freeze', headers => \%with_forgery,
    json => { reason => 'forged admin' });
is($r->{status}, 403, 'forged admin headers on a deployer token: admin endpoint says 403');
like($r->{headers}{'content-type'} // '', qr{^application/problem\+json}, '403 is problem+json');
is($s->sql('select count(*) as n from spiderpig.freezes')->[0]{n}, 0, 'still no freeze');

$r = $s->api(POST => '/api/v1/deployments', headers => \%with_forgery,
    json => { patches => ['12345'] });
is($r->{status}, 201, 'the deployer can enqueue') or diag($r->{body});
my $row = $s->sql(q{select requester from spiderpig.deployments order by id desc limit 1})->[0];
is($row->{requester}, 'alice', 'the deployment is requested by alice, not the forged root');
my $ev = $s->sql(q{select array_agg(distinct actor) as a from spiderpig.events where deployment_id is not null})->[0]{a};
is_deeply($ev, ['alice'], 'every event names alice as the actor');

sub encode_b64 { require MIME::Base64; MIME::Base64::encode_base64($_[0], '') }
sub flip_last { my $t = shift; substr($t, -1, 1) = substr($t, -1) eq 'A' ? 'B' : 'A'; $t }
done_testing;
