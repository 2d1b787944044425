package SP::MultiHost;
# More than one host for the tests t/975-t/989: each "host" is a network
# namespace of its own, joined to the root namespace by a veth pair, and
# runs one app, one worker and one stream daemon (`ip netns exec NS
# tools/stack exec-daemon ...`, each as its system user). They share the
# stack's PostgreSQL over TCP with scram passwords (tools/stack
# SPIDERPIG_PG_LISTEN: it listens on the root side of the veths only), and
# nginx in the root namespace balances the apps and the stream daemons of
# all hosts (its upstream blocks rewritten to their TCP addresses). Each
# host has a /29: nginx's end, the host, the primary's address and the
# standby's, so a host can be cut off from one server alone.
#
#   my $m = SP::MultiHost->new(hosts => 2, standby => 1, stack => {...});
#   $m->stack                 the SP::Stack (nginx, Postgres, the test's DB)
#   $m->pid(KIND, I)          pid of daemon KIND (fcgi worker stream) of host I
#   $m->kill9(KIND, I)        kill -9 it and reap it
#   $m->addr(I)               host I's address (its daemons connect from it)
#   $m->promote([gap_s => S]) standby => 1: stop the primary at once
#                             (immediate: no shutdown checkpoint, nothing
#                             more shipped), promote the standby, point the
#                             test's own connection at it; keep_primary => 1
#                             leaves the old primary running (after
#                             $m->cut_primary: a blackhole route to it in
#                             every host, its machine gone silently)
#   $m->db_clients(APP)       the hosts with a session of that
#                             application_name on the current primary
#   $m->api_drive(ID, TOKEN)  answer prompts through nginx to the end
#   $m->caught_up([LSN])      1 when the standby has replayed all the
#                             primary has written (or up to LSN,
#                             $m->wal_insert_lsn); standby => 'sync' makes
#                             it a synchronous standby
#
# Names carry the pid and a random part, so a rerun after a crash never
# meets the last run's leftovers; everything (processes, standby,
# namespaces, veths) goes in teardown, which DESTROY and an END block call,
# also when the test dies.
use strict;
use warnings;

use Carp qw(croak);
use POSIX qw(:sys_wait_h);
use Scalar::Util qw(weaken);
use Test::More ();
use Time::HiRes qw(sleep time);
use SP::Stack;

my $REPO = SP::Stack->repo;
my %LIVE;
my %PORT = (fcgi => 9000, auth => 9001, stream => 9002);
my $STANDBY_PORT = 5440;

