#!/usr/bin/perl
# scap's input_line: a prompt with a text field (free_text, one empty
# choice meaning scap's default); the line typed through the API goes to
# scap's stdin as it was.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Scap qw(scap_stack);

my $t = scap_stack('input');
my $s = $t->stack;
my $id = $t->start;
my $p = $t->prompt($id);
is($p->{question}, 'Which branch should the backport go to?', 'scap\'s question');
ok($p->{free_text}, 'a free-text prompt');
is_deeply($p->{choices}, [''], 'whose only choice is scap\'s default');
$t->answer($id, $p, 'wmf/1.42.0-wmf.5');
$s->wait_state($id, 'done', 30);
ok(grep({ $_ eq 'answer wmf/1.42.0-wmf.5' } @{ $t->fake_log }), 'scap read the line');
$t->wait_log($id, qr{^backporting to wmf/1\.42\.0-wmf\.5$});
pass('and used it');
my ($rows, $err) = (undef, undef);
my $dbh = $s->dbh;
local $dbh->{PrintError} = 0;
ok(!eval { $dbh->do(q{update spiderpig.prompts set answer = E'a\nb' where id = ?}, undef, $p->{id}) },
    'a stored answer cannot hold a newline');
done_testing;
