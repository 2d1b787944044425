#!/bin/sh
# hooks: the webhook signature, backoff and body (hooks/sign.c).
exec build/t/hooks_sign
