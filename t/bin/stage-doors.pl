#!/usr/bin/perl
# Stage command for t/06-stage-four-doors.t: tries the doors a stage command
# must find shut and prints one line per door:
#   DOOR <name>: OPEN|SHUT: <what it got>
# then "DOORS DONE". It always exits 0: the test reads the report from the
# deployment's log. Where to knock comes from the environment the worker
# passes ([worker] env): DOORS_DIR, the stack's state folder. Each place
# the stack has kept a socket or a secret there is tried.
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

$| = 1;

sub report {
    my ($door, $open, $what) = @_;
    $what =~ s/[^\x20-\x7e]+/ /g;
    $what = substr($what, 0, 300);
    print "DOOR $door: ", ($open ? 'OPEN' : 'SHUT'), ": $what\n";
}

# psql as ROLE on the cluster's socket: open when a query answers.
my $dir = $ENV{DOORS_DIR} // die "DOORS_DIR is not set\n";
my $port = $ENV{DOORS_PGPORT} // 5439;

sub psql_door {
    my ($door, $role) = @_;
    my @got;
    for my $host ("$dir/run/pg", "$dir/run") {
        my $out = `psql -X -w -At -h "$host" -p "$port" -U $role -d spiderpig -c 'select current_user' 2>&1`;
        chomp $out;
        if ($? == 0 && $out eq $role) {
            report($door, 1, "$host: $out");
            return;
        }
        push @got, "$host: $out";
    }
    report($door, 0, join(' | ', @got));
}

# A FastCGI request straight to the app's socket, claiming to be root the
# admin: nginx's gate is not in the way here, only the socket's owner.
sub fcgi_record {
    my ($type, $content) = @_;
    my $pad = (8 - length($content) % 8) % 8;
    return pack('CCnnCC', 1, $type, 1, length $content, $pad, 0) . $content . ("\0" x $pad);
}

sub fcgi_pair {
    my ($k, $v) = @_;
    my $len = sub { $_[0] < 128 ? pack('C', $_[0]) : pack('N', $_[0] | 0x80000000) };
    return $len->(length $k) . $len->(length $v) . $k . $v;
}

sub fcgi_door {
    my ($path) = @_;
    my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path);
    unless ($sock) {
        report("fcgi $path", 0, "connect: $!");
        return;
    }
    my $body = '{"name":"eve","role":"admin"}';
    my %p = (REQUEST_METHOD => 'POST', DOCUMENT_URI => '/api/v1/admin/users',
        REQUEST_URI => '/api/v1/admin/users', QUERY_STRING => '',
        CONTENT_TYPE => 'application/json', CONTENT_LENGTH => length $body,
        REMOTE_USER => 'root', SPIDERPIG_ROLE => 'admin', REMOTE_ADDR => '127.0.0.1');
    my $params = join '', map { fcgi_pair($_, $p{$_}) } sort keys %p;
    my $req = fcgi_record(1, pack('nCx5', 1, 0)) . fcgi_record(4, $params)
        . fcgi_record(4, '') . fcgi_record(5, $body) . fcgi_record(5, '');
    my $sent = syswrite($sock, $req);
    unless (defined $sent) {
        report("fcgi $path", 0, "write: $!");
        return;
    }
    my $out = '';
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 10;
    eval { while (sysread($sock, my $buf, 65536)) { $out .= $buf } };
    alarm 0;
    my $stdout = '';
    while (length $out >= 8) {
        my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $out);
        last if length $out < 8 + $len + $pad;
        $stdout .= substr($out, 8, $len) if $type == 6;
        substr($out, 0, 8 + $len + $pad) = '';
    }
    my ($status) = $stdout =~ /^Status:\s*(\d+)/mi;
    $status //= length $stdout ? 200 : 0;
    report("fcgi $path", $status >= 200 && $status < 300, "status $status: $stdout");
}

print "stage user: ", scalar(getpwuid($<)), " (uid $<, groups $()\n";

# Capabilities the worker holds to switch users must not reach us, and
# no_new_privs keeps setuid binaries from granting more.
if (open(my $st, '<', '/proc/self/status')) {
    my %f = map { /^(\w+):\s*(.*)$/ ? ($1 => $2) : () } <$st>;
    my @caps = grep { ($f{$_} // '0') !~ /^0+$/ } qw(CapInh CapPrm CapEff CapAmb);
    report('capabilities', scalar @caps, join(' ', map { "$_=$f{$_}" } qw(CapInh CapPrm CapEff CapBnd CapAmb))
        . " NoNewPrivs=" . ($f{NoNewPrivs} // '?'));
}
psql_door('postgres superuser', 'postgres');
psql_door('web role', 'spiderpig_web');
psql_door('worker role', 'spiderpig_worker');
for my $f (map { "$dir/$_" } qw(spiderpig.ini totp.key oidc.secret tls/key.pem)) {
    if (open(my $fh, '<', $f)) {
        my $n = read($fh, my $buf, 4096) // 0;
        report("file $f", 1, "read $n bytes");
    } else {
        report("file $f", 0, "$!");
    }
}
fcgi_door($_) for map { "$dir/run/$_" } qw(fcgi.sock fcgi/fcgi.sock fcgi/auth.sock);
print "DOORS DONE\n";
exit 0;
