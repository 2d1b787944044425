package SP::Stack;
# A whole spiderpig stack per test (doc/harness.md): private Postgres cluster,
# migrations, the FastCGI app, nginx on free ports and 0..n workers, all in a
# temporary folder, all stopped when the object goes away (also on die).
# tools/stack does the work, so there is one renderer and one way to start
# each daemon; only workers are started here, so tests can kill -9 them.
#
# Beyond doc/harness.md:
#   new(env => {SPIDERPIG_API_RATE => '1r/s', ...})  tools/stack settings
#   new(nginx_conf => 'location ... { root @DIR@; }') lines added to the TLS
#       server (nginx.d/test.conf; @DIR@ becomes the stack's folder)
#   worker => {env => [...], mask => [...]} add to the template's env/mask
#       (@DIR@ in a worker value becomes the stack's folder)
#   scap => {command => [argv], timeout => S, grace => S}: the [scap]
#       section (command as JSON); with worker => {mode => 'scap'}
#   stream => 1: start the WebSocket daemon (tools/stack start DIR stream);
#       t/lib/SP/Stream.pm drives clients against it
#   oidc => 1: browser login through the bundled provider (idp/provider.js,
#       started by tools/stack on a free port); oidc => {issuer => URL,
#       client_secret => S} another provider (t/badidp). Either way the
#       site is https://127.0.0.1:PORT (SPIDERPIG_HOST) and the [oidc] and
#       [totp] sections are live; without oidc the [oidc] section is removed
#       (the login pages answer 503). $s->oidc_issuer, $s->oidc_secret.
#   $s->worker_ini_path (worker.ini: the stages and [worker]; ini_path is
#       the app's spiderpig.ini), workers started through `tools/stack
#       exec-worker` (user spiderpig-worker; stages run as spiderpig-stage),
#   $s->http_url, $s->port('https'|'http'|'demo_test'|...|'pg'),
#   $s->conninfo([user]), $s->dbh, $s->token(user[, label]), $s->repo,
#   $s->stack(CMD, ARGS) (tools/stack CMD DIR ARGS), $s->worker_pids,
#   $s->stop_postgres([mode]), $s->api(..., url => FULL_URL, body => BYTES)
#   stages => {smoke_test => {kind => 'httpbb', tests => [...], ...}}: a
#       hash sets a built-in kind and its keys (kind first; an array value
#       repeats the key; @DIR@ becomes the stack's folder, @PORT_demo_test@
#       the port $s->port('demo_test'))
#   fleet => 1: the demo fleet (tools/stack SPIDERPIG_FLEET=1: seven demo
#       servers, mtail, Prometheus, the traffic generator, and the built-in
#       smoke test and canary stages in worker.ini), started after nginx;
#       fleet => {SPIDERPIG_DEMO_ERROR_PCT => 4, ...} also sets those.
#       $s->port('fleet_test1' ... 'fleet_prod4', 'fleet_mtail',
#       'fleet_prometheus')
#   sections => {gerrit => {url => ...}, 'stage merge' => {kind => ...}}
#       set keys of any ini section (added when the template lacks it)
#   hooks => {url => URL, key => value ...}: keys of hooks.ini's [hooks]
#       (the webhook sender's config; @DIR@ becomes the stack's folder),
#       and the sender started after Postgres (tools/stack start DIR hooks).
#       $s->hooks_secret is the secret it signs with (DIR/hooks.secret);
#       t/lib/SP/Hooks.pm is a receiver. new returns once the sender
#       registered its receiver ([hooks] name, default "default"); a
#       second receiver's sender: $s->start_hooks(name => 'irc', url => ...).
# SP_KEEP=1 keeps the folder; SP_TMPDIR picks where folders go (/tmp).
use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use DBI;
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Socket::SSL;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Scalar::Util qw(weaken);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Test::More ();
use Time::HiRes qw(sleep time);

# HTTP::Tiny writes a request's header and body in two writes; with Nagle's
# algorithm the body then waits for the server's delayed ACK (40 ms per
# POST here). Its handle class has no option for TCP_NODELAY, so set it on
# each new connection.
{
    no warnings 'redefine';
    my $connect = \&HTTP::Tiny::Handle::connect;
    *HTTP::Tiny::Handle::connect = sub {
        my $h = $connect->(@_);
        setsockopt($h->{fh}, IPPROTO_TCP, TCP_NODELAY, 1) if $h && $h->{fh};
        return $h;
    };
}

