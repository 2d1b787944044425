package SP::Stream;
# What the stream daemon's tests (t/7NN-stream-*.t) share: the WebSocket
# URL and the site's Origin of a stack started with stream => 1, log lines
# written the way the worker writes them (rows and NOTIFY spiderpig_log in
# one transaction), and the node clients of t/stream/ (npm ws), run to
# completion (run) or in the background with a pipe to read READY from
# (spawn).
use strict;
use warnings;

use Carp qw(croak);
use IPC::Open2 qw(open2);
use JSON::PP;
use Time::HiRes qw(time);

my $JSON = JSON::PP->new->utf8->canonical;

sub new {
    my ($class, $stack) = @_;
    my $self = bless { s => $stack }, $class;
    my $dir = $stack->repo . '/t/stream';
    die "node is not installed\n" unless `command -v node 2>/dev/null`;
    unless (-f "$dir/node_modules/ws/package.json") {
        system('npm', 'ci', '--prefix', $dir, '--no-audit', '--no-fund', '--silent') == 0
            or die "npm ci --prefix t/stream failed\n";
    }
    $self->{dir} = $dir;
    return $self;
}

sub url { 'wss://127.0.0.1:' . $_[0]{s}->port('https') . '/api/v1/stream' }

# The daemon's config (tools/stack renders it from demo/stream.ini.in).
sub ini_path { $_[0]{s}->dir . '/stream.ini' }

# [stream] origin of stream.ini: the one Origin the daemon accepts.
sub origin {
    my ($self) = @_;
    open(my $fh, '<', $self->ini_path) or die "stream.ini: $!";
    while (<$fh>) { return $1 if /^origin\s*=\s*(\S+)/ }
    die "no [stream] origin in the ini\n";
}

# Options for a client: url, origin and token, plus what the script takes.
sub opts {
    my ($self, %o) = @_;
    return { url => $self->url, origin => $self->origin, %o };
}

# Run script with options; returns its decoded JSON result.
sub run {
    my ($self, $script, $opts) = @_;
    my $arg = $JSON->encode($opts);
    open(my $fh, '-|', 'node', "$self->{dir}/$script", $arg) or die "node: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my ($last) = grep { /^\{/ } split /\n/, $out;
    croak "$script printed no result:\n$out" unless defined $last;
    return $JSON->decode($last);
}

# Start script in the background; returns a handle to wait_line/result on.
sub spawn {
    my ($self, $script, $opts) = @_;
    my $pid = open2(my $out, my $in, 'node', "$self->{dir}/$script", $JSON->encode($opts));
    return { pid => $pid, out => $out, in => $in };
}

# Read lines from a spawned client until one equals $want (dies after $timeout s).
sub wait_line {
    my ($self, $h, $want, $timeout) = @_;
    my $end = time + ($timeout // 30);
    local $SIG{ALRM} = sub { die "timed out waiting for $want from the client\n" };
    alarm($timeout // 30);
    while (defined(my $l = readline($h->{out}))) {
        chomp $l;
        if ($l eq $want) { alarm 0; return 1 }
    }
    alarm 0;
    die "the client ended before printing $want\n";
}

# Tell a spawned client something on its stdin (a line).
sub say_to { my ($self, $h, $line) = @_; print { $h->{in} } "$line\n"; $h->{in}->flush }

# The spawned client's JSON result (its last line), after it exits.
sub result {
    my ($self, $h, $timeout) = @_;
    local $SIG{ALRM} = sub { kill 'KILL', $h->{pid}; die "the client did not finish\n" };
    alarm($timeout // 60);
    my @l = readline($h->{out});
    waitpid($h->{pid}, 0);
    alarm 0;
    my ($last) = grep { /^\{/ } reverse @l;
    croak "the client printed no result:\n@l" unless defined $last;
    return $JSON->decode($last);
}

# Append lines seq from..to to deployment id like the worker does: rows
# and NOTIFY spiderpig_log {deployment, seq} in one transaction. text is a
# code ref seq -> line (default "line SEQ"); sensitive a code ref seq -> bool.
sub add_lines {
    my ($self, $id, $from, $to, %o) = @_;
    my $text = $o{text} // sub { "line $_[0]" };
    my $sens = $o{sensitive} // sub { 0 };
    my $dbh = $self->{s}->dbh;
    $dbh->begin_work;
    my $sth = $dbh->prepare('insert into spiderpig.log_lines '
        . '(deployment_id, seq, stream, sensitive, line) values ($1, $2, $3, $4, $5)');
    $sth->execute($id, $_, 'stdout', $sens->($_) ? 1 : 0, $text->($_)) for $from .. $to;
    $dbh->do('select pg_notify($1, $2)', undef, 'spiderpig_log',
        $JSON->encode({ deployment => $id + 0, seq => $to + 0 }));
    $dbh->commit;
}

# A queued deployment of user's (no worker runs it): its id.
sub deployment {
    my ($self, $user) = @_;
    return $self->{s}->sql(q{select (spiderpig.enqueue($1, ARRAY['12345'])).id as id}, $user)->[0]{id} + 0;
}

1;
