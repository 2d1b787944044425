#!/bin/sh
exec build/t/cgi_http
