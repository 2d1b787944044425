package SP::Scap;
# The t/80N-scap tests' shared steps: a stack whose worker runs
# t/bin/fake-scap SCENARIO in scap mode, a deployer with an API token, and
# the real flow (enqueue, prompts answered through the API, the log).
use strict;
use warnings;
use Exporter 'import';
use Test::More ();
use SP::Stack;

our @EXPORT_OK = qw(scap_stack);

# scap_stack(SCENARIO, %more_stack_options) -> object with the helpers below.
sub scap_stack {
    my ($scenario, %opt) = @_;
    my $worker = { poll_interval => 1, heartbeat_interval => 1, lease => 4,
        mode => 'scap', %{ delete $opt{worker} // {} } };
    my $dir_log = "/tmp/fake-scap-$$-" . int(rand(1e9)) . '.log';
    push @{ $worker->{env} }, "FAKE_SCAP_LOG=$dir_log";
    my $s = SP::Stack->new(
        workers => 1,
        worker => $worker,
        scap => { command => [SP::Stack->repo . '/t/bin/fake-scap', $scenario],
            grace => 2, %{ delete $opt{scap} // {} } },
        %opt,
    );
    my $self = bless { s => $s, log => $dir_log }, __PACKAGE__;
    $self->{token} = $s->user('alice', 'deployer');
    return $self;
}

sub stack { $_[0]{s} }

# Enqueue patches through the API and answer "ready: yes"; returns the id.
sub start {
    my ($self, @patches) = @_;
    my $s = $self->{s};
    my $r = $s->api(POST => '/api/v1/deployments', token => $self->{token},
        json => { patches => [@patches ? @patches : '12345'] });
    die "enqueue: $r->{status} $r->{body}" unless $r->{status} == 201;
    my $id = $r->{json}{id};
    my $p = $self->prompt($id, 'ready');
    $self->answer($id, $p, 'yes');
    return $id;
}

# Wait for the open prompt of kind (default scap); returns the row.
sub prompt {
    my ($self, $id, $kind, $timeout) = @_;
    $kind //= 'scap';
    my $s = $self->{s};
    return $s->wait_for(sub {
        $s->sql(q{select * from spiderpig.prompts where deployment_id = $1
            and answered_at is null and kind = $2}, $id, $kind)->[0];
    }, $timeout // 30, "an open $kind prompt");
}

# Answer through the API; dies unless 200.
sub answer {
    my ($self, $id, $prompt, $answer) = @_;
    my $r = $self->{s}->api(POST => "/api/v1/deployments/$id/answer",
        token => $self->{token},
        json => { prompt => $prompt->{id} + 0, answer => $answer });
    die "answer $answer: $r->{status} $r->{body}" unless $r->{status} == 200;
    return $r;
}

sub deployment {
    my ($self, $id) = @_;
    return $self->{s}->sql('select * from spiderpig.deployments where id = $1', $id)->[0];
}

# The deployment's log lines, in order (hashrefs).
sub log_lines {
    my ($self, $id) = @_;
    return $self->{s}->sql(q{select seq, stream, sensitive, line
        from spiderpig.log_lines where deployment_id = $1 order by seq}, $id);
}

# Wait until a log line matches re; returns it.
sub wait_log {
    my ($self, $id, $re, $timeout) = @_;
    return $self->{s}->wait_for(sub {
        (grep { $_->{line} =~ $re } @{ $self->log_lines($id) })[0];
    }, $timeout // 30, "a log line like $re");
}

# The states the deployment went through, from its events.
sub states {
    my ($self, $id) = @_;
    my @st;
    for my $e (@{ $self->{s}->sql(q{select action, details from spiderpig.events
        where deployment_id = $1 order by id}, $id) }) {
        next unless $e->{action} eq 'state';
        my $d = JSON::PP->new->decode($e->{details});
        push @st, $d->{state};
    }
    return \@st;
}

# What fake-scap noted, as lines.
sub fake_log {
    my ($self) = @_;
    open(my $fh, '<', $self->{log}) or return [];
    chomp(my @l = <$fh>);
    return \@l;
}

sub DESTROY { unlink $_[0]{log} if $_[0]{log} }

1;
