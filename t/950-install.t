#!/usr/bin/perl
# `make install DESTDIR=...` puts the binaries, SQL, nginx snippets, example
# configs, units, logrotate file and man pages where the operator section
# says, with no placeholder left, and every man page is clean under
# mandoc -Tlint.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use SP::Stack;

my $repo = SP::Stack->repo;
my $dest = tempdir('spiderpig-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $out = qx{make -C '$repo' --no-print-directory install DESTDIR='$dest' 2>&1};
is($?, 0, 'make install DESTDIR exits 0') or diag($out);

my $p = "$dest/usr/local";
my @sql = map { s{.*/}{}r } glob("$repo/sql/[0-9][0-9][0-9]_*.sql");
my %mode = (
    (map { ("$p/sbin/$_" => 0755) } qw(spiderpig-fcgi spiderpig-worker
        spiderpig-stream spiderpig-hooks spiderpig-admin)),
    (map { ("$p/share/spiderpig/sql/$_" => 0644) } @sql, 'vocab.sql'),
    "$p/share/spiderpig/tools/migrate" => 0755,
    (map { ("$p/share/spiderpig/nginx/$_" => 0644) } qw(spiderpig-http.conf
        spiderpig-locations.conf spiderpig-server.conf.example
        fastcgi_app.conf fastcgi_params security_headers.conf mime.types)),
    (map { ("$p/share/spiderpig/static/$_" => 0644) } qw(spiderpig.css
        spiderpig.js vendor/uPlot.iife.min.js vendor/uPlot.min.css)),
    (map { ("$p/share/spiderpig/examples/$_" => 0644) } qw(spiderpig.ini
        worker.ini stream.ini hooks.ini)),
    (map { ("$p/lib/systemd/system/$_.service" => 0644) } qw(spiderpig-fcgi
        spiderpig-worker spiderpig-stream spiderpig-hooks spiderpig-hooks@)),
    (map { ("$p/share/spiderpig/prometheus/$_" => 0644) } qw(spiderpig-alerts.yml
        spiderpig-alerts.test.yml)),
    "$p/share/man/man5/spiderpig.ini.5" => 0644,
    (map { ("$p/share/man/man8/$_.8" => 0644) } qw(spiderpig-fcgi
        spiderpig-worker spiderpig-stream spiderpig-hooks spiderpig-admin)),
    "$dest/etc/logrotate.d/spiderpig-nginx" => 0644,
);
for my $f (sort keys %mode) {
    my @st = stat($f);
    ok(@st && ($st[2] & 07777) == $mode{$f},
        sprintf('%s installed, mode %04o', substr($f, length $dest), $mode{$f}));
}
cmp_ok(scalar @sql, '>=', 15, 'every numbered migration is among them');

# Nothing is left for the operator to fill in by accident, and nothing
# points back into the source tree.
my @left = grep { !-B $_ } split /\n/, qx{grep -rl '\@[A-Z_]*\@' '$p/share/spiderpig/nginx' '$p/lib' '$dest/etc'};
is_deeply(\@left, [], 'no @PLACEHOLDER@ left in the rendered files');
my $leak = qx{grep -rl '$repo' '$p/share/spiderpig/nginx' '$p/lib' '$dest/etc' '$p/share/spiderpig/examples'};
is($leak, '', 'no installed file names the source tree');
like(slurp("$p/share/spiderpig/nginx/spiderpig-locations.conf"),
    qr{location = /_auth .*location \@html503}s,
    'the locations snippet runs from /_auth to the last error page');
like(slurp("$p/share/spiderpig/nginx/spiderpig-http.conf"),
    qr{upstream spiderpig_app \{\s*server unix:/run/spiderpig/fcgi/fcgi\.sock;}s,
    'the http snippet points the app upstream at the installed socket');

# Every key spiderpig.ini(5) documents has a comment in an example.
my $man = slurp("$repo/man/spiderpig.ini.5");
my %keys;
for my $line ($man =~ /^\.It Cm (.*)$/mg) {
    $keys{$_} = 1 for grep { /^\w+$/ } split /\s*,\s*(?:Cm\s+)?/, $line;
}
my $examples = join "\n", map { slurp("$p/share/spiderpig/examples/$_") }
    qw(spiderpig.ini worker.ini stream.ini hooks.ini);
my @undocumented = grep { $examples !~ /^;.*\b\Q$_\E\b/m } sort keys %keys;
is_deeply(\@undocumented, [], 'every key of spiderpig.ini(5) is explained in an example');

# mandoc -Tlint: nothing at all, except that it looks for Xr targets only
# in the base system's manuals; ours are checked to be installed instead.
SKIP: {
    skip 'mandoc is not installed (Debian package mandoc)', 2
        unless system('command -v mandoc >/dev/null') == 0;
    my @pages = (glob("$p/share/man/man5/*.5"), glob("$p/share/man/man8/*.8"));
    my $lint = qx{mandoc -Tlint @pages 2>&1};
    my @xr = $lint =~ /referenced manual not found: Xr (spiderpig[\w.-]*) (\d)/g;
    my @missing;
    while (my ($name, $sec) = splice(@xr, 0, 2)) {
        push @missing, "$name($sec)" unless -f "$p/share/man/man$sec/$name.$sec";
    }
    is_deeply(\@missing, [], 'every spiderpig page a page refers to is installed');
    my @rest = grep { !/referenced manual not found: Xr spiderpig/ && !/outdated mandoc\.db/ }
        split /\n/, $lint;
    is_deeply(\@rest, [], 'mandoc -Tlint reports nothing else');
}
done_testing;

sub slurp { open(my $fh, '<', $_[0]) or die "$_[0]: $!"; local $/; <$fh> }
