#!/bin/sh
# Stage command for the fault tests: ignores SIGTERM (its children inherit
# that), starts a child, a child with a grandchild and a great-grandchild,
# writes its pid to $FAULT_DIR/tree-ID-STAGE once
# they run, and waits forever. Only SIGKILL to the whole group ends it.
# Unless the test armed it ($FAULT_DIR/tree-STAGE exists) it is
# fault-stage.sh ok instead.
[ -e "$FAULT_DIR/tree-$SPIDERPIG_STAGE" ] || exec "${0%/*}/fault-stage.sh" ok
trap '' TERM
sleep 600 &
sh -c 'sleep 600 & sh -c "sleep 600 & wait" & wait' &
sleep 0.2
echo "tree of $$ up"
echo $$ > "$FAULT_DIR/tree-$SPIDERPIG_DEPLOYMENT_ID-$SPIDERPIG_STAGE"
while :; do
	wait
	sleep 1
done
