#!/bin/sh
# The canary judgements: false alarms under the null at any number of looks,
# power at 3x and sparse 1->5/s, missing and falling counts, the threshold.
exec build/t/canary_stat