my $REPO = abs_path(dirname(__FILE__) . '/../../..');
my $CACHE = '/tmp/spiderpig-test-cache';
my @STAGES = qw(merge sync_test smoke_test sync_canary canary_check sync_production);
my %LIVE;    # refaddr => object, for the END block

# Ctrl-C or a TERM from prove must still stop the daemons: make them a
# normal exit so END and DESTROY run.
$SIG{INT} = $SIG{TERM} = sub { exit 130 } unless $SIG{INT};

sub new {
    my ($class, %opt) = @_;
    my %known = map { $_ => 1 } qw(workers nginx stages worker settings env nginx_conf oidc stream scap sections fleet hooks);
    for (keys %opt) { croak "SP::Stack: unknown option '$_'" unless $known{$_} }
    my @fleet_names = qw(test1 canary1 canary2 prod1 prod2 prod3 prod4 mtail prometheus);
    my $self = bless {
        opt     => \%opt,
        owner   => $$,
        workers => {},      # pid => log name
        nworker => 0,
        json    => JSON::PP->new->utf8->canonical,
    }, $class;

    my $base = $ENV{SP_TMPDIR} // '/tmp';
    $self->{dir} = tempdir('spiderpig-t-XXXXXX', DIR => $base);
    $LIVE{"$self"} = $self;
    weaken($LIVE{"$self"});

    my $oidc = $opt{oidc};
    croak "SP::Stack: oidc => 1 or {issuer => ..., client_secret => ...}"
        if ref $oidc && (ref $oidc ne 'HASH' || !$oidc->{issuer} || !$oidc->{client_secret});
    my @ports = free_ports(6);
    $self->{port} = {
        https => $ports[0], http => $ports[1], demo_test => $ports[2],
        demo_canary => $ports[3], demo_production => $ports[4],
        pg => 5439,    # names the socket in our own folder: never clashes
    };
    my %env = (
        SPIDERPIG_HTTPS_PORT => $ports[0], SPIDERPIG_HTTP_PORT => $ports[1],
        SPIDERPIG_DEMO_TEST_PORT => $ports[2], SPIDERPIG_DEMO_CANARY_PORT => $ports[3],
        SPIDERPIG_DEMO_PRODUCTION_PORT => $ports[4], SPIDERPIG_PG_PORT => 5439,
        SPIDERPIG_INITDB_CACHE => $CACHE, SPIDERPIG_PG_FAST => 1,
        SPIDERPIG_DEMO_GIT => 0,    # env => {SPIDERPIG_DEMO_GIT => 1}: demo/make-repo
        $oidc ? (SPIDERPIG_HOST => '127.0.0.1', SPIDERPIG_IDP_PORT => $ports[5],
            SPIDERPIG_IDP_LIFETIME => 900) : (),
        %{ $opt{env} // {} },
    );
    if ($opt{fleet}) {
        my @fp = free_ports(scalar @fleet_names);
        $self->{port}{"fleet_$fleet_names[$_]"} = $fp[$_] for 0 .. $#fleet_names;
        $env{SPIDERPIG_FLEET} = 1;
        $env{SPIDERPIG_FLEET_PORTS} = join ',', @fp;
        %env = (%env, %{ $opt{fleet} }) if ref $opt{fleet} eq 'HASH';
    }
    $self->{env} = \%env;

    eval {
        $self->stack('init');
        $self->_override_ini;
        if (defined $opt{nginx_conf}) {
            (my $conf = $opt{nginx_conf}) =~ s/\@DIR\@/$self->{dir}/g;
            _write_keep("$self->{dir}/nginx.d/test.conf", $conf);
        }
        if ($oidc && !ref $oidc) {
            $self->{oidc_issuer} = "http://127.0.0.1:$ports[5]";
            $self->stack('start', 'idp');
        } elsif ($oidc) {
            $self->{oidc_issuer} = $oidc->{issuer};
        }
        $self->start_postgres;
        # The bundled provider's root account (sub "root") is the bootstrap
        # admin, bound the way an operator binds theirs (sql/008).
        $self->sql(q{select spiderpig.bind_identity('root', 'root', $1, 'root')},
            $self->{oidc_issuer}) if $oidc && !ref $oidc;
        $self->_apply_settings($opt{settings}) if $opt{settings};
        # stream => 1: the WebSocket daemon too (before nginx proxies to it).
        $self->stack('start', 'stream') if $opt{stream};
        if ($opt{hooks}) {
            $self->stack('start', 'hooks');
            $self->_wait_receiver($opt{hooks}{name} // 'default');
        }
        if ($opt{nginx} // 1) {
            $self->stack('start', 'fcgi', 'nginx');
            $self->stack('start', 'fleet') if $opt{fleet};
            $self->wait_for(sub {
                my $r = $self->api(GET => '/api/v1/healthz');
                $r->{status} == 200;
            }, 20, 'GET /api/v1/healthz to answer 200');
        }
        $self->start_worker for 1 .. ($opt{workers} // 1);
        if (%{ $self->{workers} }) {
            # A worker that refuses its config exits at once: say so here.
            sleep 0.2;
            for my $pid (keys %{ $self->{workers} }) {
                next unless waitpid($pid, WNOHANG) == $pid;
                delete $self->{workers}{$pid};
                die "worker $pid exited at once (status $?)\n";
            }
        }
        1;
    } or do {
        my $err = $@;
        $self->{failed} = 1;
        $self->_teardown;
        die "SP::Stack: the stack did not start: $err";
    };
    return $self;
}

# Ports nobody listens on now (the kernel's choice for port 0). Another
# process could take one before we bind it; rare enough for tests.
sub free_ports {
    my ($n) = @_;
    my (@socks, @ports);
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
            Proto => 'tcp', Listen => 1, ReuseAddr => 1) or die "bind: $!";
        push @socks, $s;
        push @ports, $s->sockport;
    }
    close $_ for @socks;
    return @ports;
}

sub dir      { $_[0]{dir} }
sub oidc_issuer { $_[0]{oidc_issuer} }
sub oidc_secret {
    my ($self) = @_;
    return $self->{opt}{oidc}{client_secret} if ref $self->{opt}{oidc};
    open(my $fh, '<', "$self->{dir}/oidc.secret") or die "oidc.secret: $!";
    chomp(my $v = <$fh>);
    return $v;
}
sub ini_path { "$_[0]{dir}/spiderpig.ini" }
sub worker_ini_path { "$_[0]{dir}/worker.ini" }
# The webhook sender's files: the default receiver's hooks.ini and
# hooks.secret, or receiver NAME's hooks-NAME.ini and hooks-NAME.secret
# (start_hooks).
sub _hooks_file {
    my ($self, $name, $ext) = @_;
    return "$self->{dir}/hooks.$ext" unless defined $name;
    croak "bad receiver name '$name'" unless $name =~ /^[a-z0-9_-]{1,40}$/;
    return "$self->{dir}/hooks-$name.$ext";
}
sub hooks_ini_path { $_[0]->_hooks_file($_[1], 'ini') }
sub hooks_secret {
    my ($self, $name) = @_;
    my $path = $self->_hooks_file($name, 'secret');
    open(my $fh, '<', $path) or die "$path: $!";
    chomp(my $v = <$fh>);
    return $v;
}

# Start a second (third ...) webhook sender, for receiver name:
#   $s->start_hooks(name => 'irc', url => URL, secret => S, key => value ...)
# Its config is the stack's hooks.ini with [hooks] name, the other keys
# (@DIR@ becomes the stack's folder) and secret_file = hooks-NAME.secret
# (S, or a new random one; $s->hooks_secret('irc') reads it); tools/stack
# runs it as the instance hooks-NAME. Returns once the receiver registered.
sub start_hooks {
    my ($self, %kv) = @_;
    my $name = delete $kv{name} // croak 'start_hooks: name => ...';
    croak "start_hooks: url => ..." unless defined $kv{url};
    my $ini = $self->hooks_ini_path($name);
    my $sec = $self->_hooks_file($name, 'secret');
    my $secret = delete $kv{secret} // sha256_hex(rand() . $$ . time);
    for my $copy ([ $self->hooks_ini_path, $ini, undef ],
                  [ "$self->{dir}/hooks.secret", $sec, "$secret\n" ]) {
        my ($from, $to, $text) = @$copy;
        my @st = stat $from or die "$from: $!";
        if (!defined $text) {
            open(my $in, '<', $from) or die "$from: $!";
            local $/;
            $text = <$in>;
        }
        open(my $fh, '>', $to) or die "$to: $!";
        print $fh $text;
        close $fh or die "$to: $!";
        chown $st[4], $st[5], $to if $> == 0;
        chmod $st[2] & 07777, $to;
    }
    my @kv = map { (my $x = $kv{$_}) =~ s/\@DIR\@/$self->{dir}/g; [ $_, [$x] ] }
        sort keys %kv;
    _override_file($ini, { hooks => [ [ name => [$name] ],
        [ secret_file => [$sec] ], grep { $_->[0] ne 'secret_file' } @kv ] }, {});
    $self->stack('start', 'hooks');
    $self->_wait_receiver($name);
    return $self;
}

# Wait until the sender of receiver name registered it (sql/018).
sub _wait_receiver {
    my ($self, $name) = @_;
    $self->wait_for(sub {
        @{ $self->sql(q{select 1 from spiderpig.hook_receivers where name = $1}, $name) };
    }, 20, "the webhook receiver '$name' to register");
}
sub base_url { "https://127.0.0.1:$_[0]{port}{https}" }
sub http_url { "http://127.0.0.1:$_[0]{port}{http}" }
sub port     { $_[0]{port}{ $_[1] } }
sub repo     { $REPO }
sub log_path { "$_[0]{dir}/log/$_[1].log" }
sub conninfo {
    my ($self, $user) = @_;
    "host=$self->{dir}/run/pg port=$self->{port}{pg} dbname=spiderpig user=" . ($user // 'postgres');
}

# Run tools/stack CMD DIR ARGS with our ports; die with its output on failure.
sub stack {
    my ($self, $cmd, @args) = @_;
    local %ENV = (%ENV, %{ $self->{env} });
    my $out = '';
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        exec("$REPO/tools/stack", $cmd, $self->{dir}, @args) or die "exec: $!";
    }
    local $/;
    $out = <$fh> // '';
    close $fh;
    die "tools/stack $cmd @args failed (exit " . ($? >> 8) . "):\n$out" if $?;
    return $out;
}

# Replace a file's text, keeping the owner and mode tools/stack gave it
# (a new file: ours, 0644).
sub _write_keep {
    my ($path, $text) = @_;
    my @st = stat $path;
    open(my $fh, '>', "$path.tmp") or die "$path.tmp: $!";
    print $fh $text;
    close $fh or die "$path.tmp: $!";
    if (@st) {
        chown $st[4], $st[5], "$path.tmp" if $> == 0;
        chmod $st[2] & 07777, "$path.tmp";
    } else {
        chmod 0644, "$path.tmp";
    }
    rename "$path.tmp", $path or die "$path: $!";
}

# Apply the stages/worker options to the rendered worker.ini and the oidc
# option to spiderpig.ini: a stage "X" sets its command, "X_rollback" its
# rollback, "X_timeout" its timeout; worker keys replace the [worker] key of
# that name, except the repeatable env and mask, whose values (one or an
# array) are added to the template's.
sub _override_ini {
    my ($self) = @_;
    my %set;    # section => [ [key, [values]] ... ]
    my $stages = $self->{opt}{stages} // {};
    for my $k (sort keys %$stages) {
        my ($stage, $key);
        if (grep { $_ eq $k } @STAGES) {
            ($stage, $key) = ($k, 'command');
        } elsif ($k =~ /^(\w+)_(rollback|timeout)$/ && grep { $_ eq $1 } @STAGES) {
            ($stage, $key) = ($1, $2);
        } else {
            croak "stages: unknown stage in '$k'";
        }
        my $v = $stages->{$k};
        if (ref $v eq 'HASH') {
            croak "stages: $k => {...} needs a kind" unless $v->{kind} && $key eq 'command';
            my @kv = ([ kind => [ $v->{kind} ] ]);
            for my $o (sort grep { $_ ne 'kind' } keys %$v) {
                my @vals = map { (my $x = $_) =~ s/\@DIR\@/$self->{dir}/g;
                    $x =~ s/\@PORT_(\w+)\@/$self->{port}{$1} \/\/ croak "no port $1"/ge; $x }
                    ref $v->{$o} eq 'ARRAY' ? @{ $v->{$o} } : ($v->{$o});
                push @kv, [ $o, \@vals ];
            }
            push @{ $set{"stage $stage"} }, @kv;
            next;
        }
        push @{ $set{"stage $stage"} },
            [ $key, [ $key eq 'timeout' ? $v : $self->{json}->encode($v) ] ];
    }
    my $worker = $self->{opt}{worker} // {};
    for my $k (sort keys %$worker) {
        my $v = $worker->{$k};
        my @v = map { (my $x = $_) =~ s/\@DIR\@/$self->{dir}/g; $x } ref $v eq 'ARRAY' ? @$v : ($v);
        push @{ $set{worker} }, [ $k, \@v ];
    }
    my $scap = $self->{opt}{scap} // {};
    for my $k (sort keys %$scap) {
        my $v = $scap->{$k};
        push @{ $set{scap} }, [ $k, [ ref $v ? $self->{json}->encode($v) : $v ] ];
    }
    # sections => {NAME => {key => value or [values]}}: any other keys, e.g.
    # {gerrit => {url => ...}, 'stage merge' => {kind => 'gerrit-merge'}}.
    my $sections = $self->{opt}{sections} // {};
    for my $sec (sort keys %$sections) {
        for my $k (sort keys %{ $sections->{$sec} }) {
            my $v = $sections->{$sec}{$k};
            push @{ $set{$sec} }, [ $k, ref $v eq 'ARRAY' ? $v : [$v] ];
        }
    }
    my $oidc = $self->{opt}{oidc};
    if (ref $oidc) {
        push @{ $set{oidc} }, [ issuer => [ $oidc->{issuer} ] ],
            [ client_secret => [ $oidc->{client_secret} ] ];
    }
    my %drop = $oidc ? () : (oidc => 1);
    # [oidc] and [fcgi] are the app's (spiderpig.ini), the rest the worker's.
    my %web = map { $_ => $set{$_} } grep { $_ eq 'oidc' || $_ eq 'fcgi' } keys %set;
    my %worker = map { $_ => $set{$_} } grep { $_ ne 'oidc' && $_ ne 'fcgi' } keys %set;
    _override_file($self->ini_path, \%web, \%drop);
    if (my $hooks = $self->{opt}{hooks}) {
        my @kv = map { (my $x = $hooks->{$_}) =~ s/\@DIR\@/$self->{dir}/g; [ $_, [$x] ] }
            sort keys %$hooks;
        _override_file($self->hooks_ini_path, { hooks => \@kv }, {});
    }
    _override_file($self->worker_ini_path, \%worker, {});
}

# Rewrite the ini file path: %$set is section => [[key, [values]] ...]
# (keys replaced, sections added), %$drop names sections to remove.
sub _override_file {
    my ($path, $set, $drop) = @_;
    my %set = %$set;
    my %drop = %$drop;
    open(my $in, '<', $path) or die "$path: $!";
    my @lines = <$in>;
    close $in;
    my (@out, $section);
    my %pending = map { $_ => [ @{ $set{$_} } ] } keys %set;
    my $flush = sub {
        return unless defined $section && $pending{$section};
        for my $kv (@{ delete $pending{$section} }) {
            push @out, "$kv->[0] = $_\n" for @{ $kv->[1] };
        }
    };
    for my $line (@lines) {
        if ($line =~ /^\[([^\]]+)\]/) {
            $flush->();
            $section = $1;
            next if $drop{$section};
        } elsif (defined $section && $drop{$section}) {
            next;
        } elsif (defined $section && $set{$section} && $line =~ /^(\w+)\s*=/) {
            my $key = $1;
            next if $key ne 'env' && $key ne 'mask'
                && grep { $_->[0] eq $key } @{ $set{$section} };
        }
        push @out, $line;
    }
    $flush->();
    for my $s (sort keys %pending) {
        push @out, "\n[$s]\n";
        $section = $s;
        $flush->();
    }
    _write_keep($path, join('', @out));
}

