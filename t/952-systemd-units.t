#!/usr/bin/perl
# The systemd units `make install` writes pass systemd-analyze verify, are
# Type=notify with Restart=on-failure and a WatchdogSec=, run as the users of
# doc/architecture.md (the webhook sender's template unit, one instance per
# receiver, too), and carry the hardening: the app, the stream
# daemon and the webhook sender no capability at all, the worker exactly CAP_SETUID, CAP_SETGID
# and CAP_KILL.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use SP::Stack;

plan skip_all => 'systemd-analyze is not installed'
    unless system('command -v systemd-analyze >/dev/null') == 0;

my $repo = SP::Stack->repo;
# A real prefix, not DESTDIR: verify checks that ExecStart= is executable.
my $pre = tempdir('spiderpig-units-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $out = qx{make -C '$repo' --no-print-directory install PREFIX='$pre' SYSCONFDIR='$pre/etc' 2>&1};
is($?, 0, 'make install PREFIX exits 0') or diag($out);

my %user = ('spiderpig-fcgi' => 'spiderpig-web',
    'spiderpig-worker' => 'spiderpig-worker',
    'spiderpig-stream' => 'spiderpig-stream',
    'spiderpig-hooks' => 'spiderpig-hooks',
    'spiderpig-hooks@' => 'spiderpig-hooks');
for my $name (sort keys %user) {
    my $unit = "$pre/lib/systemd/system/$name.service";
    my $v = qx{systemd-analyze verify --man=no '$unit' 2>&1};
    is($?, 0, "$name.service: systemd-analyze verify exits 0");
    is($v, '', '  and says nothing');
    open(my $fh, '<', $unit) or die "$unit: $!";
    my %k;
    while (<$fh>) {
        next if /^\s*(#|$|\[)/;
        chomp;
        my ($key, $val) = split /=/, $_, 2;
        push @{ $k{$key} }, $val;
    }
    my $one = sub { join ' ', @{ $k{$_[0]} // [] } };
    is($one->('Type'), 'notify', '  Type=notify');
    is($one->('Restart'), 'on-failure', '  Restart=on-failure');
    like($one->('WatchdogSec'), qr/^\d+min$/, '  WatchdogSec= (the daemon pings; t/992)');
    is($one->('User'), $user{$name}, "  runs as $user{$name}");
    (my $bin = $name) =~ s/\@$//;
    like($one->('ExecStart'), qr{^\Q$pre\E/sbin/$bin -c \Q$pre\E/etc/spiderpig/}, '  ExecStart from the prefix');
    like($one->('ExecStart'), qr{/spiderpig/hooks-%i\.ini$}, '  one config per receiver: hooks-%i.ini')
        if $name eq 'spiderpig-hooks@';
    is($one->($_), 'yes', "  $_=yes") for qw(NoNewPrivileges ProtectHome PrivateTmp);
    is($one->('ProtectSystem'), 'strict', '  ProtectSystem=strict');
    is($one->('CapabilityBoundingSet'),
        $name eq 'spiderpig-worker' ? 'CAP_SETUID CAP_SETGID CAP_KILL' : '',
        '  CapabilityBoundingSet ' . ($name eq 'spiderpig-worker' ? 'exactly the three' : 'empty'));
    is($one->('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6', '  RestrictAddressFamilies');
    like($one->('SystemCallFilter'), qr/^\@system-service\b/, '  SystemCallFilter=@system-service');
    my $sec = qx{systemd-analyze security --offline=yes '$unit' 2>&1};
    if ($sec =~ /Overall exposure level for \S+: ([\d.]+) (\w+)/) {
        note("$name.service exposure $1 $2");
        cmp_ok($1, '<=', 3, "  exposure $1 ($2)");
    } else {
        pass('  systemd-analyze security --offline is not available here');
    }
}
done_testing;
