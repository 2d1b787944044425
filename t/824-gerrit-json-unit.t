#!/bin/sh
# Gerrit answers parsed (worker/gerrit_json.c) and the newest git patchset.
exec build/t/gerrit_json
