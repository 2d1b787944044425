#!/usr/bin/perl
# API token lifetime (issue 7, finding 4): at most token_max_days (default
# 90) days, a setting admins change in psql; without a ttl a token gets the
# maximum.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'bob', 'deployer')});

sub create {
    my ($ttl) = @_;
    my ($rows, $err) = try_sql($s,
        q{select spiderpig.create_token('root', 'bob', 't', $1::interval) as t}, $ttl);
    return $rows ? 'ok' : ($err =~ /^(SP\d{3}):/ ? $1 : "error: $err");
}
sub days_left {
    $s->sql(q{select round(extract(epoch from expires_at - now()) / 86400)::int as d
        from spiderpig.api_tokens order by id desc limit 1})->[0]{d};
}

is($s->sql(q{select token_max_days from spiderpig.settings})->[0]{token_max_days}, 90,
    'token_max_days defaults to 90');
is(create('90 days'), 'ok', '90 days is allowed');
is(create('91 days'), 'SP400', '91 days is refused (SP400)');
is(create('366 days'), 'SP400', '366 days is refused');
$s->sql(q{select spiderpig.create_token('root', 'bob', 'default')});
is(days_left(), 90, 'no ttl: 90 days');
$s->sql(q{update spiderpig.settings set token_max_days = 30});
is(create('31 days'), 'SP400', 'token_max_days = 30: 31 days refused');
$s->sql(q{select spiderpig.create_token('root', 'bob', 'default')});
is(days_left(), 30, 'no ttl: 30 days');
done_testing;