# Run a command (its stdout dropped); die unless it succeeds.
sub run_ok {
    my (@cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        exec(@cmd) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "@cmd: exit " . ($? >> 8) . "\n" if $?;
}

sub new {
    my ($class, %o) = @_;
    my $n = $o{hosts} // 2;
    my $self = bless { owner => $$, n => $n, pids => {}, ns => [], veth => [],
        standby => $o{standby} }, $class;
    $LIVE{"$self"} = $self;
    weaken($LIVE{"$self"});
    eval {
        $self->_network;
        my %st = %{ $o{stack} // {} };
        $st{env} = { %{ $st{env} // {} },
            SPIDERPIG_PG_LISTEN => join(',', map { $self->_primary_addr($_) } 1 .. $n),
            SPIDERPIG_PG_CLIENTS => join(',', map { $self->addr($_) . '/32' } 1 .. $n) };
        $self->{s} = SP::Stack->new(%st, nginx => 0, workers => 0);
        $self->_standby($o{standby}) if $o{standby};
        for my $i (1 .. $n) {
            $self->_configs($i);
            $self->_start($_, $i) for qw(fcgi stream worker);
        }
        $self->_wait_listening;
        $self->_nginx;
        1;
    } or do {
        my $err = $@;
        $self->{failed} = 1;
        $self->teardown;
        die "SP::MultiHost: did not start: $err";
    };
    return $self;
}

sub stack { $_[0]{s} }
sub hosts { $_[0]{n} }
# Host i's /29: .1 the root side of the veth (nginx's address there), .2
# the host's, .3 the primary's and .4 the standby's listening addresses
# on the root side, so a test can cut a host off one server alone.
sub addr { my ($self, $i) = @_; "$self->{net}." . (8 * ($i - 1) + 2) }
sub _root_addr { my ($self, $i) = @_; "$self->{net}." . (8 * ($i - 1) + 1) }
sub _primary_addr { my ($self, $i) = @_; "$self->{net}." . (8 * ($i - 1) + 3) }
sub _standby_addr { my ($self, $i) = @_; "$self->{net}." . (8 * ($i - 1) + 4) }
sub ns { my ($self, $i) = @_; "$self->{tag}n$i" }

# A /24 of 10.0.0.0/8 nobody here uses, one /29 per host in it, and a
# namespace per host with lo and its end of the veth up.
sub _network {
    my ($self) = @_;
    my $used = `ip -4 -o addr show; ip -4 route show`;
    for (1 .. 50) {
        my $net = sprintf('10.%d.%d', 100 + int(rand(100)), int(rand(256)));
        next if index($used, "$net.") >= 0;
        $self->{net} = $net;
        last;
    }
    die "no free 10.x.y.0/24\n" unless $self->{net};
    $self->{tag} = sprintf('sp%05x%02x', $$ & 0xfffff, int(rand(256)));
    for my $i (1 .. $self->{n}) {
        my ($ns, $h, $p) = ($self->ns($i), "$self->{tag}h$i", "$self->{tag}p$i");
        run_ok('ip', 'netns', 'add', $ns);
        push @{ $self->{ns} }, $ns;
        run_ok('ip', 'link', 'add', $h, 'type', 'veth', 'peer', 'name', $p);
        push @{ $self->{veth} }, $h;
        run_ok('ip', 'link', 'set', $p, 'netns', $ns);
        # The first is the source address of nginx's connections.
        run_ok('ip', 'addr', 'add', $self->_root_addr($i) . '/29', 'dev', $h);
        run_ok('ip', 'addr', 'add', $self->_primary_addr($i) . '/29', 'dev', $h);
        run_ok('ip', 'addr', 'add', $self->_standby_addr($i) . '/29', 'dev', $h);
        run_ok('ip', 'link', 'set', $h, 'up');
        run_ok('ip', '-n', $ns, 'addr', 'add', $self->addr($i) . '/29', 'dev', $p);
        run_ok('ip', '-n', $ns, 'link', 'set', $p, 'up');
        run_ok('ip', '-n', $ns, 'link', 'set', 'lo', 'up');
    }
}

sub _as_pg { ('setpriv', '--reuid=spiderpig-pg', '--regid=spiderpig-pg', '--init-groups', '--') }

# A streaming standby of the stack's cluster (pg_basebackup -R) in
# DIR/pg-standby, its socket next to the primary's, TCP on the same
# addresses at port 5440; started and streaming before we return. With
# standby => 'sync' the primary then waits for it on every commit
# (synchronous_standby_names, synchronous_commit on: set after the copy,
# so the standby, once promoted, waits for nobody).
sub _standby {
    my ($self, $mode) = @_;
    my $s = $self->{s};
    my $dir = $s->dir;
    my $sd = "$dir/pg-standby";
    my $log = "$dir/log/postgres-standby.log";
    open(my $fh, '>>', $log) or die "$log: $!";
    close $fh;
    my $pg = getpwnam('spiderpig-pg') // die "no user spiderpig-pg\n";
    chown $pg, -1, $log;
    mkdir $sd, 0700 or die "$sd: $!";
    chown $pg, -1, $sd;
    run_ok(_as_pg(), '/usr/lib/postgresql/15/bin/pg_basebackup', '-D', $sd, '-R',
        '-X', 'stream', '-c', 'fast', '-d', "host=$dir/run/pg port=5439 user=postgres");
    # Its copy of the settings names the primary's port and files.
    my $conf = "$sd/spiderpig.conf";
    open($fh, '<', $conf) or die "$conf: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    $text =~ s/^port = \d+$/port = $STANDBY_PORT/m or die "no port in $conf\n";
    my $listen = join(',', map { $self->_standby_addr($_) } 1 .. $self->{n});
    $text =~ s/^listen_addresses = .*$/listen_addresses = '$listen'/m
        or die "no listen_addresses in $conf\n";
    $text =~ s{\Q$dir\E/pg/}{$sd/}g;
    SP::Stack::_write_keep($conf, $text);
    run_ok(_as_pg(), '/usr/lib/postgresql/15/bin/pg_ctl', '-D', $sd, '-l', $log,
        '-w', '-t', '60', 'start');
    $self->{standby_dir} = $sd;
    $s->wait_for(sub {
        $s->sql(q{select 1 from pg_stat_replication where state = 'streaming'})->[0];
    }, 30, 'the standby to stream');
    return unless $mode eq 'sync';
    $s->sql(q{alter system set synchronous_standby_names = '*'});
    $s->sql(q{alter system set synchronous_commit = 'on'});
    $s->sql(q{select pg_reload_conf()});
    $s->wait_for(sub {
        $s->sql(q{select 1 from pg_stat_replication where sync_state = 'sync'})->[0];
    }, 30, 'the standby to be synchronous');
}

# 1 when the standby has replayed everything the primary has written.
# Against the insert position, not pg_current_wal_lsn() (the write
# position): with synchronous_commit off (the tests' SPIDERPIG_PG_FAST)
# committed records wait in WAL buffers, and the standby has not seen them.
# caught_up(LSN): replayed up to LSN (from wal_insert_lsn) instead.
sub caught_up {
    my ($self, $lsn) = @_;
    my $r = $self->{s}->sql(q{select replay_lsn >= coalesce($1::pg_lsn,
        pg_current_wal_insert_lsn()) as ok
        from pg_stat_replication where state = 'streaming'}, $lsn)->[0];
    return $r && $r->{ok};
}

# The primary's WAL insert position now: every commit visible now is
# before it.
sub wal_insert_lsn { $_[0]{s}->sql('select pg_current_wal_insert_lsn()::text as l')->[0]{l} }

# Stop the primary at once and promote the standby; the test's connection
# ($s->sql) follows it. Returns when the standby accepts writes. With
# keep_primary => 1 the old primary is left running (cut off first with
# cut_primary, so that no host reaches it) and stopped in teardown.
sub promote {
    my ($self, %o) = @_;
    my $s = $self->{s};
    if ($o{keep_primary}) {
        if ($s->{dbh}) { eval { $s->{dbh}->disconnect }; delete $s->{dbh} }
    } else {
        $s->stop_postgres('immediate');
    }
    # gap_s => S: no primary at all for S seconds, as when the promotion
    # waits for an operator or a failover manager's timeout.
    sleep $o{gap_s} if $o{gap_s};
    run_ok(_as_pg(), '/usr/lib/postgresql/15/bin/pg_ctl', '-D', $self->{standby_dir},
        '-w', '-t', '60', 'promote');
    $s->{port}{pg} = $STANDBY_PORT;
    $s->wait_for(sub { !$s->sql('select pg_is_in_recovery() as r')->[0]{r} }, 30,
        'the standby to leave recovery');
}

# Every host loses the primary as if its machine had gone: a blackhole
# route in each namespace drops what the daemons send it, silently (no
# reset, no FIN: their connections look alive until TCP gives up).
sub cut_primary {
    my ($self) = @_;
    run_ok('ip', '-n', $self->ns($_), 'route', 'add', 'blackhole',
        $self->_primary_addr($_) . '/32') for 1 .. $self->{n};
}

sub _write_ini {
    my ($self, $src, $dst, $edit) = @_;
    open(my $fh, '<', $src) or die "$src: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    $edit->() for $text;
    my @st = stat $src;
    SP::Stack::_write_keep($dst, $text);
    chown $st[4], $st[5], $dst;
    chmod $st[2] & 07777, $dst;
}

# Host i's configs: the stack's, with the database reached over TCP (both
# servers when there is a standby, the writable one chosen) and the app's
# and the stream daemon's sockets on the host's address.
sub _configs {
    my ($self, $i) = @_;
    my $dir = $self->{s}->dir;
    my $a = $self->addr($i);
    my ($hosts, $ports) = ($self->_primary_addr($i), 5439);
    ($hosts, $ports) = ("$hosts," . $self->_standby_addr($i), "5439,$STANDBY_PORT")
        if $self->{standby};
    my $ci = sub {
        "host=$hosts port=$ports dbname=spiderpig user=spiderpig_$_[0] "
            . "passfile=$dir/pgpass/$_[0] target_session_attrs=read-write";
    };
    $self->_write_ini("$dir/spiderpig.ini", "$dir/spiderpig-$i.ini", sub {
        s/^web\s*=.*$/'web = ' . $ci->('web')/me or die "no web conninfo\n";
        s/^socket\s*=.*$/socket = $a:$PORT{fcgi}/m or die "no [fcgi] socket\n";
        s/^auth_socket\s*=.*$/auth_socket = $a:$PORT{auth}/m or die "no auth_socket\n";
    });
    $self->_write_ini("$dir/worker.ini", "$dir/worker-$i.ini", sub {
        s/^worker\s*=.*$/'worker = ' . $ci->('worker')/me or die "no worker conninfo\n";
    });
    $self->_write_ini("$dir/stream.ini", "$dir/stream-$i.ini", sub {
        s/^stream\s*=.*$/'stream = ' . $ci->('stream')/me or die "no stream conninfo\n";
        s/^socket\s*=.*$/socket = $a:$PORT{stream}/m or die "no [stream] socket\n";
    });
}

# Daemon kind of host i in its namespace, its output in log/KIND-I.log.
# The app takes FastCGI connections from nginx's address alone.
sub _start {
    my ($self, $kind, $i) = @_;
    my $dir = $self->{s}->dir;
    my $ini = { fcgi => "spiderpig-$i.ini", worker => "worker-$i.ini",
        stream => "stream-$i.ini" }->{$kind};
    my $log = "$dir/log/$kind-$i.log";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $log) or POSIX::_exit(127);
        open(STDERR, '>&', \*STDOUT);
        $ENV{FCGI_WEB_SERVER_ADDRS} = $self->_root_addr($i);
        exec('ip', 'netns', 'exec', $self->ns($i), "$REPO/tools/stack", 'exec-daemon',
            $dir, $kind, "$dir/$ini") or POSIX::_exit(127);
    }
    $self->{pids}{"$kind-$i"} = $pid;
}

sub pid { my ($self, $kind, $i) = @_; $self->{pids}{"$kind-$i"} }

# All of (kind, i) pairs.
sub daemons { my ($self) = @_; map { my $i = $_; map { [$_, $i] } qw(fcgi worker stream) } 1 .. $self->{n} }

sub alive {
    my ($self, $kind, $i) = @_;
    my $pid = $self->pid($kind, $i) or return 0;
    return waitpid($pid, WNOHANG) == 0;
}

sub _listening {
    my ($self, $i, $port) = @_;
    my $out = `ip netns exec ${\ $self->ns($i)} ss -Htln 'sport = :$port' 2>/dev/null`;
    return $out =~ /LISTEN/;
}

sub _wait_listening {
    my ($self) = @_;
    for my $i (1 .. $self->{n}) {
        for my $p (values %PORT) {
            $self->{s}->wait_for(sub {
                for my $d ($self->daemons) {
                    die "$d->[0] of host $d->[1] exited\n" unless $self->alive(@$d);
                }
                $self->_listening($i, $p);
            }, 20, "host $i to listen on port $p");
        }
    }
}

# nginx's upstreams: every host's app, auth socket and stream daemon. A
# failed connection marks a server down for 10 s and the request goes to
# the next (proxy/fastcgi_next_upstream's default: error, timeout).
sub _nginx {
    my ($self) = @_;
    my $s = $self->{s};
    my $conf = $s->dir . '/nginx/nginx.conf';
    open(my $fh, '<', $conf) or die "$conf: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    for ([fcgi => qr{server unix:\S+/run/fcgi/fcgi\.sock;}],
         [auth => qr{server unix:\S+/run/fcgi/auth\.sock;}],
         [stream => qr{server unix:\S+/run/stream/stream\.sock;}]) {
        my ($k, $re) = @$_;
        my $servers = join("\n\t\t", map { "server " . $self->addr($_) . ":$PORT{$k} max_fails=1 fail_timeout=10s;" }
            1 .. $self->{n});
        $text =~ s/$re/$servers/ or die "nginx.conf: no $k upstream server\n";
    }
    SP::Stack::_write_keep($conf, $text);
    $s->stack('start', 'nginx');
    $s->wait_for(sub { $s->api(GET => '/api/v1/healthz')->{status} == 200 }, 20,
        'GET /api/v1/healthz through nginx');
}

