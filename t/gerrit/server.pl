#!/usr/bin/perl
# t/gerrit/server.pl: a Gerrit double for the tests, answering the few REST
# endpoints spiderpig uses the way Gerrit documents them (JSON after the
# ")]}'" line, ChangeInfo with CURRENT_REVISION/ALL_REVISIONS/
# DETAILED_LABELS/DETAILED_ACCOUNTS, MergeableInfo, ReviewResult).
#
#   server.pl PORT DIR USER PASSWORD
#
# Listens on 127.0.0.1:PORT. DIR/changes.json scripts it, read at every
# request: { "12345": { "scenario": "...", "project": ..., "branch": ...,
# "subject": ..., "patchsets": 1 }, ... }. Scenarios (what happens once the
# change is approved with Code-Review +2 on /a/ with USER:PASSWORD):
#   mergeable     merged at the first read after the approval
#   unmergeable   never merges; .../mergeable answers false
#   cr_minus2     a reviewer votes Code-Review -2
#   ci_fail       CI votes Verified -1 (it was +1)
#   new_patchset  patchset n+1 is uploaded
#   slow          merged at the third read after the approval
# and from the start:
#   http500       every read answers 500
#   malformed     every read answers 200 with cut-off JSON
#   noprefix      every read answers 200 JSON without the ")]}'" line
# Every request is appended to DIR/requests.log as
# "METHOD PATH auth=yes|no BODY".
use strict;
use warnings;
use Digest::SHA qw(sha1_hex);
use IO::Socket::INET;
use JSON::PP;

my ($port, $dir, $user, $pass) = @ARGV;
die "usage: $0 PORT DIR USER PASSWORD\n" unless defined $pass;
my $json = JSON::PP->new->canonical;
my %state;    # change => { approved, reads_after, patchsets }

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
    Listen => 16, ReuseAddr => 1) or die "listen: $!";
$SIG{TERM} = sub { exit 0 };

while (my $c = $srv->accept) {
    eval { serve($c) };
    warn "gerrit double: $@" if $@;
    close $c;
}

sub script {
    open(my $fh, '<', "$dir/changes.json") or return {};
    local $/;
    my $t = <$fh>;
    return $json->decode($t);
}

sub reply {
    my ($c, $status, $body, $type) = @_;
    $type //= 'application/json; charset=utf-8';
    print $c "HTTP/1.1 $status X\r\nContent-Type: $type\r\n"
        . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
}

sub gerrit_json { ")]}'\n" . $json->encode($_[0]) }

sub rev { sha1_hex("$_[0]-$_[1]") }

sub change_info {
    my ($n, $sc, $st) = @_;
    my $ps = $st->{patchsets};
    my $after = $st->{approved} ? $st->{reads_after} : 0;
    my $merged = $st->{approved} && (($sc->{scenario} eq 'mergeable' && $after >= 1)
        || ($sc->{scenario} eq 'slow' && $after >= 3));
    my @cr = $st->{approved} ? ({ value => 2, _account_id => 1000, name => 'Spider Pig', username => $user }) : ();
    push @cr, { value => -2, _account_id => 1001, name => 'Rita Reviewer' }
        if $st->{approved} && $sc->{scenario} eq 'cr_minus2';
    push @cr, { _account_id => 1002, name => 'Quiet Reviewer' };    # no vote
    my $verified = $st->{approved} && $sc->{scenario} eq 'ci_fail' ? -1 : 1;
    return {
        id => "$sc->{project}~$sc->{branch}~I" . sha1_hex("id-$n"),
        project => $sc->{project} // 'demo/app', branch => $sc->{branch} // 'main',
        subject => $sc->{subject} // "Change $n", _number => 0 + $n,
        status => $merged ? 'MERGED' : 'NEW',
        owner => { _account_id => 1003, name => $sc->{owner} // 'Alice Author',
                   email => 'alice@example.org', username => 'alice' },
        current_revision => rev($n, $ps),
        revisions => { map { (rev($n, $_) => { _number => $_, kind => 'REWORK',
            ref => sprintf('refs/changes/%02d/%d/%d', $n % 100, $n, $_) }) } 1 .. $ps },
        labels => {
            'Code-Review' => { all => \@cr, values => { '-2' => 'no', '+2' => 'ok' } },
            'Verified' => { all => [ { value => $verified, _account_id => 1004, name => 'CI' } ] },
        },
    };
}

sub serve {
    my ($c) = @_;
    my $line = <$c> // return;
    my ($method, $path) = $line =~ m{^(\S+) (\S+) HTTP/} or return;
    my (%h, $body);
    while (my $l = <$c>) {
        last if $l =~ /^\r?\n$/;
        $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\r?\n$/;
    }
    read($c, $body, $h{'content-length'}) if $h{'content-length'};
    $body //= '';
    my $auth = ($h{authorization} // '') eq 'Basic ' . MIME64("$user:$pass");
    if (open(my $log, '>>', "$dir/requests.log")) {
        print $log "$method $path auth=" . ($auth ? 'yes' : 'no') . " $body\n";
        close $log;
    }
    my $authpath = $path =~ s{^/a/}{/};
    return reply($c, 401, "Unauthorized", 'text/plain') if $authpath && !$auth;
    $path =~ s/\?.*//;
    my $script = script();
    my ($n) = $path =~ m{^/changes/(\d+)};
    return reply($c, 404, "Not found", 'text/plain') unless $n && $script->{$n};
    my $sc = $script->{$n};
    $sc->{scenario} //= 'mergeable';
    my $st = $state{$n} //= { patchsets => $sc->{patchsets} // 1, approved => 0, reads_after => 0 };

    if ($method eq 'GET' && $path =~ m{^/changes/\d+$}) {
        return reply($c, 500, "Internal server error", 'text/plain') if $sc->{scenario} eq 'http500';
        return reply($c, 200, ")]}'\n{\"_number\": $n, \"project\": \"demo/app\", \"subj")
            if $sc->{scenario} eq 'malformed';
        return reply($c, 200, $json->encode(change_info($n, $sc, $st))) if $sc->{scenario} eq 'noprefix';
        $st->{reads_after}++ if $st->{approved};
        return reply($c, 200, gerrit_json(change_info($n, $sc, $st)));
    }
    if ($method eq 'GET' && $path =~ m{^/changes/\d+/revisions/([0-9a-f]{40})/mergeable$}) {
        return reply($c, 200, gerrit_json({ submit_type => 'MERGE_IF_NECESSARY', strategy => 'recursive',
            mergeable => $sc->{scenario} eq 'unmergeable' ? JSON::PP::false : JSON::PP::true }));
    }
    if ($method eq 'POST' && $path =~ m{^/changes/\d+/revisions/([0-9a-f]{40})/review$}) {
        return reply($c, 401, "Unauthorized", 'text/plain') unless $authpath;
        my $in = eval { $json->decode($body) } // {};
        return reply($c, 400, "bad request", 'text/plain')
            unless ($in->{labels}{'Code-Review'} // 0) == 2;
        $st->{approved} = 1;
        $st->{reads_after} = 0;
        # A new patchset (a rework) does not keep the old one's votes.
        if ($sc->{scenario} eq 'new_patchset') {
            $st->{patchsets}++;
            $st->{approved} = 0;
        }
        return reply($c, 200, gerrit_json({ labels => { 'Code-Review' => 2 } }));
    }
    return reply($c, 404, "Not found", 'text/plain');
}

sub MIME64 {
    require MIME::Base64;
    return MIME::Base64::encode_base64($_[0], '');
}
