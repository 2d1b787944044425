package SP::Hooks;
# A webhook receiver for the tests of spiderpig-hooks: a forked HTTP server
# on 127.0.0.1 that checks each request's X-Spiderpig-Signature with the
# secret it was given, answers with the status it was told (or 401 to a bad
# signature), and records every request as one JSON line in a file the
# test reads back.
#
#   my $r = SP::Hooks->new(secret => $s->hooks_secret);   # listens now
#   my $r = SP::Hooks->new(secret => ..., port => $p, status => 500);
#   $r->url; $r->port;
#   $r->requests     # [{at, event, delivery, timestamp, signature, body,
#                    #   json, valid, status}], oldest first
#   $r->wait_for(sub { my @req = @_; ... }, 30, 'what')
#   $r->stop         # also when the object goes away
#   SP::Hooks::verify($secret, $timestamp, $body, $signature)
use strict;
use warnings;
use Carp qw(croak);
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);

# Does signature ("sha256=<hex>") sign "<timestamp>.<body>" with secret?
sub verify {
    my ($secret, $ts, $body, $sig) = @_;
    return 0 unless defined $sig && defined $ts && $sig =~ /^sha256=([0-9a-f]{64})$/;
    return hmac_sha256_hex("$ts.$body", $secret) eq $1 ? 1 : 0;
}

sub new {
    my ($class, %opt) = @_;
    croak "SP::Hooks: secret => ..." unless defined $opt{secret};
    my $self = bless { %opt, owner => $$ }, $class;
    $self->{dir} = tempdir('spiderpig-hooks-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    $self->{log} = "$self->{dir}/requests.jsonl";
    open(my $fh, '>', $self->{log}) or die "$self->{log}: $!";
    close $fh;
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $opt{port} // 0, Proto => 'tcp', Listen => 16,
        ReuseAddr => 1) or die "SP::Hooks: bind: $!";
    $self->{port} = $sock->sockport;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        eval { $self->_serve($sock) };
        _exit(0);
    }
    close $sock;
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }
sub url  { "http://127.0.0.1:$_[0]{port}/hook" }

# The child: one request per connection, recorded, then answered.
sub _serve {
    my ($self, $sock) = @_;
    my $json = JSON::PP->new->utf8->canonical;
    while (my $c = $sock->accept) {
        my $at = time;
        local $/ = "\r\n";
        my $line = <$c> // next;
        my %h;
        while (defined(my $l = <$c>)) {
            $l =~ s/\r\n\z//;
            last if $l eq '';
            $h{ lc $1 } = $2 if $l =~ /^([^:]+):\s*(.*)$/;
        }
        my $body = '';
        my $len = $h{'content-length'} // 0;
        while (length($body) < $len) {
            my $n = read($c, $body, $len - length($body), length($body));
            last unless $n;
        }
        my $valid = verify($self->{secret}, $h{'x-spiderpig-timestamp'}, $body,
            $h{'x-spiderpig-signature'});
        my $status = $valid ? ($self->{status} // 200) : 401;
        my $doc = eval { $json->decode($body) };
        my $rec = {
            at => $at, line => $line =~ s/\r\n\z//r, event => $h{'x-spiderpig-event'},
            delivery => $h{'x-spiderpig-delivery'},
            timestamp => $h{'x-spiderpig-timestamp'},
            signature => $h{'x-spiderpig-signature'},
            content_type => $h{'content-type'},
            body => $body, json => $doc, valid => $valid, status => $status,
        };
        open(my $fh, '>>', $self->{log}) or die "$self->{log}: $!";
        print $fh $json->encode($rec), "\n";
        close $fh;
        print $c "HTTP/1.1 $status X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        close $c;
    }
}

sub requests {
    my ($self) = @_;
    open(my $fh, '<', $self->{log}) or die "$self->{log}: $!";
    my $json = JSON::PP->new->utf8;
    my @r = map { $json->decode($_) } grep { /\S/ } <$fh>;
    close $fh;
    return \@r;
}

# Poll until $cond->(@requests) is true; dies after timeout seconds.
sub wait_for {
    my ($self, $cond, $timeout, $what) = @_;
    my $end = time + ($timeout // 30);
    while (time < $end) {
        my $r = $self->requests;
        return $r if $cond->(@$r);
        sleep 0.1;
    }
    my $n = scalar @{ $self->requests };
    die "timed out waiting for $what ($n requests so far)\n";
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid} && $$ == $self->{owner};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

1;
