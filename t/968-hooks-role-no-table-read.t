#!/usr/bin/perl
# The sender's role reads nothing directly: a SELECT on any table (the
# outbox among them) is refused, so are the other roles' functions; only
# the hooks_* functions answer.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use DBI;
use SP::Stack;

my $s = SP::Stack->new(workers => 0, nginx => 0);
my $h = DBI->connect('dbi:Pg:' . join(';', split / /, $s->conninfo('spiderpig_hooks')),
    '', '', { RaiseError => 0, PrintError => 0, AutoCommit => 1 }) or die $DBI::errstr;
ok(defined $h->selectrow_array(q{select spiderpig.hooks_register('chat', '{freeze}')}),
    'hooks_register answers') or diag $h->errstr;
$s->sql(q{select spiderpig.freeze('root', 'something to send')});

for my $t (qw(hook_outbox hook_deliveries hook_receivers log_lines sessions api_tokens deployments prompts events
              users freezes workers settings queue totp identities)) {
    ok(!$h->selectall_arrayref("select * from spiderpig.$t"), "select from $t is refused");
    is($h->state, '42501', "$t: permission denied");
}
ok(!$h->do(q{update spiderpig.hook_deliveries set status = 'delivered'}), 'no update of the deliveries');
is($h->state, '42501', 'permission denied');
for my $f (q{spiderpig.enqueue('root', '{1}')}, q{spiderpig.unfreeze('root')},
    q{spiderpig.metrics(null)}, q{spiderpig.stream_overview()},
    q{spiderpig.hook_queue('freeze', null, '{}')}) {
    ok(!$h->selectall_arrayref("select $f"), "$f is refused");
    is($h->state, '42501', 'permission denied');
}
is($h->selectrow_array(q{select spiderpig.hooks_next_due('chat')}), 0, 'hooks_next_due answers');
my $row = $h->selectrow_hashref(q{select * from spiderpig.hooks_claim('chat', 3, '30 seconds')});
is($row->{event}, 'freeze', 'hooks_claim answers');
ok($h->selectrow_array(q{select spiderpig.hooks_delivered('chat', $1, $2)}, {}, $row->{id}, $row->{attempts}),
    'hooks_delivered answers');
is($h->selectrow_array(q{select spiderpig.hooks_prune(10)}), 0, 'hooks_prune answers');
$h->disconnect;
done_testing;
