/* metrics.h: the answers of the canary judge's metric sources, parsed with
 * no I/O: the Prometheus HTTP query API and a logstash-style _search
 * count. */
#ifndef SPIDERPIG_METRICS_H
#define SPIDERPIG_METRICS_H

#include <stddef.h>

/* Bodies above this are refused before parsing. */
#define METRICS_BODY_MAX	(1024 * 1024)

enum metrics_result {
	METRICS_OK,		/* *out holds the value */
	METRICS_EMPTY,		/* a well-formed answer without data */
	METRICS_BAD,		/* not the documented shape: why says how */
};

/*
 * A /api/v1/query answer: {"status":"success","data":{"resultType":
 * "vector","result":[{"metric":{...},"value":[T,"V"]}...]}} (or a
 * "scalar" [T,"V"]). *out is the sum of the vector's values. An empty
 * vector is METRICS_EMPTY; "status":"error", a non-finite or negative
 * value, another shape or a body that is not JSON is METRICS_BAD.
 */
enum metrics_result metrics_prom_parse(const char *body, size_t len,
		    double *out, char *why, size_t whysz);

/*
 * A _search answer: {"hits":{"total":{"value":N,"relation":"eq"}}}. A
 * relation "gte" (a lower bound) is still the count. Anything else is
 * METRICS_BAD.
 */
enum metrics_result metrics_logstash_parse(const char *body, size_t len,
		    double *out, char *why, size_t whysz);

/*
 * The _search request body counting the documents matching query_string
 * query with @timestamp >= since (RFC 3339) and at most until: size 0,
 * track_total_hits. Returns a malloc'd string or NULL.
 */
char		*metrics_logstash_request(const char *query, const char *since,
		    const char *until);

#endif
