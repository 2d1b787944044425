package SP::MetricsDouble;
# A metrics double for the canary judge's tests: one forked HTTP server on
# 127.0.0.1 that answers as the Prometheus query API (GET /api/v1/query) or
# as a logstash _search (POST .../_search) would, from simulated error and
# request counters of 2 canary and 4 other hosts at 25 requests/s each.
#
#   my $d = SP::MetricsDouble->new(scenario => 'bad');   # see %SCENARIOS
#   my $d = SP::MetricsDouble->new(scenario => 'bad', seed => 7);
#   $d->url;    # http://127.0.0.1:PORT
#   $d->hits;   # requests answered so far (from the child's count file)
#
# Counters grow by one Poisson draw per second at the scenario's rates (per
# host, errors a second), from a seeded generator (seed => N, 1 unless
# given): a scenario gives the same error stream in every run, so a test's
# outcome does not hang on a rare draw, and only the moments the judge
# looks move with the machine's load. Within a second a counter grows
# linearly towards the next second's total. Any
# query naming "canary" reads the canary counters, anything else the other
# hosts'; "requests" in a PromQL query reads requests, else errors.
# Scenarios with no counters: nodata (an empty vector; logstash: a 404
# error body), hang (accepts and never answers), garbage (200 with HTML).
use strict;
use warnings;

use File::Temp qw(tempfile);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);

our %SCENARIOS = (
    good        => [3, 3],    # [canary, other] errors/s per host
    bad         => [9, 3],    # 3x
    sparse_good => [1, 1],
    sparse_bad  => [5, 1],    # 1/s -> 5/s
    quiet       => [0, 0],    # requests but no errors at all
    canary_only => [5, 0],    # errors on the canaries, none on the others
    nodata      => undef,
    hang        => undef,
    garbage     => undef,
);
my $RPS = 25;

sub new {
    my ($class, %opt) = @_;
    my $sc = $opt{scenario} // 'good';
    die "unknown scenario $sc" unless exists $SCENARIOS{$sc};
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 16, ReuseAddr => 1) or die "listen: $!";
    my (undef, $hits) = tempfile('metrics-double-XXXXXX', TMPDIR => 1, UNLINK => 1);
    my $pid = fork // die "fork: $!";
    my $seed = $opt{seed} // 1;
    if (!$pid) {
        srand($seed);
        eval { _serve($srv, $sc, $hits) };
        _exit(0);
    }
    my $port = $srv->sockport;
    close $srv;
    return bless { pid => $pid, port => $port, hits => $hits }, $class;
}

sub url { "http://127.0.0.1:$_[0]{port}" }

sub hits {
    open(my $fh, '<', $_[0]{hits}) or return 0;
    my $n = <$fh>;
    return 0 + ($n // 0);
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'KILL', $self->{pid};
    waitpid($self->{pid}, 0);
}

# Poisson(mean), Knuth's way (means here are small).
sub _poisson {
    my ($mean) = @_;
    return 0 if $mean <= 0;
    my ($l, $k, $p) = (exp(-$mean), 0, 1);
    do { $k++; $p *= rand() } while ($p > $l);
    return $k - 1;
}

sub _serve {
    my ($srv, $sc, $hitfile) = @_;
    my $rates = $SCENARIOS{$sc};
    my $t0 = time;
    # Per-second error counts, drawn in order as time reaches them, and
    # their running totals: $cum{x}[k] errors before second k.
    my %cum = (canary => [0], other => [0]);
    my @per = $rates ? ($rates->[0] * 2, $rates->[1] * 4) : (0, 0);
    my $upto = sub {
        my ($el) = @_;
        my $k = int($el);
        while (@{ $cum{canary} } <= $k + 1) {
            push @{ $cum{canary} }, $cum{canary}[-1] + _poisson($per[0]);
            push @{ $cum{other} }, $cum{other}[-1] + _poisson($per[1]);
        }
        my $f = $el - $k;
        return map { int($cum{$_}[$k] + $f * ($cum{$_}[$k + 1] - $cum{$_}[$k])) }
            qw(canary other);
    };
    my $hits = 0;
    my $json = JSON::PP->new->canonical;
    while (my $conn = $srv->accept) {
        $hits++;
        if (open(my $h, '>', $hitfile)) { print $h "$hits\n"; close $h }
        if ($sc eq 'hang') {
            # Hold the connection without a byte, until the client gives up.
            my $buf;
            $conn->blocking(1);
            1 while sysread($conn, $buf, 4096);
            close $conn;
            next;
        }
        my ($method, $target, $body) = _read_request($conn);
        next unless defined $method;
        my $now = time;
        my $el = $now - $t0;
        my ($ce, $oe) = $upto->($el);
        my %value = (
            canary_errors => $ce, other_errors => $oe,
            canary_requests => int($RPS * 2 * $el), other_requests => int($RPS * 4 * $el),
        );
        my ($status, $type, $out) = (200, 'application/json', '');
        if ($sc eq 'garbage') {
            ($type, $out) = ('text/html', "<html><body>502 Bad Gateway, or so</body></html>\n");
        } elsif ($method eq 'GET' && $target =~ m{^/api/v1/query\?(.*)$}) {
            my %q = map { my ($k, $v) = split /=/, $_, 2; ($k => _unescape($v // '')) } split /&/, $1;
            my $query = $q{query} // '';
            my $key = ($query =~ /canary/ ? 'canary' : 'other') . '_' .
                ($query =~ /requests/ ? 'requests' : 'errors');
            my @result = $sc eq 'nodata' ? () :
                ({ metric => {}, value => [ 0 + ($q{time} // $now), "$value{$key}" ] });
            $out = $json->encode({ status => 'success',
                data => { resultType => 'vector', result => \@result } });
        } elsif ($method eq 'POST' && $target =~ m{/_search$}) {
            my $req = eval { $json->decode($body) } // {};
            my $qs = eval { $req->{query}{bool}{filter}[0]{query_string}{query} } // '';
            if ($sc eq 'nodata') {
                $status = 404;
                $out = '{"error":{"type":"index_not_found_exception"},"status":404}';
            } else {
                my $n = $value{ ($qs =~ /canary/ ? 'canary' : 'other') . '_errors' };
                $out = $json->encode({ took => 1, timed_out => JSON::PP::false,
                    hits => { total => { value => $n, relation => 'eq' }, hits => [] } });
            }
        } else {
            ($status, $out) = (404, '{"status":"error","error":"no such path"}');
        }
        my $reason = $status == 200 ? 'OK' : 'Not Found';
        print $conn "HTTP/1.1 $status $reason\r\nContent-Type: $type\r\n" .
            "Content-Length: " . length($out) . "\r\nConnection: close\r\n\r\n$out";
        close $conn;
    }
}

sub _unescape {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr(hex $1)/ge;
    return $s;
}

# The request line, target and body (Content-Length) of one request.
sub _read_request {
    my ($conn) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($conn, $head, 4096, length $head);
        return unless $n;
    }
    my ($h, $rest) = split /\r\n\r\n/, $head, 2;
    my ($method, $target) = $h =~ m{^(\S+) (\S+)};
    my ($len) = $h =~ /^Content-Length:\s*(\d+)/mi;
    $len //= 0;
    while (length($rest) < $len) {
        my $n = sysread($conn, $rest, $len - length $rest, length $rest);
        last unless $n;
    }
    return ($method, $target, $rest);
}

1;