# kill -9 daemon kind of host i and reap it.
sub kill9 {
    my ($self, $kind, $i) = @_;
    my $pid = $self->pid($kind, $i) or croak "no $kind on host $i";
    kill 'KILL', $pid;
    waitpid($pid, 0);
    delete $self->{pids}{"$kind-$i"};
}

# Addresses (host numbers) from which role has a session on the server
# the test's connection reaches now.
sub db_clients {
    my ($self, $app) = @_;
    my %by = map { ($self->addr($_) => $_) } 1 .. $self->{n};
    my $rows = $self->{s}->sql(q{select distinct host(client_addr) as a from pg_stat_activity
        where application_name = $1 and client_addr is not null}, $app);
    return sort grep { defined } map { $by{ $_->{a} } } @$rows;
}

# Drive deployment id to its end through nginx, as a client of the API
# would: read it, answer each prompt with its first choice (yes, finish,
# ack: the way forward). Returns its final state and the API answers that were not
# 200, as "METHOD PATH STATUS" strings. Dies after limit_s seconds.
sub api_drive {
    my ($self, $id, $tok, %o) = @_;
    my $s = $self->{s};
    my $end = time + ($o{limit_s} // 120);
    my @bad;
    while (time < $end) {
        my $r = $s->api(GET => "/api/v1/deployments/$id", token => $tok);
        if ($r->{status} != 200 || !$r->{json}) {
            push @bad, "GET $id $r->{status}";
            sleep 0.2;
            next;
        }
        my $d = $r->{json};
        return ($d->{state}, \@bad) if $d->{state} =~
            /^(done|rolled_back|rollback_failed|cancelled|expired|abandoned)$/;
        if (my $p = $d->{prompt}) {
            my $answer = $p->{choices}[0] // 'yes';
            my $a = $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
                json => { prompt => $p->{id}, answer => $answer });
            push @bad, "POST answer $p->{kind} $a->{status}" unless $a->{status} == 200;
        }
        sleep 0.2;
    }
    die "deployment $id did not end in time through the API\n";
}

