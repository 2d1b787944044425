#!/bin/sh
# The httpbb YAML, Prometheus and logstash fuzz harnesses over their seeds.
exec build/t/canary_seeds