sub _apply_settings {
    my ($self, $settings) = @_;
    for my $k (sort keys %$settings) {
        croak "settings: bad name '$k'" unless $k =~ /^[a-z_]+$/;
        $self->sql("update spiderpig.settings set $k = \$1", $settings->{$k});
    }
}

# --- database ---------------------------------------------------------------

# The superuser connection, one per process (reconnects after a restart).
# AutoInactiveDestroy: a forked child exiting leaves the parent's open.
sub dbh {
    my ($self) = @_;
    delete $self->{dbh} if ($self->{dbh_pid} // 0) != $$;
    my $dbh = $self->{dbh};
    return $dbh if $dbh && $dbh->ping;
    $self->{dbh_pid} = $$;
    $self->{dbh} = DBI->connect("dbi:Pg:dbname=spiderpig;host=$self->{dir}/run/pg;port=$self->{port}{pg}",
        'postgres', '', { RaiseError => 1, PrintError => 0, AutoCommit => 1, pg_enable_utf8 => 1,
            AutoInactiveDestroy => 1 })
        or die "connect: $DBI::errstr";
    return $self->{dbh};
}

# Rows as an array of hashrefs (empty for statements that return none).
sub sql {
    my ($self, $sql, @bind) = @_;
    my $sth = $self->dbh->prepare($sql);
    $sth->execute(@bind);
    return [] unless $sth->{NUM_OF_FIELDS};
    return $sth->fetchall_arrayref({});
}

sub stop_postgres {
    my ($self, $mode) = @_;
    if ($self->{dbh}) { eval { $self->{dbh}->disconnect }; delete $self->{dbh} }
    local $self->{env}{SPIDERPIG_PG_STOP_MODE} = $mode // 'fast';
    $self->stack('stop', 'postgres');
}

sub start_postgres { $_[0]->stack('start', 'postgres') }

# --- users and HTTP ---------------------------------------------------------

# Add a user (role deployer unless given) and return a fresh API token.
sub user {
    my ($self, $name, $role) = @_;
    $self->sql('select spiderpig.add_user($1, $2, $3)', 'root', $name, $role // 'deployer');
    return $self->token($name);
}

sub token {
    my ($self, $name, $label) = @_;
    return $self->sql('select spiderpig.create_token($1, $2, $3) as t',
        'root', $name, $label // "test-" . ++$self->{ntoken})->[0]{t};
}

# One HTTP::Tiny (and its kept-alive TLS connection) per process: a child
# of a forking test must not write on its parent's connection.
sub http {
    my ($self) = @_;
    delete $self->{http} if ($self->{http_pid} // 0) != $$;
    $self->{http_pid} = $$;
    $self->{http} //= HTTP::Tiny->new(
        verify_SSL => 0,
        SSL_options => { SSL_verify_mode => SSL_VERIFY_NONE },
        max_redirect => 0,
        timeout => 30,
        agent => 'sp-stack-test/1',
    );
}

# api(METHOD => PATH, token => T, json => DATA, body => BYTES,
#     headers => {...}, url => FULL_URL)
# Returns { status, headers (lower-case names), body, json (when it parses) }.
sub api {
    my ($self, $method, $path, %a) = @_;
    my %h = %{ $a{headers} // {} };
    $h{Authorization} = "Bearer $a{token}" if defined $a{token};
    my $body = $a{body};
    if (exists $a{json}) {
        $body = $self->{json}->encode($a{json});
        $h{'Content-Type'} //= 'application/json';
    }
    my $url = $a{url} // $self->base_url . $path;
    my $res = $self->http->request($method, $url,
        { headers => \%h, defined $body ? (content => $body) : () });
    my $r = { status => $res->{status}, headers => $res->{headers} // {},
        body => $res->{content} // '', reason => $res->{reason} };
    if (length $r->{body} && ($r->{headers}{'content-type'} // '') =~ /json/) {
        $r->{json} = eval { $self->{json}->decode($r->{body}) };
    }
    return $r;
}

# --- waiting ----------------------------------------------------------------

# Poll $code every 0.1 s until it returns true (that value is returned) or
# $timeout seconds pass (dies naming $what).
sub wait_for {
    my ($self, $code, $timeout, $what) = @_;
    my $end = time + ($timeout // 20);
    while (1) {
        my $v = $code->();
        return $v if $v;
        die "timed out after ${\($timeout // 20)} s waiting for " . ($what // 'a condition') . "\n"
            if time > $end;
        sleep 0.1;
    }
}

sub wait_state {
    my ($self, $id, $state, $timeout) = @_;
    my $last = '(no row)';
    my $ok = eval {
        $self->wait_for(sub {
            my $r = $self->sql('select state from spiderpig.deployments where id = $1', $id)->[0];
            $last = $r ? $r->{state} : '(no row)';
            $last eq $state;
        }, $timeout // 20, "deployment $id to reach $state");
    };
    die "deployment $id: wanted state $state, still $last after ${\($timeout // 20)} s\n" unless $ok;
    return 1;
}

# --- workers ----------------------------------------------------------------

# Start one more worker the way tools/stack does (its user, its
# capabilities, worker.ini: `tools/stack exec-worker`, which execs, so the
# pid is the worker's); returns its pid. Its log is log/worker-N.log and its
# pid file run/worker-N.pid (tools/stack stop uses it).
sub start_worker {
    my ($self) = @_;
    my $bin = "$REPO/build/spiderpig-worker";
    die "$bin is missing: run make build\n" unless -x $bin;
    my $n = ++$self->{nworker};
    my $log = "$self->{dir}/log/worker-$n.log";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $log) or POSIX::_exit(127);
        open(STDERR, '>&', \*STDOUT);
        chmod 0640, $log;
        exec("$REPO/tools/stack", 'exec-worker', $self->{dir}) or POSIX::_exit(127);
    }
    $self->{workers}{$pid} = $n;
    _write_keep("$self->{dir}/run/worker-$n.pid", "$pid\n");
    return $pid;
}

sub worker_pids { sort { $a <=> $b } keys %{ $_[0]{workers} } }

# Send a signal; for KILL, TERM and INT also reap the worker (up to 15 s).
sub signal_worker {
    my ($self, $pid, $sig) = @_;
    croak "not a worker of this stack: $pid" unless $self->{workers}{$pid};
    kill $sig, $pid;
    return unless $sig =~ /^(KILL|TERM|INT|9|15|2)$/;
    my $end = time + 15;
    while (time < $end) {
        if (waitpid($pid, WNOHANG) == $pid) {
            my $n = delete $self->{workers}{$pid};
            unlink "$self->{dir}/run/worker-$n.pid";
            return $?;
        }
        sleep 0.05;
    }
    die "worker $pid did not exit after SIG$sig\n";
}

# --- teardown ---------------------------------------------------------------

sub _log_tails {
    my ($self) = @_;
    for my $f (sort glob("$self->{dir}/log/*.log")) {
        next unless -s $f;
        open(my $fh, '<', $f) or next;
        my @l = <$fh>;
        close $fh;
        my @tail = @l > 30 ? @l[-30 .. -1] : @l;
        Test::More::diag("---- $f (last " . scalar(@tail) . " lines)\n" . join('', @tail));
    }
}

sub _teardown {
    my ($self) = @_;
    return if $self->{down}++ || $$ != $self->{owner};
    local ($?, $@, $!);
    my $failed = $self->{failed} || !Test::More->builder->is_passing;
    $self->_log_tails if $failed;
    for my $pid (keys %{ $self->{workers} }) {
        kill 'TERM', $pid;
    }
    my $end = time + 10;
    while (%{ $self->{workers} } && time < $end) {
        for my $pid (keys %{ $self->{workers} }) {
            delete $self->{workers}{$pid} if waitpid($pid, WNOHANG) == $pid;
        }
        sleep 0.05;
    }
    for my $pid (keys %{ $self->{workers} }) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    if ($self->{dbh}) { eval { $self->{dbh}->disconnect } }
    eval { $self->stack('stop'); 1 } or Test::More::diag("stopping the stack: $@");
    if ($ENV{SP_KEEP}) {
        Test::More::diag("SP_KEEP: kept $self->{dir}");
    } else {
        remove_tree($self->{dir});
    }
    delete $LIVE{"$self"};
}

sub DESTROY { $_[0]->_teardown }

# A test that dies exits non-zero without failing a test: show logs then too.
END {
    my $died = $? != 0;
    for my $s (grep { defined } values %LIVE) {
        $s->{failed} ||= $died;
        $s->_teardown;
    }
}

1;
