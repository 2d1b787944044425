#!/bin/sh
# Stage command for the fault tests: fault-longline.sh BYTES
# Prints one line of BYTES bytes (a repeating pattern, so every cut is
# checkable), then a short line, and exits 0.
perl -e '
	my $n = $ARGV[0];
	my $unit = join("", map { chr(65 + $_ % 26) } 0 .. 999);
	my $line = substr($unit x (int($n / 1000) + 1), 0, $n);
	print $line, "\n";
	print "after the long line\n";' "${1:-10000000}"
