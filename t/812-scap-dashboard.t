#!/usr/bin/perl
# The dashboard in scap mode: scap's question with a button per choice
# saying its label (posting its key), scap's status and progress beside the
# state, and an answer from the page reaching scap.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Login;
use SP::Scap qw(scap_stack);

plan skip_all => 'node is not installed' unless `command -v node 2>/dev/null`;
my $t = scap_stack('deploy', oidc => 1);
my $s = $t->stack;
my $b = SP::Login->new($s);
$b->login('alice');
is($b->enrol_totp->{status}, 303, 'alice signs in');
my $id = $t->start;
my $p = $t->prompt($id);

my $page = $b->get('/')->{content};
like($page, qr/Backport the changes\?/, 'the dashboard shows scap\'s question');
like($page, qr{name="answer" value="y"><button>Yes</button>}, 'a button says Yes and posts y');
like($page, qr{name="answer" value="n"><button>No</button>}, 'another says No and posts n');
my $csrf = SP::Login::csrf_of($page);
my $r = $b->post_form("/ui/deployments/$id/answer", { csrf => $csrf, prompt => $p->{id}, answer => 'y' });
is($r->{status}, 303, 'answered from the page');

$p = $t->prompt($id);
$page = $b->get('/')->{content};
like($page, qr{<span class="status">Running httpbb checks on testservers</span>},
    'scap\'s status is shown with the state');
like($page, qr{<progress max="100" value="50"></progress>}, 'and its progress');
like($page, qr{<button>Yes, continue with deployment</button>}, 'the continue prompt\'s labels');
$csrf = SP::Login::csrf_of($page);
$b->post_form("/ui/deployments/$id/answer", { csrf => $csrf, prompt => $p->{id}, answer => 'y' });
$s->wait_state($id, 'done', 30);
is_deeply([grep { /^answer/ } @{ $t->fake_log }], ['answer y', 'answer y'], 'scap read both answers');
done_testing;
