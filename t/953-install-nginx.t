#!/usr/bin/perl
# The installed nginx snippets make a configuration nginx accepts: the
# server-block example, which includes the http and locations snippets cut
# from nginx.conf.in, passes nginx -t.
use strict; use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use SP::Stack;

plan skip_all => 'nginx is not installed'
    unless -x '/usr/sbin/nginx';

my $repo = SP::Stack->repo;
my $pre = tempdir('spiderpig-nginx-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $out = qx{make -C '$repo' --no-print-directory install PREFIX='$pre' SYSCONFDIR='$pre/etc' NGINX_LOGS='$pre/log' PUBLIC_HOST=deploy.test 2>&1};
is($?, 0, 'make install exits 0') or diag($out);
mkdir "$pre/log";

# A certificate where the example expects one, and the example with its
# certificate paths and ports pointed into the prefix.
system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=deploy.test',
    '-days', '1', '-keyout', "$pre/key.pem", '-out', "$pre/cert.pem") == 0
    or die 'openssl';
open(my $in, '<', "$pre/share/spiderpig/nginx/spiderpig-server.conf.example") or die $!;
my $server = do { local $/; <$in> };
$server =~ s{/etc/ssl/certs/deploy\.test\.pem}{$pre/cert.pem};
$server =~ s{/etc/ssl/private/deploy\.test\.key}{$pre/key.pem};
$server =~ s{\tlisten \[::\]:\d+.*\n}{}g;
$server =~ s{listen (80|443)}{listen 127.0.0.1:1$1}g;
open(my $o, '>', "$pre/server.conf") or die $!;
print $o $server;
close($o);
open($o, '>', "$pre/nginx.conf") or die $!;
print $o <<"EOC";
pid $pre/nginx.pid;
error_log $pre/log/error.log;
events {}
http {
	include $pre/share/spiderpig/nginx/mime.types;
	client_body_temp_path $pre/tmp;
	include $pre/server.conf;
}
EOC
close($o);
my $t = qx{/usr/sbin/nginx -t -p '$pre' -c '$pre/nginx.conf' 2>&1};
is($?, 0, 'nginx -t accepts the example with the installed snippets') or diag($t);
like($t, qr/syntax is ok/, '  syntax is ok');
done_testing;
