#!/bin/sh
# Stage command for the masking test: prints each way a secret used to get
# past the mask, between ordinary lines. The secrets are fixed strings the
# test looks for in log_lines; LINES_MAX (64 KiB) is the worker's line cut.
exec perl -e '
	$| = 1;
	my $max = 65536;
	print "ordinary line before\n";
	# 1. a NUL before the keyword
	print "x\0password=NulSecret1\n";
	# 2. the 64 KiB cut inside the keyword, then inside the value
	print "a" x ($max - 4), "password=SplitSecret2a\n";
	print "b" x ($max - 12), "password=SplitSecret2b\n";
	# 3. the keyword at the end of a line, the value on the next
	print "password:\n";
	print "NextLineSecret3\n";
	print "Enter token: \n";
	print "\n";
	print "NextLineSecret3b\n";
	# 4. the literal value of a secret from the stage environment, with no
	#    keyword near it: on stdout, on stderr, and cut by the 64 KiB split
	print "connecting with $ENV{DEPLOY_TOKEN} to the cluster\n";
	print STDERR "stderr says $ENV{DEPLOY_TOKEN}\n";
	print "c" x ($max - 6), $ENV{DEPLOY_TOKEN}, " end\n";
	print "ordinary line after\n";
'
