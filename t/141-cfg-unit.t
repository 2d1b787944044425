#!/bin/sh
# spiderpig.ini parsing: defaults, argv arrays, clear errors.
exec build/t/cfg
