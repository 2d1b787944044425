#!/bin/sh
# Stage command for the fault tests: fault-flood.sh N
# Prints N numbered lines of 100 bytes as fast as it can, then creates
# $FAULT_DIR/flood-done-ID (ID the deployment): a test sees from it whether
# the writes had all gone through.
perl -e '
	$| = 0;
	my $pad = "x" x 82;
	printf "flood %08d %s\n", $_, $pad for 1 .. $ARGV[0];
	close STDOUT or exit 1;' "${1:-100000}" || exit 1
: > "$FAULT_DIR/flood-done-$SPIDERPIG_DEPLOYMENT_ID"
