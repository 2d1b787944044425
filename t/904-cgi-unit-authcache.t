#!/bin/sh
exec build/t/authcache
