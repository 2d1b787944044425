#!/bin/sh
exec build/t/mask
