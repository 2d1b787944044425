#!/bin/sh
exec build/t/worker_copy
