#!/bin/sh
exec build/t/oidc_cache
