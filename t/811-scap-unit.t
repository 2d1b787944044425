#!/bin/sh
# scap's SPIDERPIG_IO records: parsing, recognised prompts and steps.
exec build/t/scap
