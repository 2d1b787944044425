package SP::Gerrit;
# The Gerrit double (t/gerrit/server.pl) for one test: started on a free
# loopback port, scripted through changes.json, stopped when the object
# goes away.
#
#   my $g = SP::Gerrit->new({ 12345 => { scenario => 'mergeable' } });
#   SP::Stack->new(sections => $g->sections, ...);   # [gerrit] + kind
#   $g->script({...});  $g->requests;  $g->url;  $g->host;
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(sleep);

my $REPO = abs_path(dirname(__FILE__) . '/../../..');

sub new {
    my ($class, $changes) = @_;
    my $dir = tempdir('spiderpig-gerrit-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, ReuseAddr => 1)
        or die "bind: $!";
    my $port = $s->sockport;
    close $s;
    my $self = bless { dir => $dir, port => $port, owner => $$ }, $class;
    $self->script($changes // {});
    open(my $fh, '>', "$dir/password") or die "$dir/password: $!";
    print $fh "s3cret-http-password\n";
    close $fh;
    # As an operator would: the worker's user alone may read it.
    my @worker = getpwnam('spiderpig-worker');
    if ($> == 0 && @worker) {
        chown $worker[2], $worker[3], "$dir/password";
        chmod 0600, "$dir/password";
    } else {
        chmod 0644, "$dir/password";
    }
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$dir/server.log");
        open(STDERR, '>&', \*STDOUT);
        exec($^X, "$REPO/t/gerrit/server.pl", $port, $dir, 'spiderpig-bot', 's3cret-http-password')
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    for (1 .. 100) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
        if ($c) { close $c; return $self }
        sleep 0.05;
    }
    die "the Gerrit double did not start";
}

sub url  { "http://127.0.0.1:$_[0]{port}" }
sub host { "127.0.0.1:$_[0]{port}" }
sub password_file { "$_[0]{dir}/password" }

# The ini sections a stack needs to merge through this double.
sub sections {
    my ($self, %extra) = @_;
    return {
        gerrit => { url => $self->url, user => 'spiderpig-bot', password_file => $self->password_file,
                    poll_interval => 1, allow_http_loopback => 'true' },
        'stage merge' => { kind => 'gerrit-merge' },
        %extra,
    };
}

sub script {
    my ($self, $changes) = @_;
    my $tmp = "$self->{dir}/changes.json.tmp";
    open(my $fh, '>', $tmp) or die "$tmp: $!";
    print $fh JSON::PP->new->canonical->encode($changes);
    close $fh;
    rename $tmp, "$self->{dir}/changes.json" or die "rename: $!";
}

# The requests so far: ["METHOD PATH auth=yes BODY", ...]
sub requests {
    my ($self) = @_;
    open(my $fh, '<', "$self->{dir}/requests.log") or return [];
    chomp(my @l = <$fh>);
    return \@l;
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{pid} && $$ == $self->{owner};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
}

1;
