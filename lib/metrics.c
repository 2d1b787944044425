/* metrics.c: parse Prometheus query answers and logstash _search counts
 * (metrics.h); build the _search request body. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics.h"

/* A sample value: Prometheus sends it as a string ("12", "NaN", "+Inf"). */
static int
prom_sample(const cJSON *pair, double *v)
{
	const cJSON	*val;
	char		*end;

	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
		return -1;
	val = cJSON_GetArrayItem(pair, 1);
	if (!cJSON_IsString(val) || val->valuestring[0] == '\0')
		return -1;
	*v = strtod(val->valuestring, &end);
	if (*end != '\0' || !isfinite(*v) || *v < 0)
		return -1;
	return 0;
}

enum metrics_result
metrics_prom_parse(const char *body, size_t len, double *out, char *why,
    size_t whysz)
{
	cJSON		*root = NULL;
	const cJSON	*st, *data, *type, *res, *el;
	enum metrics_result rc = METRICS_BAD;
	double		 v, sum = 0;

	*out = 0;
	if (len > METRICS_BODY_MAX) {
		snprintf(why, whysz, "answer of %zu bytes is too large", len);
		goto out;
	}
	if ((root = cJSON_ParseWithLength(body, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		snprintf(why, whysz, "answer is not a JSON object");
		goto out;
	}
	st = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsString(st) || strcmp(st->valuestring, "success") != 0) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");

		snprintf(why, whysz, "status is not \"success\"%s%.200s",
		    cJSON_IsString(e) ? ": " : "",
		    cJSON_IsString(e) ? e->valuestring : "");
		goto out;
	}
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
	res = cJSON_GetObjectItemCaseSensitive(data, "result");
	if (!cJSON_IsString(type) || res == NULL) {
		snprintf(why, whysz, "no data.resultType or data.result");
		goto out;
	}
	if (strcmp(type->valuestring, "scalar") == 0) {
		if (prom_sample(res, &sum) == -1) {
			snprintf(why, whysz, "scalar is not [time, \"value\"]");
			goto out;
		}
	} else if (strcmp(type->valuestring, "vector") == 0 &&
	    cJSON_IsArray(res)) {
		if (cJSON_GetArraySize(res) == 0) {
			snprintf(why, whysz, "the query matched no series");
			rc = METRICS_EMPTY;
			goto out;
		}
		cJSON_ArrayForEach(el, res) {
			if (prom_sample(cJSON_GetObjectItemCaseSensitive(el,
			    "value"), &v) == -1) {
				snprintf(why, whysz, "a vector element has no "
				    "finite, non-negative value");
				goto out;
			}
			sum += v;
		}
	} else {
		snprintf(why, whysz, "resultType is not vector or scalar");
		goto out;
	}
	*out = sum;
	rc = METRICS_OK;
out:
	cJSON_Delete(root);
	return rc;
}

enum metrics_result
metrics_logstash_parse(const char *body, size_t len, double *out, char *why,
    size_t whysz)
{
	cJSON		*root = NULL;
	const cJSON	*hits, *total, *value, *rel;
	enum metrics_result rc = METRICS_BAD;

	*out = 0;
	if (len > METRICS_BODY_MAX) {
		snprintf(why, whysz, "answer of %zu bytes is too large", len);
		goto out;
	}
	if ((root = cJSON_ParseWithLength(body, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		snprintf(why, whysz, "answer is not a JSON object");
		goto out;
	}
	hits = cJSON_GetObjectItemCaseSensitive(root, "hits");
	total = cJSON_GetObjectItemCaseSensitive(hits, "total");
	value = cJSON_GetObjectItemCaseSensitive(total, "value");
	rel = cJSON_GetObjectItemCaseSensitive(total, "relation");
	if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble) ||
	    value->valuedouble < 0 ||
	    value->valuedouble != floor(value->valuedouble)) {
		snprintf(why, whysz, "no whole, non-negative hits.total.value");
		goto out;
	}
	if (rel != NULL && (!cJSON_IsString(rel) ||
	    (strcmp(rel->valuestring, "eq") != 0 &&
	    strcmp(rel->valuestring, "gte") != 0))) {
		snprintf(why, whysz, "hits.total.relation is not eq or gte");
		goto out;
	}
	*out = value->valuedouble;
	rc = METRICS_OK;
out:
	cJSON_Delete(root);
	return rc;
}

char *
metrics_logstash_request(const char *query, const char *since,
    const char *until)
{
	cJSON	*root, *must, *qs, *range, *ts, *b;
	char	*out = NULL;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddNumberToObject(root, "size", 0);
	cJSON_AddTrueToObject(root, "track_total_hits");
	b = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "query"),
	    "bool");
	if ((must = cJSON_AddArrayToObject(b, "filter")) == NULL)
		goto out;
	qs = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(qs, "query_string"),
	    "query", query);
	cJSON_AddItemToArray(must, qs);
	range = cJSON_CreateObject();
	ts = cJSON_AddObjectToObject(cJSON_AddObjectToObject(range, "range"),
	    "@timestamp");
	cJSON_AddStringToObject(ts, "gte", since);
	cJSON_AddStringToObject(ts, "lte", until);
	cJSON_AddItemToArray(must, range);
	out = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return out;
}