sub teardown {
    my ($self) = @_;
    return if $self->{down}++ || $$ != $self->{owner};
    local ($?, $@, $!);
    my $failed = $self->{failed} || !Test::More->builder->is_passing;
    kill 'TERM', values %{ $self->{pids} };
    my $end = time + 10;
    while (%{ $self->{pids} } && time < $end) {
        for my $k (keys %{ $self->{pids} }) {
            delete $self->{pids}{$k} if waitpid($self->{pids}{$k}, WNOHANG) != 0;
        }
        sleep 0.05;
    }
    for my $k (keys %{ $self->{pids} }) {
        kill 'KILL', $self->{pids}{$k};
        waitpid($self->{pids}{$k}, 0);
    }
    if ($self->{standby_dir} && -f "$self->{standby_dir}/postmaster.pid") {
        eval { run_ok(_as_pg(), '/usr/lib/postgresql/15/bin/pg_ctl', '-D', $self->{standby_dir},
            '-m', 'immediate', '-w', 'stop') };
    }
    if ($self->{s}) {
        $self->{s}{failed} ||= $failed;
        $self->{s}->_teardown;
    }
    system('ip', 'netns', 'del', $_) for @{ $self->{ns} };
    system("ip link del $_ 2>/dev/null") for @{ $self->{veth} };
    delete $LIVE{"$self"};
}

sub DESTROY { $_[0]->teardown }

END {
    my $died = $? != 0;
    for my $m (grep { defined } values %LIVE) {
        $m->{failed} ||= $died;
        $m->teardown;
    }
}

1;
