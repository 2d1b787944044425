/*
 * fuzz/prom_json.c: libFuzzer harness for the Prometheus query answer
 * parser (lib/metrics.c). Oracle: a value is returned only with
 * METRICS_OK, and it is finite and not negative (the canary judge would
 * otherwise take garbage for a count); a reason is written otherwise.
 *
 * Run by tools/fuzz, which links lib/ and worker/ (without main.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "metrics.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double	 v = -1;
	char	 why[256] = "";

	switch (metrics_prom_parse((const char *)data, size, &v, why,
	    sizeof(why))) {
	case METRICS_OK:
		if (!isfinite(v) || v < 0)
			abort();
		break;
	case METRICS_EMPTY:
	case METRICS_BAD:
		if (v != 0 || why[0] == '\0')
			abort();
		break;
	}
	return 0;
}
