#!/bin/sh
# Stage command for the worker tests: worker-stage.sh [ok|fail] [SECONDS]
# Prints what it was asked to do, appends "ID ACTION STAGE" to
# $WORKER_TEST_RECORD (when set), sleeps SECONDS, then exits 0 or 1.
echo "stage $SPIDERPIG_STAGE action $SPIDERPIG_ACTION deployment $SPIDERPIG_DEPLOYMENT_ID patches $SPIDERPIG_PATCHES requester $SPIDERPIG_REQUESTER"
echo "to stderr: $SPIDERPIG_STAGE" >&2
if [ -n "$WORKER_TEST_RECORD" ]; then
	echo "$SPIDERPIG_DEPLOYMENT_ID $SPIDERPIG_ACTION $SPIDERPIG_STAGE" >> "$WORKER_TEST_RECORD"
fi
if [ -n "$2" ]; then
	sleep "$2"
fi
echo "done $SPIDERPIG_STAGE"
[ "${1:-ok}" = ok ]
