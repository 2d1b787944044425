package SP::Deploy;
# Drive a deployment through the API for the built-in stage tests: enqueue,
# answer its prompts, wait for a state, read its log.
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(enqueue answer wait_any log_of);

# Enqueue patches as the token's user; returns the id.
sub enqueue {
    my ($s, $tok, @patches) = @_;
    my $r = $s->api(POST => '/api/v1/deployments', token => $tok, json => { patches => [ map {"$_"} @patches ] });
    die "enqueue: $r->{status} $r->{body}\n" unless $r->{status} == 201;
    return $r->{json}{id};
}

# Answer the deployment's open prompt (waiting for one) with answer or its
# first choice; returns the prompt's kind.
sub answer {
    my ($s, $tok, $id, $answer, $timeout) = @_;
    my $p = $s->wait_for(sub {
        $s->sql('select * from spiderpig.prompts where deployment_id = $1 and answered_at is null', $id)->[0];
    }, $timeout // 20, "a prompt for deployment $id");
    my $r = $s->api(POST => "/api/v1/deployments/$id/answer", token => $tok,
        json => { prompt => 0 + $p->{id}, answer => $answer // $p->{choices}[0] });
    die "answer: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    return $p->{kind};
}

# Wait until the state matches re; returns it (dies with the last one).
sub wait_any {
    my ($s, $id, $re, $timeout) = @_;
    my $st = '';
    eval {
        $s->wait_for(sub {
            $st = $s->sql('select state from spiderpig.deployments where id = $1', $id)->[0]{state};
            $st =~ $re;
        }, $timeout // 30, "deployment $id to reach $re");
    } or die "deployment $id: still $st\n";
    return $st;
}

# The log as one string, once it matches until (the log writer commits a
# moment after a stage reports); whatever it holds after timeout otherwise.
sub log_of {
    my ($s, $id, $until, $timeout) = @_;
    my $log = '';
    eval {
        $s->wait_for(sub {
            $log = join "\n", map { $_->{line} } @{ $s->sql(
                'select line from spiderpig.log_lines where deployment_id = $1 order by seq', $id) };
            !$until || $log =~ $until;
        }, $timeout // 10, 'the log');
    };
    return $log;
}

1;
