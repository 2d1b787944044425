#!/usr/bin/perl
# A stage command runs code a deployer controls. It must not become an
# admin: t/bin/stage-doors.pl, run as the merge stage, knocks on the four
# doors and the test asserts each stays shut: the Postgres superuser, the
# web role (and the worker's own role), the files holding the secrets, and
# the app's FastCGI sockets (a forged REMOTE_USER=root admin request). Then,
# outside the stage: each daemon's OS user reaches only its own role.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use SP::Stack;

plan skip_all => 'needs root (separate system users)' unless $> == 0;

my $doors = SP::Stack->repo . '/t/bin/stage-doors.pl';
my $s = SP::Stack->new(
    stages => { merge => [$doors] },
    worker => { env => ['DOORS_DIR=@DIR@', 'DOORS_PGPORT=' . 5439] },
);
my $dir = $s->dir;

$s->sql(q{select spiderpig.add_user('root', 'alice', 'deployer')});
$s->sql(q{select spiderpig.add_user('root', 'eve', 'deployer')});
my $id = $s->sql(q{select id from spiderpig.enqueue('alice', array['12345'])})->[0]{id};
my $p = $s->wait_for(sub {
    $s->sql(q{select id from spiderpig.prompts where deployment_id=$1 and answered_at is null}, $id)->[0];
}, 20, 'the ready prompt');
$s->sql('select spiderpig.answer($1,$2,$3,$4)', 'alice', $id, $p->{id}, 'yes');
my @lines;
$s->wait_for(sub {
    @lines = map { $_->{line} } @{ $s->sql(
        'select line from spiderpig.log_lines where deployment_id = $1 order by seq', $id) };
    grep { /^DOORS DONE/ } @lines;
}, 60, 'the stage to report its doors');
diag($_) for grep { /^(DOOR|stage user)/ } @lines;

# The sockets the app listens on, from its config.
open(my $fh, '<', $s->ini_path) or die $s->ini_path . ": $!";
my @sockets = map { /^\s*(?:auth_)?socket\s*=\s*(\S+)/ ? $1 : () } <$fh>;
close $fh;
ok(@sockets >= 1, "the app listens on @sockets");

my %door = map { /^DOOR (.+?): (OPEN|SHUT):/ ? ($1 => $2) : () } @lines;
my @want = ('capabilities', 'postgres superuser', 'web role', 'worker role',
    (map { "file $dir/$_" } qw(spiderpig.ini totp.key oidc.secret tls/key.pem)),
    (map { "fcgi $_" } @sockets));
is($door{$_} // 'not tried', 'SHUT', "stage command: $_ stays shut") for @want;
is((grep { $_ eq 'OPEN' } values %door), 0, 'no door at all is open');
is($s->sql(q{select role from spiderpig.users where name = 'eve'})->[0]{role}, 'deployer',
    'eve is still a deployer');
like((grep { /^stage user:/ } @lines)[0] // '', qr/^stage user: spiderpig-stage /,
    'stages run as spiderpig-stage');

# Peer authentication maps each daemon user to its own role only.
my ($pghost) = $s->conninfo =~ /host=(\S+)/;
sub psql_as {
    my ($os_user, $role) = @_;
    return "refused: no user $os_user" unless defined getpwnam($os_user);
    my $out = `setpriv --reuid=$os_user --regid=$os_user --init-groups -- psql -X -w -At -h $pghost -p 5439 -U $role -d spiderpig -c 'select current_user' 2>&1`;
    chomp $out;
    return $? == 0 ? $out : "refused: $out";
}
is(psql_as('spiderpig-web', 'spiderpig_web'), 'spiderpig_web', 'the web user reaches the web role');
is(psql_as('spiderpig-worker', 'spiderpig_worker'), 'spiderpig_worker', 'the worker user reaches the worker role');
for ([qw(spiderpig-web postgres)], [qw(spiderpig-web spiderpig_worker)],
     [qw(spiderpig-worker postgres)], [qw(spiderpig-worker spiderpig_web)],
     [qw(spiderpig-nginx spiderpig_web)], [qw(spiderpig-stage spiderpig_worker)]) {
    like(psql_as(@$_), qr/^refused/, "$_->[0] cannot log in as $_->[1]");
}
done_testing;
