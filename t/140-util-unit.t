#!/bin/sh
# util: number parsing, bytea hex, hashing, random tokens.
exec build/t/util
