#!/bin/sh
# httpbb YAML files: parsing, refusals with line numbers, assertions.
exec build/t/httpbb
