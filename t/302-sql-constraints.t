#!/usr/bin/perl
# An admin editing tables by hand in psql cannot corrupt the queue: the
# schema refuses a second active deployment, duplicate or gapped positions,
# unknown states, and edits of the audit trail.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;
use SP::Flow qw(try_sql);

my $s = SP::Stack->new(workers => 0, nginx => 0);
$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
my @d = map { $s->sql(q{select * from spiderpig.enqueue('alice', array[$1])}, $_)->[0] } qw(1 2 3);
$s->sql('select spiderpig.offer_next()');

sub refused {
    my ($want, $name, $sql, @b) = @_;
    my ($rows, $err) = try_sql($s, $sql, @b);
    like($err // 'succeeded', qr/^$want/, $name) or diag($err);
}
refused('23505', 'a second active deployment', q{update spiderpig.deployments set state='merging', position=null where id=$1}, $d[1]{id});
refused('23P01', 'two rows at one position', q{update spiderpig.deployments set position=1 where id=$1}, $d[2]{id});
refused('SP409', 'a gap in the positions', q{update spiderpig.deployments set position=5 where id=$1}, $d[2]{id});
refused('23514', 'an unknown state', q{update spiderpig.deployments set state='exploded' where id=$1}, $d[0]{id});
refused('23514', 'a queued row without a position', q{update spiderpig.deployments set position=null where id=$1}, $d[2]{id});
refused('23514', 'a worker on a row waiting at a prompt', q{update spiderpig.deployments set worker_id='w', lease_expires_at=now() where id=$1}, $d[0]{id});
refused('23514', 'bad patch written directly', q{update spiderpig.deployments set patches=array['1; rm -rf /'] where id=$1}, $d[2]{id});
refused('SP409', 'events cannot be edited', q{update spiderpig.events set actor='someone'});
refused('SP409', 'events cannot be deleted', q{delete from spiderpig.events});
refused('23505', 'two open prompts on one deployment', q{insert into spiderpig.prompts (deployment_id, kind, question, choices, default_answer, expires_at) values ($1, 'ready', 'q', array['yes'], 'yes', now())}, $d[0]{id});

# A legal hand edit: swap two queued rows in one transaction.
my $dbh = $s->dbh;
$dbh->begin_work;
$dbh->do(q{update spiderpig.deployments set position = 3 - position where id in ($1, $2)}, undef, $d[1]{id}, $d[2]{id});
$dbh->commit;
is_deeply([map { $_->{id} } @{ $s->sql(q{select id from spiderpig.deployments where state='queued' order by position}) }],
    [$d[2]{id}, $d[1]{id}], 'a swap inside one transaction is allowed');
done_testing;
