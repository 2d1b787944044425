#!/usr/bin/perl
# The README's "Operating spiderpig on a server", step by step, the way an
# operator on a fresh Debian host follows it, with nothing of tools/stack's.
# The README's own ```sh blocks are run as written (read from README.md),
# in order: `make install` into a prefix, the users, the configs copied
# from the installed examples (then edited where the README says), the
# database, roles, migrations, pg_ident.conf and pg_hba.conf lines, the
# server block enabled in the host's own /etc/nginx (Debian's nginx.conf and
# default site), the first admin, an admin's own role for spiderpig-admin,
# the webhooks, an upgrade, and the backup restored. The host's PostgreSQL
# is a cluster of the postgres user with Debian's pg_hba.conf, on a socket
# folder and port of its own (PGHOST/PGPORT point the README's commands at
# it). systemd is not PID 1 here, so each daemon is started by hand from its
# installed unit (ExecStart=, User=, Group=, --init-groups,
# AmbientCapabilities=, CapabilityBoundingSet=, NoNewPrivileges=, UMask=,
# Environment=, RuntimeDirectory=, StateDirectory= and their modes) with
# NOTIFY_SOCKET set, and must say READY=1; the rest of the sandbox is not
# applied (t/952 runs systemd-analyze verify on the units).
#
# Then: readyz through nginx, a deployment through its three prompts to done
# with each stage run as spiderpig-stage, /metrics for an admin and the
# metrics token, what systemctl reload of the app does, uncompressed pages,
# a WebSocket handshake, freeze and unfreeze, signed webhooks.
#
# Where a path is /usr/local, /etc, /run or /var/lib in the README it is
# the test's folder here (PREFIX, SYSCONFDIR, RUNDIR and the stand-ins for
# /run and /var/lib); everything else is the README's text. Users and group
# memberships it adds (only those missing: alice, www-data in two groups)
# are removed at the end. Needs root.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use HTTP::Tiny;
use IO::Socket::SSL qw(SSL_VERIFY_NONE);
use JSON::PP;
use SP::Stack;
use SP::Hooks;

plan skip_all => 'needs root (users, setpriv, su)' unless $> == 0;
for my $bin (qw(/usr/sbin/nginx /usr/bin/setpriv /usr/sbin/adduser /usr/sbin/runuser /usr/bin/psql)) {
    plan skip_all => "$bin is missing" unless -x $bin;
}
my ($pgbin) = grep { -x "$_/initdb" } reverse sort glob('/usr/lib/postgresql/*/bin');
plan skip_all => 'no PostgreSQL server binaries' unless $pgbin;
plan skip_all => 'no postgres user' unless getpwnam('postgres');

