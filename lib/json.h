/* json.h: cJSON helpers shared by the daemons. */
#ifndef SPIDERPIG_JSON_H
#define SPIDERPIG_JSON_H

#include <stddef.h>

#include <cJSON.h>
#include <libpq-fe.h>

/*
 * Parse the json/jsonb column col of row in res into a new cJSON value
 * (cJSON null for SQL NULL). Returns NULL only when the text is not JSON or
 * memory ran out. The caller owns the result.
 */
cJSON	*json_from_pg(const PGresult *res, int row, int col);

/*
 * Parse buf[0..len) as one JSON value with nothing but whitespace after it.
 * Returns NULL on a syntax error, with the byte offset of the error in *at.
 */
cJSON	*json_parse_exact(const char *buf, size_t len, size_t *at);

/* An integral JSON number in [min, max] into *out: 0, or -1. */
int	 json_integer(const cJSON *, long long min, long long max,
	    long long *out);

#endif
