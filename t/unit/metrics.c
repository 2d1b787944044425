/* metrics.c: the Prometheus query answer and logstash count parsers, and
 * the _search request body. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "metrics.h"
#include "tap.h"

static enum metrics_result
prom(const char *body, double *v, char *why)
{
	return metrics_prom_parse(body, strlen(body), v, why, 256);
}

static enum metrics_result
ls(const char *body, double *v, char *why)
{
	return metrics_logstash_parse(body, strlen(body), v, why, 256);
}

int
main(void)
{
	char	 why[256], *req;
	double	 v;
	cJSON	*j;
	const cJSON *q;

	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[{\"metric\":{\"host\":\"a\"},\"value\":[1.5,\"40\"]},"
	    "{\"metric\":{},\"value\":[1.5,\"2.5\"]}]}}", &v, why) == METRICS_OK &&
	    v == 42.5, "a vector: the sum of its values");
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	    "\"result\":[1.5,\"7\"]}}", &v, why) == METRICS_OK && v == 7, "a scalar");
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[]}}", &v, why) == METRICS_EMPTY &&
	    strstr(why, "matched no series") != NULL, "an empty vector is no data");
	ok(prom("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	    "\"parse error at char 4\"}", &v, why) == METRICS_BAD &&
	    strstr(why, "parse error at char 4") != NULL, "an error answer, with its message: %s", why);
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[{\"value\":[1,\"NaN\"]}]}}", &v, why) == METRICS_BAD, "NaN is no count");
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[{\"value\":[1,\"+Inf\"]}]}}", &v, why) == METRICS_BAD, "+Inf is no count");
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[{\"value\":[1,\"-3\"]}]}}", &v, why) == METRICS_BAD, "a negative count");
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	    "\"result\":[{\"value\":[1,3]}]}}", &v, why) == METRICS_BAD, "a value that is not a string");
	ok(prom("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	    "\"result\":[]}}", &v, why) == METRICS_BAD, "a range query's matrix");
	ok(prom("<html>502</html>", &v, why) == METRICS_BAD &&
	    strcmp(why, "answer is not a JSON object") == 0 && v == 0, "HTML");
	ok(prom("", &v, why) == METRICS_BAD, "an empty body");

	ok(ls("{\"took\":2,\"hits\":{\"total\":{\"value\":17,\"relation\":\"eq\"},"
	    "\"hits\":[]}}", &v, why) == METRICS_OK && v == 17, "hits.total.value");
	ok(ls("{\"hits\":{\"total\":{\"value\":10000,\"relation\":\"gte\"}}}", &v,
	    why) == METRICS_OK && v == 10000, "a lower bound is still the count");
	ok(ls("{\"hits\":{\"total\":12}}", &v, why) == METRICS_BAD, "the old number form is not the documented shape");
	ok(ls("{\"hits\":{\"total\":{\"value\":1.5}}}", &v, why) == METRICS_BAD, "a fraction");
	ok(ls("{\"hits\":{\"total\":{\"value\":-1}}}", &v, why) == METRICS_BAD, "a negative count");
	ok(ls("{\"hits\":{\"total\":{\"value\":3,\"relation\":\"lt\"}}}", &v, why) ==
	    METRICS_BAD, "an unknown relation");
	ok(ls("{\"error\":{\"type\":\"index_not_found_exception\"},\"status\":404}",
	    &v, why) == METRICS_BAD && v == 0, "an error body");

	req = metrics_logstash_request("host:\"canary\\\"1\" AND level:ERROR",
	    "2026-11-29T08:00:00.000Z", "2026-11-29T08:01:00.000Z");
	j = req != NULL ? cJSON_Parse(req) : NULL;
	q = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
	    "query"), "bool"), "filter"), 0), "query_string"), "query");
	ok(cJSON_IsString(q) && strcmp(q->valuestring,
	    "host:\"canary\\\"1\" AND level:ERROR") == 0,
	    "the request body quotes the query string as JSON: %s", req ? req : "NULL");
	ok(strstr(req, "\"size\":0") != NULL && strstr(req, "\"track_total_hits\":true") &&
	    strstr(req, "\"gte\":\"2026-11-29T08:00:00.000Z\""), "size 0, exact totals, the time range");
	cJSON_Delete(j);
	free(req);
	return tap_done();
}
