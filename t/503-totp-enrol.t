#!/bin/sh
exec build/t/totp_enrol
