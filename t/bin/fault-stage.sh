#!/bin/sh
# Stage command for the fault tests: fault-stage.sh [ok|fail]
# Prints a first line, appends "ID ACTION STAGE" to $FAULT_DIR/record, then
# holds while $FAULT_DIR/hold-STAGE-ACTION exists (at most 60 s), so a test
# can strike while the command is known to run; prints a last line and
# exits 0 (ok) or 1 (fail).
echo "begin $SPIDERPIG_ACTION $SPIDERPIG_STAGE deployment $SPIDERPIG_DEPLOYMENT_ID"
echo "$SPIDERPIG_DEPLOYMENT_ID $SPIDERPIG_ACTION $SPIDERPIG_STAGE" >> "$FAULT_DIR/record"
i=0
while [ -e "$FAULT_DIR/hold-$SPIDERPIG_STAGE-$SPIDERPIG_ACTION" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "end $SPIDERPIG_ACTION $SPIDERPIG_STAGE deployment $SPIDERPIG_DEPLOYMENT_ID"
[ "${1:-ok}" = ok ]