my $repo = SP::Stack->repo;
my $json = JSON::PP->new->canonical;
my $t = tempdir('spiderpig-opwalk-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{SP_KEEP});
chmod 0755, $t;
diag("kept: $t") if $ENV{SP_KEEP};
my $PREFIX = "$t/usr/local";
my $ETC    = "$t/etc";
my $RUN    = "$t/run";        # /run
my $VARLIB = "$t/var/lib";    # /var/lib
my $LOG    = "$t/log";        # the journal and /var/log/nginx
my $origin = "$t/origin.git"; # Gerrit
make_path($RUN, $VARLIB, $LOG, "$t/pgrun", "$t/notify");
chmod 0755, $RUN, $VARLIB, "$t/var", "$t/notify";
my ($pgport, $https, $http) = SP::Stack::free_ports(3);

# --- cleanup: everything we started or added, and nothing else -------------
my (%daemons, %notify, @users_added, @groups_joined, $pg_started, $nginx_started, %hooks_rx);
my $main = $$;
END {
    my $rc = $?;
    return unless defined $main && $$ == $main;   # a forked child (the receiver) cleans nothing
    for my $name (sort keys %daemons) {
        kill 'TERM', $daemons{$name} if $daemons{$name};
    }
    for my $name (sort keys %daemons) {
        my $pid = $daemons{$name} or next;
        my $end = time + 10;
        while (time < $end && waitpid($pid, WNOHANG) == 0) { sleep 0.05 }
        if (kill 0, $pid) { kill 'KILL', $pid; waitpid($pid, 0) }
    }
    if ($nginx_started && open(my $fh, '<', "$t/nginx.pid")) {
        chomp(my $pid = <$fh> // '');
        if ($pid =~ /^\d+$/) {
            kill 'QUIT', $pid;
            my $end = time + 10;
            while (time < $end && kill 0, $pid) { sleep 0.05 }
        }
    }
    $_->stop for values %hooks_rx;
    system('su', 'postgres', '-s', '/bin/sh', '-c',
        "$pgbin/pg_ctl -D $t/pg -m immediate -w stop >/dev/null 2>&1") if $pg_started;
    system("gpasswd -d '$_->[0]' '$_->[1]' >/dev/null") for @groups_joined;
    system("deluser --system '$_' >/dev/null 2>&1") for reverse @users_added;
    if ($rc && -d $LOG) {
        for my $f (grep { !/access/ } sort glob("$LOG/*.log")) {
            diag("--- $f"); diag(qx{tail -n 25 '$f'});
        }
    }
    $? = $rc;
}
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

# sh(SCRIPT, %env): the README's commands, in sh -e from the test's folder,
# PGHOST and PGPORT naming "the host's PostgreSQL". Returns the output.
my %PGENV = (PGHOST => "$t/pgrun", PGPORT => $pgport);
sub sh {
    my ($script, %env) = @_;
    local @ENV{ keys %PGENV, keys %env } = (values %PGENV, values %env);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        chdir $t or die "$t: $!";
        exec('sh', '-ec', $script) or POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($out, $? >> 8);
}
# README text with its host paths moved into the test's folder, and the
# systemctl lines that stand for what the test does itself dropped.
sub host {
    my ($s) = @_;
    $s =~ s{/usr/local}{$PREFIX}g;
    $s =~ s{/etc/postgresql/\d+/main/}{$t/pg/}g;
    $s =~ s{/etc/}{$ETC/}g;
    $s =~ s{/var/lib/spiderpig}{$VARLIB/spiderpig}g;
    $s =~ s{https://gerrit\.example\.org/site}{$origin}g;
    $s =~ s{/run/spiderpig}{$RUN/spiderpig}g;
    $s =~ s{^systemctl reload postgresql$}{su postgres -c "$pgbin/pg_ctl -D $t/pg reload"}mg;
    $s =~ s{^nginx -t && systemctl reload nginx$}{}mg;
    $s =~ s{^systemctl (daemon-reload|enable --now .*)$}{}mg;
    $s =~ s{^curl .*$}{}mg;
    return $s;
}
# readme(HEADING): the ```sh blocks of that ### section of README.md.
my $README = slurp("$repo/README.md");
sub readme {
    my ($heading) = @_;
    my ($sec) = $README =~ m{^### \Q$heading\E\n(.*?)(?=^##)}ms
        or die "README.md: no section $heading";
    return ($sec =~ m{^```sh\n(.*?)^```}msg);
}
sub readme_section {
    my ($heading) = @_;
    my ($sec) = $README =~ m{^### \Q$heading\E\n(.*?)(?=^##)}ms;
    return $sec // '';
}
sub run_ok {
    my ($script, $name, %env) = @_;
    my ($out, $rc) = sh($script, %env);
    is($rc, 0, $name) or diag("$script\n$out");
    return $out;
}
sub slurp { open(my $fh, '<', $_[0]) or die "$_[0]: $!"; local $/; <$fh> }
sub spew  { open(my $fh, '>', $_[0]) or die "$_[0]: $!"; print $fh $_[1]; close $fh or die $! }
# set_key(FILE, SECTION, KEY, VALUE): edit an ini the way an operator
# would: the key's line in that section replaced (or added at its top).
sub set_key {
    my ($file, $section, $key, $value) = @_;
    my @lines = split /^/, slurp($file);
    my ($in, $done) = (0, 0);
    for my $i (0 .. $#lines) {
        if ($lines[$i] =~ /^\[(.*)\]/) { $in = $1 eq $section; next }
        if ($in && $lines[$i] =~ /^;?\Q$key\E\s*=/) {
            $lines[$i] = "$key = $value\n"; $done = 1; last;
        }
    }
    if (!$done) {
        my ($at) = grep { $lines[$_] =~ /^\[\Q$section\E\]/ } 0 .. $#lines;
        die "$file: no [$section]" unless defined $at;
        splice @lines, $at + 1, 0, "$key = $value\n";
    }
    my @st = stat $file;
    spew($file, join '', @lines);
    chown $st[4], $st[5], $file; chmod $st[2] & 07777, $file;
}

# --- Install ------------------------------------------------------------------
{
    my $out = qx{make -C '$repo' --no-print-directory install PREFIX='$PREFIX' SYSCONFDIR='$ETC' RUNDIR='$RUN/spiderpig' NGINX_LOGS='$LOG' PUBLIC_HOST=deploy.test 2>&1};
    is($?, 0, 'Install: make install (PREFIX, SYSCONFDIR, RUNDIR) exits 0') or diag($out);
    ok(-x "$PREFIX/sbin/$_", "  sbin/$_ installed")
        for qw(spiderpig-fcgi spiderpig-worker spiderpig-stream spiderpig-hooks spiderpig-admin);
}

# The users, as the README makes them; ones that exist already are left as
# they are (and not removed at the end).
{
    my $block = (readme('Install'))[1] // '';
    like($block, qr/adduser --system/, 'Install: the README makes the users with adduser');
    my @users = $block =~ /^for u in (.*); do/m ? split(' ', $1) : ();
    push @users_added, grep { !getpwnam($_) } @users;
    for my $g ($block =~ /^adduser www-data (\S+)/mg) {
        my $members = (getgrnam($g))[3] // '';
        push @groups_joined, ['www-data', $g] unless grep { $_ eq 'www-data' } split ' ', $members;
    }
    run_ok($block, 'Install: the users block runs');
    for my $u (@users) {
        my @pw = getpwnam($u);
        ok(@pw && $pw[8] !~ m{/(ba|da|z)?sh$}, "  $u exists, without a login shell");
    }
    for my $g (qw(spiderpig-web spiderpig-stream)) {
        ok((grep { $_ eq 'www-data' } split ' ', (getgrnam($g))[3] // ''), "  www-data is in $g");
    }
}

# Gerrit, for the example's merge stage (kind = git-cherry-pick from [git]
# remote): a bare repository with branch deploy and change 12345 under
# refs/changes, owned by the stage user as a remote's files are not ours.
{
    my $g = "git -c user.name=dev -c user.email=dev\@example.org -c init.defaultBranch=deploy";
    my ($out, $rc) = sh(<<"SH");
$g init -q --bare $origin
$g clone -q $origin $t/dev 2>/dev/null
cd $t/dev
echo one >site.txt && git add site.txt && $g commit -q -m 'The site' && git push -q origin HEAD:deploy
echo two >>site.txt && $g commit -q -am 'Change 12345: a backport' && git push -q origin HEAD:refs/changes/45/12345/1
SH
    is($rc, 0, 'a Gerrit stand-in with change 12345') or diag($out);
    system('chown', '-R', 'spiderpig-stage:spiderpig-stage', $origin);
}

# --- Configure ----------------------------------------------------------------
my $totp_key;
{
    my $out = run_ok(host((readme('Configure'))[0]), 'Configure: the configs installed from the examples');
    ($totp_key) = $out =~ /^([0-9a-f]{64})$/m;
    ok($totp_key, '  and openssl rand -hex 32 made a [totp] key');
    $totp_key //= '';
}

# --- The database and its roles -----------------------------------------------
# "The host's PostgreSQL": a cluster of the postgres user with Debian's
# default pg_hba.conf, on a socket folder and port of its own.
{
    make_path("$t/pg");
    chown scalar(getpwnam('postgres')), -1, "$t/pg", "$t/pgrun";
    chmod 0755, "$t/pgrun";
    spew("$LOG/postgresql.log", '');
    chown scalar(getpwnam('postgres')), -1, "$LOG/postgresql.log";
    my $out = qx{su postgres -s /bin/sh -c '$pgbin/initdb -D $t/pg -A peer -E UTF8 --locale=C.UTF-8' 2>&1};
    is($?, 0, 'a PostgreSQL cluster of the postgres user (initdb)') or diag($out);
    open(my $c, '>>', "$t/pg/postgresql.conf") or die $!;
    print $c "listen_addresses = ''\nport = $pgport\nunix_socket_directories = '$t/pgrun'\n",
        "fsync = off\nlogging_collector = off\n";
    close $c;
    # Debian's pg_hba.conf, without its TCP lines.
    spew("$t/pg/pg_hba.conf", <<'END');
# Database administrative login by Unix domain socket
local   all             postgres                                peer

# TYPE  DATABASE        USER            ADDRESS                 METHOD

# "local" is for Unix domain socket connections only
local   all             all                                     peer
END
    $out = qx{su postgres -s /bin/sh -c '$pgbin/pg_ctl -D $t/pg -l $LOG/postgresql.log -w -t 30 start' 2>&1};
    is($?, 0, '  and it runs') or diag($out);
    $pg_started = 1;
}
{
    # pg_hba.conf as the README says, before the other "local" lines.
    my ($hba) = $README =~ m{^#   (local spiderpig .*peer map=spiderpig)$}m;
    ok($hba, 'DB: the README has the pg_hba.conf line');
    my $conf = slurp("$t/pg/pg_hba.conf");
    $conf =~ s{^(local\s)}{$hba\n$1}m;
    spew("$t/pg/pg_hba.conf", $conf);
    run_ok(host((readme('The database and its roles'))[0]),
        'DB: createdb, migrate, pg_ident.conf, reload, as the README says');
    sleep 0.3;
    my ($roles) = sh(q{su postgres -c "psql -XAt -d spiderpig -c \"select string_agg(rolname, ' ' order by rolname) from pg_roles where rolname like 'spiderpig%'\""});
    chomp $roles;
    is($roles, 'spiderpig_admin spiderpig_hooks spiderpig_owner spiderpig_stream spiderpig_web spiderpig_worker',
        '  the migrations made the six roles');
    # Peer authentication maps each daemon's user to its role and nobody
    # else: the stage user reaches no spiderpig role.
    for my $role (qw(spiderpig_web spiderpig_worker spiderpig_admin postgres)) {
        my ($out, $rc) = sh(qq{runuser -u spiderpig-stage -- psql -XAt -d 'dbname=spiderpig user=$role' -c 'select 1'});
        isnt($rc, 0, "  spiderpig-stage cannot log in as $role") or diag($out);
    }
    my ($out, $rc) = sh(q{runuser -u spiderpig-web -- psql -XAt -d 'dbname=spiderpig user=spiderpig_web' -c 'select current_user'});
    is($out, "spiderpig_web\n", '  spiderpig-web logs in as spiderpig_web');
}

# The configs, edited where the README says: the database (here the test's
# socket folder and port instead of /run/postgresql), the [totp] key, the
# site's origin, the stages. The sockets are where make install's RUNDIR
# put them.
my $stagedir = "$t/stages";
{
    my $ini = "$ETC/spiderpig";
    my $conn = "host=$t/pgrun port=$pgport dbname=spiderpig";
    set_key("$ini/spiderpig.ini", 'database', 'web', "$conn user=spiderpig_web");
    set_key("$ini/worker.ini", 'database', 'worker', "$conn user=spiderpig_worker");
    set_key("$ini/stream.ini", 'database', 'stream', "$conn user=spiderpig_stream");
    set_key("$ini/spiderpig.ini", 'totp', 'key', $totp_key);
    set_key("$ini/stream.ini", 'stream', 'origin', "https://deploy.test:$https");
    set_key("$ini/spiderpig.ini", 'oidc', 'redirect_uri', "https://deploy.test:$https/login/callback");
    # Metrics: the Prometheus scraper's token.
    my ($mt) = sh('openssl rand -hex 32');
    chomp $mt;
    set_key("$ini/spiderpig.ini", 'fcgi', 'metrics_token', $mt);
    $ENV{OPWALK_METRICS_TOKEN} = $mt;

    # The stages: one trivial deploy script for every command of the
    # example (and the merge stage as a command too), run as stage_user.
    make_path($stagedir);
    chmod 0755, $stagedir;
    spew("$stagedir/deploy", <<"SH");
#!/bin/sh
# A demo stage: says what it does and leaves a mark, as whom it ran, in
# the folder the example's [git] dir names (/var/lib/spiderpig/work),
# "writable by the stage user".
echo "deploy \$*: patches \$SPIDERPIG_PATCHES (DEPLOY_ENV=\$DEPLOY_ENV)"
echo "\$(id -un) \$*" >>$VARLIB/spiderpig/work/ran
SH
    chmod 0755, "$stagedir/deploy";
    my $w = slurp("$ini/worker.ini");
    $w =~ s{/usr/local/bin/deploy}{$stagedir/deploy}g;
    $w =~ s{^remote\s*=\s*https://gerrit\.example\.org/site$}{remote  = $origin}m;
    $w =~ s{/var/lib/spiderpig}{$VARLIB/spiderpig}g;
    spew("$ini/worker.ini", $w);
    ok(1, 'Configure: the ini files edited (database, [totp] key, origin, stages)');
    like(slurp("$ini/$_"), qr{^socket\s*=\s*\Q$RUN\E/spiderpig/}m, "  $_: its socket is under RUNDIR")
        for qw(spiderpig.ini stream.ini);
}

# --- nginx ----------------------------------------------------------------------
{
    system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=deploy.test -days 1 -keyout $t/deploy.test.key -out $t/deploy.test.pem 2>/dev/null") == 0
        or die 'openssl';
    chmod 0600, "$t/deploy.test.key";
    # The host's nginx as Debian installs it: its /etc/nginx with the
    # default site, on our ports and with our pid and log files.
    make_path("$t/nginx");
    if (-f '/etc/nginx/nginx.conf') {
        system('cp', '-a', '/etc/nginx', "$ETC/nginx") == 0 or die 'cp /etc/nginx';
    } else {
        make_path("$ETC/nginx/sites-available", "$ETC/nginx/sites-enabled");
        spew("$ETC/nginx/nginx.conf", <<"END");
user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
events { worker_connections 768; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log /var/log/nginx/access.log;
	include /etc/nginx/sites-enabled/*;
}
END
        system('cp', "$PREFIX/share/spiderpig/nginx/mime.types", "$ETC/nginx/mime.types");
    }
    {
        my $c = slurp("$ETC/nginx/nginx.conf");
        $c =~ s{/etc/nginx/}{$ETC/nginx/}g;
        $c =~ s{/run/nginx\.pid}{$t/nginx.pid}g;
        $c =~ s{/var/log/nginx/}{$LOG/nginx-}g;
        spew("$ETC/nginx/nginx.conf", $c);
        for my $site (glob("$ETC/nginx/sites-enabled/*")) {
            my $body = slurp($site);
            $body =~ s{^\s*listen \[::\]:80.*\n}{}mg;
            $body =~ s{listen 80\b}{listen 127.0.0.1:$http}g;
            unlink $site;
            spew($site, $body);
        }
    }
    run_ok(host((readme('nginx'))[0]), 'nginx: the server block copied and enabled');
    # "set server_name and the certificate": our certificate, and loopback
    # ports of our own instead of 80 and 443.
    my $f = "$ETC/nginx/sites-available/spiderpig";
    my $c = slurp($f);
    $c =~ s{/etc/ssl/certs/deploy\.test\.pem}{$t/deploy.test.pem} or fail('the example names a certificate');
    $c =~ s{/etc/ssl/private/deploy\.test\.key}{$t/deploy.test.key} or fail('the example names a key');
    $c =~ s{^\s*listen \[::\]:\d+.*\n}{}mg;
    $c =~ s{listen 80;}{listen 127.0.0.1:$http;};
    $c =~ s{listen 443 ssl}{listen 127.0.0.1:$https ssl};
    spew($f, $c);
    my $out = qx{/usr/sbin/nginx -t -p '$t/nginx' -c '$ETC/nginx/nginx.conf' 2>&1};
    is($?, 0, '  nginx -t') or diag($out);
    $out = qx{/usr/sbin/nginx -p '$t/nginx' -c '$ETC/nginx/nginx.conf' 2>&1};
    is($?, 0, '  nginx starts (systemctl reload nginx)') or diag($out);
    $nginx_started = 1;
}

# --- Start: each unit by hand -------------------------------------------------
# unit(NAME): the installed unit's [Service] keys (lists for repeated keys);
# for an instance (spiderpig-hooks@chat) its template's, %i filled in.
sub unit {
    my ($name) = @_;
    my %u;
    my $sec = '';
    my ($file, $inst) = $name =~ /^(.+\@)(.+)$/ ? ($1, $2) : ($name, undef);
    for (split /\n/, slurp("$PREFIX/lib/systemd/system/$file.service")) {
        s/%i/$inst/g if defined $inst;
        next if /^\s*(#|;|$)/;
        if (/^\[(\w+)\]/) { $sec = $1; next }
        next unless $sec eq 'Service';
        my ($k, $v) = /^(\w+)=(.*)$/ or next;
        push @{ $u{$k} }, $v;
    }
    return \%u;
}
sub one { my ($u, $k) = @_; $u->{$k} ? $u->{$k}[-1] : undef }

# start_unit(NAME): what systemd would do for the unit, then wait for its
# READY=1 on a NOTIFY_SOCKET of its own. Returns the message (or undef).
sub start_unit {
    my ($name) = @_;
    my $u = unit($name);
    is(one($u, 'Type'), 'notify', "$name: Type=notify");
    my ($user, $group) = (one($u, 'User'), one($u, 'Group'));
    my ($uid, $gid) = ((getpwnam($user))[2], (getgrnam($group))[2]);
    # RuntimeDirectory= and StateDirectory= (relative to /run, /var/lib),
    # owned by the unit's user, with their modes.
    my %env = (PATH => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOME => (getpwnam($user))[7], USER => $user, LOGNAME => $user,
        SHELL => (getpwnam($user))[8], LANG => 'C.UTF-8');
    for ([RuntimeDirectory => $RUN, 'RUNTIME_DIRECTORY'], [StateDirectory => $VARLIB, 'STATE_DIRECTORY']) {
        my ($key, $base, $var) = @$_;
        my $d = one($u, $key) or next;
        my $mode = oct(one($u, "${key}Mode") // '0755');
        my @made;
        for my $rel (split ' ', $d) {
            my $p = $base;
            $p = '' if $rel =~ m{^/};   # RUNDIR outside /run (this test only)
            for my $part (grep { length } split m{/}, $rel) { $p .= "/$part"; mkdir $p, 0755 }
            chown $uid, $gid, $p;
            chmod $mode, $p;
            push @made, $p;
        }
        $env{$var} = join ':', @made;
    }
    for my $e (@{ $u->{Environment} // [] }) {
        $env{$1} = $2 while $e =~ /\G\s*"?([A-Za-z_]\w*)=([^"\s]*)"?/gc;
    }
    my $exec = one($u, 'ExecStart');
    my @argv = split ' ', $exec;
    ok(-x $argv[0], "$name: ExecStart $argv[0] is installed");
    my @caps = map { lc s/^CAP_//r } split ' ', one($u, 'AmbientCapabilities') // '';
    my @bound = map { lc s/^CAP_//r } split ' ', one($u, 'CapabilityBoundingSet') // '';
    my $c = join '', map { ",+$_" } @caps;
    my $b = join '', map { ",+$_" } @bound;
    my @setpriv = ('setpriv', "--reuid=$user", "--regid=$group", '--init-groups',
        "--inh-caps=-all$c", "--ambient-caps=-all$c", "--bounding-set=-all$b");
    push @setpriv, '--no-new-privs' if (one($u, 'NoNewPrivileges') // '') eq 'yes';
    my $np = "$t/notify/$name";
    unlink $np;
    my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $np) or die "$np: $!";
    chmod 0666, $np;
    $env{NOTIFY_SOCKET} = $np;
    # WatchdogSec=: what systemd puts in the environment (the daemon pings
    # at half of it; nothing here restarts a daemon that stops pinging).
    if (my $wd = one($u, 'WatchdogSec')) {
        my %unit = (min => 60e6, s => 1e6, ms => 1e3, us => 1);
        my ($n, $unit) = $wd =~ /^(\d+)\s*(min|ms|us|s)?$/ or die "WatchdogSec=$wd";
        $env{WATCHDOG_USEC} = $n * $unit{ $unit // 's' };
    }
    my $umask = oct(one($u, 'UMask') // '0022');
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$LOG/$name.log");
        open(STDERR, '>&', \*STDOUT);
        chdir '/';
        umask $umask;
        %ENV = %env;
        $ENV{WATCHDOG_PID} = $$ if $env{WATCHDOG_USEC};
        exec(@setpriv, '--', @argv) or POSIX::_exit(127);
    }
    $daemons{$name} = $pid;
    my ($msg, @seen);
    my $until = time + 20;
    while (time < $until && IO::Select->new($sock)->can_read($until - time)) {
        my $m;
        defined($sock->recv($m, 4096)) or last;
        push @seen, $m;
        if ($m =~ /^READY=1$/m) { $msg = 'READY=1'; last }
    }
    diag("$name sent: @seen") if !$msg && @seen;
    is($msg, 'READY=1', "$name: started as $user:$group" . (@caps ? " with @caps" : '') . ", says READY=1");
    $notify{$name} = $sock;   # kept open for the watchdog's pings
    return $msg;
}

my %ready;
# enabled(HEADING): the units that section's `systemctl enable --now` names.
sub enabled {
    my ($block) = grep { /^systemctl enable --now /m } readme($_[0]);
    my ($line) = ($block // '') =~ /^systemctl enable --now (.*)$/m;
    return split ' ', $line // '';
}
my @start = enabled('Start');
is("@start", 'spiderpig-fcgi spiderpig-worker spiderpig-stream', 'Start: the README enables the three units');
run_ok(host((readme('Start'))[0]), '  its other lines (here none is left to run)');
$ready{$_} = start_unit($_) for @start;

my $ua = HTTP::Tiny->new(verify_SSL => 0, SSL_options => { SSL_verify_mode => SSL_VERIFY_NONE },
    max_redirect => 0, timeout => 10);
my $base = "https://127.0.0.1:$https";
sub api {
    my ($method, $path, $token, $body) = @_;
    my %h;
    $h{Authorization} = "Bearer $token" if $token;
    my %o = (headers => \%h);
    if ($body) { $h{'Content-Type'} = 'application/json'; $o{content} = $json->encode($body) }
    my $r = $ua->request($method, "$base$path", \%o);
    $r->{json} = eval { $json->decode($r->{content}) } if ($r->{headers}{'content-type'} // '') =~ /json/;
    return $r;
}
sub wait_until {
    my ($code, $secs, $what) = @_;
    my $end = time + $secs;
    while (time < $end) { my $v = $code->(); return $v if $v; sleep 0.1 }
    diag("timed out after $secs s: $what");
    return undef;
}

{
    my $r = wait_until(sub { my $r = api(GET => '/api/v1/readyz'); $r->{status} == 200 && $r }, 20, 'readyz 200');
    ok($r, 'Start: /api/v1/readyz through nginx answers 200')
        or diag(explain(api(GET => '/api/v1/readyz')));
    # Plain HTTP for the site's name (the default site has the others).
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$http", Timeout => 5);
    print $c "GET /x HTTP/1.0\r\nHost: deploy.test\r\n\r\n" if $c;
    my $head = $c ? do { local $/; <$c> } // '' : '';
    like($head, qr{^HTTP/1\.1 301.*^Location: https://deploy\.test/x\r?$}ms,
        '  plain HTTP for deploy.test redirects to HTTPS');
}

# --- The first admin ------------------------------------------------------------
my $token;
{
    local $ENV{PATH} = "$PREFIX/sbin:$PREFIX/bin:$ENV{PATH}";
    my $out = run_ok(host((readme('The first admin'))[0]),
        'First admin: alice named, and spiderpig-admin -u alice queue list');
    ($token) = sh(q{su postgres -c "psql -XAt -d spiderpig -c \"select spiderpig.create_token('root', 'alice', 'laptop', interval '30 days')\""});
    chomp $token;
    like($token, qr/^\S{20,}$/, '  an API token for alice (create_token)');
}

# --- A deployment through its prompts ---------------------------------------
{
    my $r = api(POST => '/api/v1/deployments', $token, { patches => ['12345'], note => 'operator walkthrough' });
    is($r->{status}, 201, 'Deploy: POST /api/v1/deployments queues one') or diag($r->{content});
    my $id = $r->{json} && $r->{json}{id};
    my %answer = (ready => 'yes', continue => 'yes', finish => 'finish');
    my $state = '';
    my @answered;
    my $end = time + 45;
    while ($id && time < $end) {
        my $d = api(GET => "/api/v1/deployments/$id", $token)->{json} // {};
        $state = $d->{state} // '';
        last if $state =~ /^(done|rolled_back|rollback_failed|abandoned|cancelled|expired)$/;
        my $p = $d->{prompt};
        if ($p && $p->{id} && !grep { $_ eq $p->{id} } @answered) {
            my $a = $answer{ $p->{kind} // '' } // 'rollback';
            my $res = api(POST => "/api/v1/deployments/$id/answer", $token, { prompt => $p->{id}, answer => $a });
            diag("answer $p->{kind}: $res->{status} $res->{content}") unless $res->{status} =~ /^2/;
            push @answered, $p->{id};
        }
        sleep 0.2;
    }
    is($state, 'done', 'Deploy: the worker ran it through ready, continue and finish to done');
    is(scalar @answered, 3, '  three prompts answered through the API');
    my $ran = "$VARLIB/spiderpig/work/ran";
    my @ran = split /\n/, (-e $ran ? slurp($ran) : '');
    my $work = "$VARLIB/spiderpig/work";
    my ($head) = sh("git -c safe.directory='*' -C $work log -1 --format=%s deploy");
    is($head, "Change 12345: a backport\n", '  the merge stage cherry-picked change 12345 onto deploy in the [git] dir');
    is_deeply(\@ran, ['spiderpig-stage sync test', 'spiderpig-stage smoke test',
        'spiderpig-stage sync canary', 'spiderpig-stage check canary', 'spiderpig-stage sync production'],
        '  every stage ran as spiderpig-stage, in order');
    my $log = api(GET => "/api/v1/deployments/$id/log?after=0&limit=1000", $token)->{json} // {};
    ok((grep { ($_->{text} // $_->{line} // '') =~ /DEPLOY_ENV=production/ } @{ $log->{lines} // [] }),
        '  the stage output is in its log, with [worker] env');
}

# --- Metrics ----------------------------------------------------------------------
{
    my $r = api(GET => '/metrics', $token);
    is($r->{status}, 200, 'Metrics: /metrics answers the admin');
    like($r->{content}, qr/^spiderpig_\w+/m, '  with spiderpig_ series');
    $r = api(GET => '/metrics', $ENV{OPWALK_METRICS_TOKEN});
    is($r->{status}, 200, '  and the [fcgi] metrics_token');
    $r = api(GET => '/api/v1/queue', $ENV{OPWALK_METRICS_TOKEN});
    is($r->{status}, 401, '  which opens nothing else');
    # The README's scrape config, with the token where it says.
    SKIP: {
        skip 'promtool is not installed', 1 unless -x '/usr/bin/promtool';
        my ($yaml) = readme_section('Metrics') =~ m{^```yaml\n(.*?)^```}ms;
        make_path("$ETC/prometheus");
        spew("$ETC/prometheus/spiderpig.token", "$ENV{OPWALK_METRICS_TOKEN}\n");
        spew("$ETC/prometheus/prometheus.yml", host($yaml // ''));
        my ($out, $rc) = sh("promtool check config $ETC/prometheus/prometheus.yml");
        is($rc, 0, "  the README's scrape config passes promtool check config") or diag($out);
    }
}

# systemctl reload: what a unit's ExecReload= claims, it must do. The app's
# only candidate is spiderpig.ini, e.g. a new metrics token.
{
    my $reload = one(unit('spiderpig-fcgi'), 'ExecReload');
    if ($reload) {
        my $new = 'r' x 64;
        set_key("$ETC/spiderpig/spiderpig.ini", 'fcgi', 'metrics_token', $new);
        $reload =~ s/\$MAINPID/$daemons{'spiderpig-fcgi'}/g;
        system($reload);
        ok(wait_until(sub { api(GET => '/metrics', $new)->{status} == 200 }, 5, 'the new token'),
            "spiderpig-fcgi: ExecReload=$reload reads spiderpig.ini again");
        ok(kill(0, $daemons{'spiderpig-fcgi'}), '  and the app still runs');
    } else {
        pass('spiderpig-fcgi: no ExecReload= (systemctl restart reads spiderpig.ini again)');
    }
}

# Debian's nginx.conf turns gzip on for the whole http block: the site's
# pages carry CSRF tokens next to what the request put in them, so a
# compressed page's length would leak them (BREACH). Not on this site.
{
    my $r = $ua->request(GET => "$base/deployments?user=" . ('x' x 40),
        { headers => { Accept => 'text/html', 'Accept-Encoding' => 'gzip', Authorization => "Bearer $token" } });
    like($r->{headers}{'content-type'} // '', qr{text/html}, 'nginx: a page of the site') or diag($r->{status});
    is($r->{headers}{'content-encoding'}, undef, '  is never gzip-compressed, whatever the host turned on');
}

like(slurp("$LOG/spiderpig-access.log"), qr{"GET /api/v1/readyz HTTP/1\.1" 200 },
    'nginx: the site logs to NGINX_LOGS/spiderpig-access.log');

# --- The stream: a WebSocket handshake through nginx ----------------------
# handshake(ORIGIN): the status line nginx and the stream daemon answer.
sub handshake {
    my ($origin) = @_;
    my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$https", SSL_verify_mode => SSL_VERIFY_NONE,
        SSL_hostname => 'deploy.test', Timeout => 5) or return "connect: $IO::Socket::SSL::SSL_ERROR";
    print $c "GET /api/v1/stream HTTP/1.1\r\nHost: deploy.test:$https\r\n",
        "Upgrade: websocket\r\nConnection: Upgrade\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
        "Origin: $origin\r\nAuthorization: Bearer $token\r\n\r\n";
    my $line = <$c> // '';
    close $c;
    $line =~ s/\r?\n\z//;
    return $line;
}
like(handshake("https://deploy.test:$https"), qr{^HTTP/1\.1 101 },
    'Stream: a WebSocket from the site (stream.ini origin) is accepted');
unlike(handshake('https://deploy.example.org'), qr{^HTTP/1\.1 101 },
    "  one from the example's origin is not");

# --- spiderpig-admin freeze / unfreeze ---------------------------------------
# As the README says for an admin's own login: a database role in
# spiderpig_admin, and spiderpig-admin run as that login (an OS user alice,
# made here unless there is one).
{
    if (!getpwnam('alice')) {
        push @users_added, 'alice';
        system('useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'alice') == 0
            or die 'useradd alice';
    }
    my ($create) = readme_section('The first admin') =~ m{`(CREATE ROLE alice LOGIN IN ROLE spiderpig_admin;)`};
    ok($create, 'spiderpig-admin: the README says how an admin gets a role of her own');
    run_ok(qq{su postgres -c "psql -X -d spiderpig -c '$create'"}, "  $create");
}
{
    local $ENV{PATH} = "$PREFIX/sbin:$ENV{PATH}";
    my $adm = 'runuser -u alice -- spiderpig-admin -d dbname=spiderpig -u alice';
    my $out = run_ok("$adm queue list", 'spiderpig-admin queue list as alice');
    $out = run_ok("$adm token list", 'spiderpig-admin token list as alice');
    like($out, qr/laptop/, '  lists her token');
    run_ok(qq{$adm freeze 'train deploy in progress'}, 'spiderpig-admin freeze');
    my $s = api(GET => '/api/v1/status', $token)->{json} // {};
    ok($s->{freeze} || $s->{frozen}, '  /api/v1/status shows the freeze') or diag(explain($s));
    my $r = api(POST => '/api/v1/deployments', $token, { patches => ['12346'] });
    is($r->{status}, 201, '  a deployment may still be queued while frozen') or diag($r->{content});
    my $id = $r->{json} && $r->{json}{id};
    run_ok(qq{$adm unfreeze}, 'spiderpig-admin unfreeze');
    $s = api(GET => '/api/v1/status', $token)->{json} // {};
    ok(!($s->{freeze} || $s->{frozen}), '  the freeze is lifted') or diag(explain($s));
    my $d = wait_until(sub {
        my $d = api(GET => "/api/v1/deployments/$id", $token)->{json} // {};
        ($d->{state} // '') eq 'awaiting_ready' && $d }, 20, 'the ready prompt');
    ok($d, '  then the worker offers the queued one');
    if ($d && $d->{prompt}) {
        api(POST => "/api/v1/deployments/$id/answer", $token, { prompt => $d->{prompt}{id}, answer => 'no' });
        my $end = wait_until(sub {
            my $st = (api(GET => "/api/v1/deployments/$id", $token)->{json} // {})->{state} // '';
            $st =~ /^(cancelled|expired|abandoned|rolled_back|done)$/ && $st }, 20, 'it to end');
        ok($end, '  and it ends when the deployer says no (' . ($end // 'still open') . ')');
    }
}

# --- Webhooks -----------------------------------------------------------------------
{
    run_ok(host((readme('Webhooks'))[0]), 'Webhooks: a hooks-NAME.ini and a secret per receiver, as the README says');
    my @hooks = enabled('Webhooks');
    is("@hooks", 'spiderpig-hooks@chat spiderpig-hooks@irc',
        '  the README enables one spiderpig-hooks@ instance per receiver');
    my %secret;
    for my $unit (@hooks) {
        my ($r) = $unit =~ /\@(.+)$/;
        ($secret{$r}) = split /\n/, slurp("$ETC/spiderpig/hooks-$r.secret");
        $hooks_rx{$r} = SP::Hooks->new(secret => $secret{$r});
        my $ini = "$ETC/spiderpig/hooks-$r.ini";
        like(slurp($ini), qr/^name = \Q$r\E$/m, "  hooks-$r.ini names its receiver");
        set_key($ini, 'database', 'hooks', "host=$t/pgrun port=$pgport dbname=spiderpig user=spiderpig_hooks");
        set_key($ini, 'hooks', 'url', $hooks_rx{$r}->url);
        set_key($ini, 'hooks', 'allow_http_loopback', 'yes');
        set_key($ini, 'hooks', 'secret_file', "$ETC/spiderpig/hooks-$r.secret");
        set_key($ini, 'hooks', 'link_base', "https://deploy.test:$https");
        $ready{$unit} = start_unit($unit);
    }
    isnt($secret{chat}, $secret{irc}, '  each receiver has its own secret');
    for my $r (sort keys %hooks_rx) {
        my $rx = $hooks_rx{$r};
        my $ok = eval {
            $rx->wait_for(sub { grep { ($_->{event} // '') eq 'finished' } @_ }, 20,
                "the finished announcement to $r");
        };
        ok($ok, "  $r: the announcements written just before its sender started arrive, signed") or diag($@);
        ok(!(grep { !$_->{valid} } @{ $rx->requests }), "  $r: every signature checks out with its secret");
        my ($fin) = grep { ($_->{event} // '') eq 'finished' } @{ $rx->requests };
        is($fin && $fin->{json}{url}, "https://deploy.test:$https/deployments/1",
            "  $r: the finished announcement links the deployment under link_base");
    }
    my $m = api(GET => '/metrics', $token)->{content} // '';
    like($m, qr/^spiderpig_webhooks\{receiver="$_",status="pending"\} \d+$/m,
        "  /metrics counts the webhooks of $_") for sort keys %hooks_rx;
}

# --- Upgrade: stop the units, make install, migrate, start them again -----
# stop_units(): SIGTERM to each, as systemctl stop sends it.
sub stop_units {
    for my $name (sort keys %daemons) {
        my $pid = $daemons{$name};
        kill 'TERM', $pid;
        my $gone = wait_until(sub { waitpid($pid, WNOHANG) == $pid }, 15, "$name to stop");
        ok($gone, "$name stops on SIGTERM");
        delete $daemons{$name} if $gone;
    }
}
{
    my @units = sort keys %daemons;
    stop_units();
    my $out = qx{make -C '$repo' --no-print-directory install PREFIX='$PREFIX' SYSCONFDIR='$ETC' RUNDIR='$RUN/spiderpig' NGINX_LOGS='$LOG' PUBLIC_HOST=deploy.test 2>&1};
    is($?, 0, 'Upgrade: make install again') or diag($out);
    run_ok(host(q{su postgres -c "/usr/local/share/spiderpig/tools/migrate 'dbname=spiderpig'"}),
        '  migrate applies what is missing (nothing)');
    run_ok(host(q{su postgres -c "/usr/local/share/spiderpig/tools/migrate --check 'dbname=spiderpig'"}),
        '  migrate --check exits 0');
    my ($out2, $rc2) = sh(host(q{su postgres -c "createdb spiderpig_empty && /usr/local/share/spiderpig/tools/migrate --check 'dbname=spiderpig_empty'"}));
    is($rc2, 1, '  and 1 on a database that lacks the migrations') or diag($out2);
    start_unit($_) for @units;
    my $r = wait_until(sub { my $r = api(GET => '/api/v1/readyz'); $r->{status} == 200 && $r }, 20, 'readyz 200');
    ok($r, '  readyz answers 200 again');
    is((api(GET => '/api/v1/deployments/1', $token)->{json} // {})->{state}, 'done',
        '  and the deployment is still done');
}

# --- Backup ---------------------------------------------------------------------------
{
    my ($dump) = readme_section('Backup') =~ m{`([^`]*pg_dump -Fc [^`]*)`};
    ok($dump, 'Backup: the README gives the pg_dump command');
    run_ok($dump // 'false', "Backup: $dump") if $dump;
    my ($toc, $rc) = sh('pg_restore -l spiderpig.dump');
    like($toc, qr/TABLE DATA spiderpig deployments/, '  the dump holds the deployments');
    # Restored as the README says: into a database the migrations never
    # touched (the roles are the cluster's already).
    run_ok(q{su postgres -c "createdb spiderpig_restore && pg_restore -d spiderpig_restore" <spiderpig.dump},
        '  pg_restore into a fresh database');
    my $q = q{select (select count(*) from spiderpig.deployments) || ' ' || (select count(*) from spiderpig.events) || ' ' || (select count(*) from spiderpig.log_lines) || ' ' || (select count(*) from spiderpig.hook_outbox)};
    my ($a) = sh(qq{su postgres -c "psql -XAt -d spiderpig -c \\"$q\\""});
    my ($b) = sh(qq{su postgres -c "psql -XAt -d spiderpig_restore -c \\"$q\\""});
    like($a, qr/^\d+ \d+ \d+ \d+$/, '  deployments, events, log lines, outbox counted');
    is($b, $a, '  the restored database has the same (no trigger ran twice)');
    run_ok(host(q{su postgres -c "/usr/local/share/spiderpig/tools/migrate --check 'dbname=spiderpig_restore'"}),
        '  and migrate --check finds every migration recorded there');
}

stop_units();
done_testing;
