#!/bin/sh
# lib/notify.c's watchdog helpers: the interval from WATCHDOG_USEC (and
# WATCHDOG_PID), pings due at half of it, nothing without it.
exec build/t/notify
