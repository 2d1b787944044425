#!/bin/sh
# The worker's seccomp filter: with CAP_SETUID it may switch to the stage
# user only (worker/stageuser.c).
exec build/t/stageuser_confine
