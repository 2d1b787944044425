#!/bin/sh
# Stage command for the failover tests: ticks-stage.sh
# Prints "tick N" every 50 ms while $FAULT_DIR/hold-ticks exists (at most
# 60 s), then "ticks done N" and exits 0: a stage that keeps logging while
# a test moves the database under it.
i=0
while [ -e "$FAULT_DIR/hold-ticks" ] && [ $i -lt 1200 ]; do
	i=$((i + 1))
	echo "tick $i"
	sleep 0.05
done
echo "ticks done $i"
