#!/bin/sh
# Stage command for the timeout test: starts two grandchildren (one ignores
# SIGTERM), writes their pids and its own to $WORKER_TEST_RECORD, and hangs.
sleep 300 &
a=$!
sh -c 'trap "" TERM; exec sleep 300' &
b=$!
echo "$$ $a $b" > "$WORKER_TEST_RECORD"
echo "started grandchildren $a $b"
wait
