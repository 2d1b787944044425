#!/bin/sh
exec build/t/cgi_route
