package BadIdP;
# Perl side of t/badidp/server.js for the login tests (t/62N-*.t):
#
#   use lib 't/badidp';
#   use BadIdP;
#   my $idp = BadIdP->start;            # node t/badidp/server.js on a free port
#   $idp->issuer; $idp->client_secret;  # for SP::Stack->new(oidc => {...})
#   $idp->mode('alg_none');             # POST /mode; returns /stats
#   $idp->stats;                        # {mode, hits => {'/jwks' => n}, ...}
#   my $r = BadIdP::login_round($stack);   # GET /login -> /authorize -> callback
#   my $s = $idp->stack(settings => {...}); # an SP::Stack signing in here
#
# The provider's stderr goes to a log file whose tail is shown by
# diag_log; the process is stopped when the object goes away (and has a
# lifetime cap of its own, so nothing outlives a killed test).
use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::SSL;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More ();

my $DIR = abs_path(dirname(__FILE__));
my $JSON = JSON::PP->new->utf8->canonical;

sub start {
    my ($class, %opt) = @_;
    my $node = $opt{node} // do { my $n = `command -v node 2>/dev/null`; chomp $n; $n };
    croak 'node is not installed' unless $node;
    my $self = bless {
        secret => $opt{client_secret} // 'badidp-secret-' . $$ . '-' . int(rand(1e9)),
        logdir => tempdir('badidp-XXXXXX', TMPDIR => 1, CLEANUP => 1),
        owner  => $$,
    }, $class;
    $self->{log} = "$self->{logdir}/badidp.log";
    pipe(my $out, my $wr) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        close $out;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>&', $wr) or POSIX::_exit(127);
        open(STDERR, '>>', $self->{log}) or POSIX::_exit(127);
        $ENV{BADIDP_CLIENT_SECRET} = $self->{secret};
        $ENV{BADIDP_CLIENT_ID} = $opt{client_id} // 'spiderpig';
        $ENV{BADIDP_MAX_LIFETIME} = $opt{max_lifetime} // 600;
        exec($node, "$DIR/server.js", $opt{port} // 0) or POSIX::_exit(127);
    }
    close $wr;
    $self->{pid} = $pid;
    my $line = IO::Select->new($out)->can_read(20) ? scalar <$out> : undef;
    close $out;
    ($self->{issuer}) = ($line // '') =~ m{^READY (http://127\.0\.0\.1:\d+)$};
    unless ($self->{issuer}) {
        $self->diag_log;
        $self->stop;
        die "badidp did not start: " . ($line // 'no READY within 20 s') . "\n";
    }
    $self->{http} = HTTP::Tiny->new(timeout => 10, max_redirect => 0, agent => 'badidp-ctl/1');
    return $self;
}

# A stack (no workers) whose login goes to this provider, with the login
# pages' rate limit lifted (a 429 would look like a refusal); more SP::Stack
# options in %opt.
sub stack {
    my ($self, %opt) = @_;
    require SP::Stack;
    return SP::Stack->new(workers => 0,
        env => { SPIDERPIG_LOGIN_RATE => '100r/s', SPIDERPIG_LOGIN_BURST => 1000 },
        oidc => { issuer => $self->issuer, client_secret => $self->client_secret },
        %opt);
}

sub issuer        { $_[0]{issuer} }
sub client_secret { $_[0]{secret} }
sub client_id     { 'spiderpig' }
sub pid           { $_[0]{pid} }

sub mode {
    my ($self, $mode, %extra) = @_;
    my $r = $self->{http}->request(POST => "$self->{issuer}/mode", {
        headers => { 'Content-Type' => 'application/json' },
        content => $JSON->encode({ mode => $mode, %extra }) });
    die "badidp POST /mode $mode: $r->{status} $r->{content}\n" unless $r->{status} == 200;
    return $JSON->decode($r->{content});
}

sub stats {
    my ($self) = @_;
    my $r = $self->{http}->get("$self->{issuer}/stats");
    die "badidp GET /stats: $r->{status}\n" unless $r->{status} == 200;
    return $JSON->decode($r->{content});
}

sub hits { my ($self, $path) = @_; $self->stats->{hits}{$path} // 0 }

sub log_text {
    my ($self) = @_;
    open(my $fh, '<', $self->{log}) or return '';
    local $/;
    return scalar <$fh>;
}

sub diag_log {
    my ($self, $lines) = @_;
    my @l = split /\n/, $self->log_text;
    $lines //= 40;
    @l = @l[-$lines .. -1] if @l > $lines;
    Test::More::diag("---- badidp log (last " . scalar(@l) . " lines)\n" . join("\n", @l));
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    return unless $$ == $self->{owner};
    local ($?, $!);
    kill 'TERM', $pid;
    my $end = time + 5;
    while (time < $end) {
        return if waitpid($pid, WNOHANG) != 0;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

sub DESTROY { $_[0]->stop }

# ---- a browser-like login round trip (no JavaScript needed) ----------------

# Cookies set by the relying party, as a jar {name => value}; a cookie that
# is cleared (empty value, Max-Age=0 or an Expires in the past) is removed.
sub _take_cookies {
    my ($jar, $res, $seen) = @_;
    my $h = $res->{headers}{'set-cookie'} // [];
    for my $c (ref $h ? @$h : ($h)) {
        push @$seen, $c if $seen;
        my ($name, $value) = $c =~ /^\s*([^=;\s]+)=([^;]*)/ or next;
        if ($value eq '' || $c =~ /;\s*max-age=\s*-?0*(?:;|$)/i
            || $c =~ /;\s*expires=[^;]*\b19[0-9]{2}\b/i) {
            delete $jar->{$name};
        } else {
            $jar->{$name} = $value;
        }
    }
}

sub _cookie_header {
    my ($jar) = @_;
    return join '; ', map { "$_=$jar->{$_}" } sort keys %$jar;
}

# get($url, cookie => 'a=b') with a fresh client: the response, for replays.
sub get {
    my ($url, %opt) = @_;
    return _ua()->get($url, { headers => { defined $opt{cookie} ? (Cookie => $opt{cookie}) : () } });
}

sub _ua {
    HTTP::Tiny->new(
        verify_SSL => 0, SSL_options => { SSL_verify_mode => SSL_VERIFY_NONE },
        max_redirect => 0, timeout => 20, agent => 'Mozilla/5.0 (spiderpig login test)',
        keep_alive => 0,
    );
}

# login_round($stack, return_to => '/x', jar => {...})
# GET /login on the stack, follow its redirect to the provider's /authorize,
# follow that redirect back to /login/callback, with the cookies a browser
# would carry. Returns {login, authorize, callback} (HTTP::Tiny responses),
# callback_url, jar (cookies after the callback), set_cookies (every
# Set-Cookie line of the callback) and session (the __Host-spiderpig_session
# value the callback set, or undef), error (a string when a step was not the
# redirect it should be).
sub login_round {
    my ($stack, %opt) = @_;
    my $ua = _ua();
    my $jar = $opt{jar} // {};
    my %r = (jar => $jar, set_cookies => []);
    my $url = $stack->base_url . '/login' . (defined $opt{return_to} ? "?return_to=$opt{return_to}" : '');
    my $res = $ua->get($url, { headers => { Cookie => _cookie_header($jar) } });
    $r{login} = $res;
    _take_cookies($jar, $res);
    my $loc = $res->{headers}{location};
    unless ($res->{status} =~ /^30[23]$/ && $loc) {
        $r{error} = "GET /login: $res->{status}, not a redirect to the provider";
        return \%r;
    }
    $r{authorize_url} = $loc;
    $res = $ua->get($loc);
    $r{authorize} = $res;
    $loc = $res->{headers}{location};
    unless ($res->{status} == 302 && $loc) {
        $r{error} = "GET $r{authorize_url}: $res->{status} $res->{content}";
        return \%r;
    }
    $r{callback_url} = $loc;
    $r{callback_cookie} = _cookie_header($jar);
    return \%r if $opt{no_callback};
    $res = $ua->get($loc, { headers => { Cookie => $r{callback_cookie} } });
    $r{callback} = $res;
    _take_cookies($jar, $res, $r{set_cookies});
    for my $c (@{ $r{set_cookies} }) {
        if ($c =~ /^\s*__Host-spiderpig_session=([^;]+)/) { $r{session} = $1 }
    }
    return \%r;
}


# Session rows in the stack's database (what a login must add one of).
sub sessions {
    my ($s) = @_;
    return $s->sql('select count(*)::int as n from spiderpig.sessions')->[0]{n};
}

# One full login round that must succeed: 303 to /totp, a session cookie and
# one new session row. One test line named "$what: logs in ..."; returns it.
sub logs_in {
    my ($self, $s, $what) = @_;
    my $n0 = sessions($s);
    my $r = login_round($s);
    my $cb = $r->{callback} // {};
    my $ok = Test::More::ok(!$r->{error} && ($cb->{status} // 0) == 303
        && ($cb->{headers}{location} // '') =~ m{/totp} && defined $r->{session}
        && sessions($s) == $n0 + 1, "$what: logs in (303 to /totp, session cookie, session row)");
    unless ($ok) {
        Test::More::diag($r->{error} // "callback answered $cb->{status}:\n"
            . substr($cb->{content} // '', 0, 1500));
        $self->diag_log(20);
    }
    return $ok;
}

1;
