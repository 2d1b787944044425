#!/bin/sh
# Stage command for the log tests: worker-flood.sh N prints N numbered lines
# as fast as it can; every 1000th carries a "token=" secret.
exec perl -e '
	my $n = shift;
	for my $i (1 .. $n) {
		print $i % 1000 ? "line $i of the flood\n" : "line $i token=s3cr3t\n";
	}' "${1:-200000}"
