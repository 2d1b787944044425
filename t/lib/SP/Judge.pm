package SP::Judge;
# Run a built-in stage outside the worker (build/t/builtin_stage) for the
# canary judge's tests, against SP::MetricsDouble:
#
#   my $r = SP::Judge::run('canary', SP::Judge::prom_keys($d->url), 'window=20');
#   $r->{exit}     0 passed, 1 failed, 2 refused config
#   $r->{log}      the stage's log lines ("canary: ..."), one string
#   $r->{samples}  [ {elapsed => ..., verdict => ...}, ... ]
#   $r->{verdict}, $r->{detail}, $r->{seconds}
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempfile);
use Time::HiRes qw(time);

my $REPO = dirname(__FILE__) . '/../../..';

# The keys of a Prometheus canary stage over the double at url.
sub prom_keys {
    my ($url) = @_;
    return ('source=prometheus', "url=$url",
        'canary_errors=sum(demo_errors_total{host=~"canary[0-9]+"})',
        'canary_requests=sum(demo_requests_total{host=~"canary[0-9]+"})',
        'control_errors=sum(demo_errors_total{host=~"prod[0-9]+"})',
        'control_requests=sum(demo_requests_total{host=~"prod[0-9]+"})');
}

# The keys of a logstash canary stage over the double at url.
sub logstash_keys {
    my ($url) = @_;
    return ('source=logstash', "url=$url/logstash-*/_search",
        'canary_query=host:canary* AND level:(ERROR OR EXCEPTION)',
        'control_query=host:prod* AND level:(ERROR OR EXCEPTION)',
        'canary_hosts=2', 'control_hosts=4');
}

sub run {
    my ($kind, @keys) = @_;
    my ($efh, $err) = tempfile('judge-XXXXXX', TMPDIR => 1, UNLINK => 1);
    my $t0 = time;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', $efh) or die "stderr: $!";
        exec("$REPO/build/t/builtin_stage", '-T', 120, $kind, @keys) or die "exec: $!";
    }
    my @stdout = <$out>;
    close $out;
    my %r = (exit => $? >> 8, seconds => time - $t0, samples => []);
    for (@stdout) {
        chomp;
        if (/^sample: (.*)/) {
            push @{ $r{samples} }, { map { split /=/, $_, 2 } split / /, $1 };
        } elsif (/^(verdict|detail|refused): (.*)/) {
            $r{$1} = $2;
        }
    }
    open(my $fh, '<', $err) or die "$err: $!";
    $r{log} = join '', map { /info: deployment 1: (.*)/ ? "$1\n" : () } <$fh>;
    return \%r;
}

1;
