/*
 * fuzz/logstash_json.c: libFuzzer harness for the log store's _search
 * count parser (lib/metrics.c). Oracle: a count is returned only with
 * METRICS_OK, and it is a whole, finite, non-negative number. The first
 * byte also picks a query string for metrics_logstash_request(), whose
 * output must parse back as JSON holding that query.
 *
 * Run by tools/fuzz, which links lib/ and worker/ (without main.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double	 v = -1;
	char	 why[256] = "", q[64], *req;
	size_t	 n;
	cJSON	*j;

	switch (metrics_logstash_parse((const char *)data, size, &v, why,
	    sizeof(why))) {
	case METRICS_OK:
		if (!isfinite(v) || v < 0 || v != floor(v))
			abort();
		break;
	case METRICS_EMPTY:
	case METRICS_BAD:
		if (v != 0 || why[0] == '\0')
			abort();
		break;
	}
	/* The request body quotes any query string. */
	n = size < sizeof(q) - 1 ? size : sizeof(q) - 1;
	memcpy(q, data, n);
	q[n] = '\0';
	if ((req = metrics_logstash_request(q, "2026-01-01T00:00:00Z",
	    "2026-01-01T00:01:00Z")) == NULL)
		return 0;
	if ((j = cJSON_Parse(req)) == NULL)
		abort();
	cJSON_Delete(j);
	free(req);
	return 0;
}
