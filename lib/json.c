/* json.c: cJSON helpers: strict parsing and values from PostgreSQL. */
#include <string.h>

#include "json.h"

cJSON *
json_from_pg(const PGresult *res, int row, int col)
{
	const char	*v;

	if (PQgetisnull(res, row, col))
		return cJSON_CreateNull();
	v = PQgetvalue(res, row, col);
	return cJSON_ParseWithLength(v, (size_t)PQgetlength(res, row, col));
}

cJSON *
json_parse_exact(const char *buf, size_t len, size_t *at)
{
	const char	*end = NULL;
	cJSON		*v;

	*at = 0;
	v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (v == NULL) {
		if (end != NULL && end >= buf && end <= buf + len)
			*at = (size_t)(end - buf);
		return NULL;
	}
	while (end < buf + len && (*end == ' ' || *end == '\t' ||
	    *end == '\r' || *end == '\n'))
		end++;
	if (end != buf + len) {
		*at = (size_t)(end - buf);
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

int
json_integer(const cJSON *v, long long min, long long max, long long *out)
{
	double	d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	/* NaN fails every comparison; the range check keeps the cast defined. */
	if (!(d >= (double)min && d <= (double)max) ||
	    !(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
	    (double)(long long)d != d)
		return -1;
	*out = (long long)d;
	return 0;
}
