#!/bin/sh
# The example configs `make install` ships load as they are.
exec build/t/cfg_examples
