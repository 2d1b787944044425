/* cgi_validate.c: TAP tests for the pure validators (patches, fields by
 * table, query strings, form lists) with the real action table. */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "cgi.h"
#include "http.h"


static const struct field enqueue[] = {
	{ "patches", FT_STRINGS, 1, 1, 20, 300, check_patch, patch_change },
};
static const struct field answer[] = {
	{ "prompt", FT_INTEGER, 1, 1, 9007199254740991LL, 0, NULL, NULL },
	{ "answer", FT_STRING,  1, 1, 32, 0, check_text, NULL },
};
static const struct field query[] = {
	{ "state",  FT_STRING,  0, 1, 32, 0, check_state, NULL },
	{ "limit",  FT_INTEGER, 0, 1, 200, 0, NULL, NULL },
	{ "sensitive", FT_BOOL, 0, 0, 1, 0, NULL, NULL },
};

static void
test_patches(void)
{
	static const char *good[] = {
		"1", "12345", "999999999",
		"https://gerrit.example.org/r/c/mediawiki/core/+/12345",
		"https://host/r/12345", "https://host/12345",
		"https://host:8443/r/12345/", "https://gerrit.wikimedia.org/r/c/operations/mediawiki-config/+/1002003",
	};
	static const char *bad[] = {
		"", "0", "012345", "1234567890", "1; rm -rf /", "12 34", "-1",
		"+1", "http://host/r/12345", "https://host/r/012", "https://host/r/",
		"https://host/r/abc", "https:///12345", "https://host//12345",
		"https://host/./12345", "https://host/../12345", "https://ho st/1",
		"https://host/r/1?x=1", "https://host/r/1#f", "https://host:/1",
		"https://host:123456/1", "https://host/a:b/1", "https://host/r/12345//",
		"https://user@host/1", "ftp://host/1", "https://host/r/1234567890",
		"$(reboot)", "`id`", "1\n2",
	};
	const char	*why;
	char		 name[400];
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		snprintf(name, sizeof(name), "patch ok: %s", good[i]);
		ok(check_patch(good[i], &why) == 0, "%s", name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		snprintf(name, sizeof(name), "patch refused: \"%s\"", bad[i]);
		name[strcspn(name, "\n")] = '\0';
		ok(check_patch(bad[i], &why) == -1 && why != NULL, "%s", name);
	}
	ok(patch_change("https://host/r/12345/") == 12345, "change of a URL");
	ok(patch_change("987") == 987, "change of a number");
	ok(patch_change("https://host/r/c/core/+/12345/2") == 12345,
	    "change of a URL naming a patchset");
	ok(patch_change("https://host/r/c/core/+/12345/") == 12345,
	    "change of a Gerrit URL");
	ok(patch_change("https://host/c/+/x/+/77") == 77,
	    "change after the last usable /+/");
}

/* Validate body; the values stay valid until the next call. */
static int
run_json(const struct field *f, size_t n, const char *body, struct value *v,
    struct verr *ve)
{
	static cJSON	*root;

	cJSON_Delete(root);
	root = NULL;
	return validate_json(body, strlen(body), f, n, v, &root, ve);
}

static void
test_bodies(void)
{
	struct value	v[2];
	struct verr	ve;
	cJSON		*root = NULL;
	char		 big[2048];
	int		 i, o;

	ok(run_json(enqueue, 1, "{\"patches\":[\"1\",\"2\"]}", v, &ve) == 0,
	    "two patches accepted");
	ok(validate_json("{\"patches\":[\"1\"]}", 17, enqueue, 1, v, &root,
	    &ve) == 0 && v[0].present && cJSON_GetArraySize(v[0].items) == 1,
	    "items available while root lives");
	cJSON_Delete(root);
	ok(run_json(enqueue, 1, "{\"patches\":[\"1; rm -rf /\"]}", v, &ve) == -1 &&
	    strcmp(ve.e[0].field, "patches[0]") == 0 &&
	    strstr(ve.e[0].detail, "patches[0]") != NULL, "injection names patches[0]");
	ok(run_json(enqueue, 1, "{\"patches\":[\"5\",\"https://h/r/5\"]}", v, &ve) == -1 &&
	    strcmp(ve.e[0].field, "patches[1]") == 0, "duplicate change refused");
	ok(run_json(enqueue, 1, "{\"patches\":[]}", v, &ve) == -1 &&
	    strcmp(ve.e[0].field, "patches") == 0, "empty list refused");
	o = snprintf(big, sizeof(big), "{\"patches\":[");
	for (i = 0; i < 21; i++)
		o += snprintf(big + o, sizeof(big) - (size_t)o, "%s\"%d\"",
		    i ? "," : "", 1000 + i);
	snprintf(big + o, sizeof(big) - (size_t)o, "]}");
	ok(run_json(enqueue, 1, big, v, &ve) == -1 &&
	    strstr(ve.e[0].detail, "1 to 20") != NULL, "21 patches refused");
	ok(run_json(enqueue, 1, "{\"patches\":[\"1\"],\"x\":1}", v, &ve) == -1 &&
	    strcmp(ve.e[0].field, "x") == 0, "unknown field named");
	ok(run_json(enqueue, 1, "{\"patches\":[\"1\"],\"patches\":[\"2\"]}", v,
	    &ve) == -1 && strstr(ve.e[0].detail, "twice") != NULL,
	    "repeated field refused");
	ok(run_json(enqueue, 1, "[]", v, &ve) == -1 && ve.e[0].field[0] == '\0',
	    "array body refused");
	ok(run_json(enqueue, 1, "{\"patches\":[\"1\"]} {}", v, &ve) == -1,
	    "trailing data refused");
	ok(run_json(enqueue, 1, "{\"patches\":[\"\xc3\x28\"]}", v, &ve) == -1,
	    "invalid UTF-8 refused");
	ok(run_json(enqueue, 1, "", v, &ve) == -1 &&
	    strstr(ve.e[0].detail, "required") != NULL, "empty body: required");
	ok(run_json(answer, 2, "{\"prompt\":3,\"answer\":\"yes\"}", v, &ve) == 0 &&
	    v[0].i == 3 && strcmp(v[1].s, "yes") == 0, "answer accepted");
	ok(run_json(answer, 2, "{\"prompt\":1.5,\"answer\":\"yes\"}", v, &ve) == -1,
	    "fractional id refused");
	ok(run_json(answer, 2, "{\"prompt\":1e300,\"answer\":\"yes\"}", v, &ve) == -1,
	    "huge id refused");
	ok(run_json(answer, 2, "{\"prompt\":\"3\",\"answer\":\"yes\"}", v, &ve) == -1,
	    "id as string refused");
	ok(run_json(answer, 2, "{\"prompt\":0,\"answer\":\"\"}", v, &ve) == -1 &&
	    ve.n == 2, "both problems listed");
	ok(run_json(answer, 2, "{\"prompt\":1,\"answer\":\"a\\u0000b\"}", v, &ve) == -1,
	    "escaped NUL refused");
}

static void
test_query(void)
{
	struct value	v[3];
	struct verr	ve;
	char		buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];

	ok(validate_query("", query, 3, v, buf, sizeof(buf), &ve) == 0 &&
	    !v[0].present && !v[1].present, "empty query");
	ok(validate_query("state=queued&limit=5&sensitive=1", query, 3, v, buf,
	    sizeof(buf), &ve) == 0 && strcmp(v[0].s, "queued") == 0 &&
	    v[1].i == 5 && v[2].i == 1, "all three parsed");
	ok(validate_query("limit=0", query, 3, v, buf, sizeof(buf), &ve) == -1 &&
	    strcmp(ve.e[0].field, "limit") == 0, "limit 0 refused");
	ok(validate_query("limit=05", query, 3, v, buf, sizeof(buf), &ve) == -1,
	    "leading zero refused");
	ok(validate_query("state=x", query, 3, v, buf, sizeof(buf), &ve) == -1,
	    "unknown state refused");
	ok(validate_query("limit=1&limit=2", query, 3, v, buf, sizeof(buf),
	    &ve) == -1, "repeated parameter refused");
	ok(validate_query("foo=1", query, 3, v, buf, sizeof(buf), &ve) == -1 &&
	    strcmp(ve.e[0].field, "foo") == 0, "unknown parameter named");
	ok(validate_query("state=%71ueued", query, 3, v, buf, sizeof(buf),
	    &ve) == 0 && strcmp(v[0].s, "queued") == 0, "percent-decoding");
	ok(validate_query("state=%00", query, 3, v, buf, sizeof(buf), &ve) == -1,
	    "%%00 refused");
	ok(validate_query("state=%zz", query, 3, v, buf, sizeof(buf), &ve) == -1,
	    "bad escape (%%zz) refused");
}

static void
test_misc(void)
{
	const char	*why;

	ok(check_rfc3339("2025-01-31T18:00:00Z", &why) == 0, "rfc3339 Z");
	ok(check_rfc3339("2025-01-31T18:00:00.5+02:00", &why) == 0,
	    "rfc3339 offset");
	ok(check_rfc3339("2025-01-31 18:00", &why) == -1, "rfc3339 refused");
	ok(check_rfc3339("tomorrow", &why) == -1, "words refused");
	ok(check_user_name("alice.b@example-1", &why) == 0, "user name ok");
	ok(check_user_name(".alice", &why) == -1, "leading dot refused");
	ok(check_user_name("al ice", &why) == -1, "space refused");
	ok(check_role("admin", &why) == 0 && check_role("root", &why) == -1,
	    "roles");
	ok(http_content_type_is_json("application/json; charset=utf-8"),
	    "json with charset");
	ok(!http_content_type_is_json("application/jsonx") &&
	    !http_content_type_is_json("text/plain") &&
	    !http_content_type_is_json(NULL), "not json");
}

/* The enqueue action's patches: a JSON array or a form's list, one rule. */
static void
test_form_list(void)
{
	const struct action	*a = action_find("enqueue");
	static char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	struct value		 v[ACTION_FIELDS];
	struct verr		 ve;
	char			*arr;

	ok(a != NULL && a->nfields >= 1 && a->nfields <= ACTION_FIELDS &&
	    strcmp(a->fields[0].name, "patches") == 0,
	    "the enqueue action's first field is patches");
	ok(validate_form("patches=12+https%3A%2F%2Fhost%2Fr%2F34,56", 41,
	    a->fields, a->nfields, v, buf, sizeof(buf), &ve) == 0,
	    "a form list of patches");
	arr = value_pg_array(&v[0]);
	ok(arr != NULL && strcmp(arr, "{\"12\",\"https://host/r/34\",\"56\"}")
	    == 0, "as a text[] literal: %s", arr != NULL ? arr : "(null)");
	free(arr);
	ok(validate_form("patches=12+x12", 14, a->fields, a->nfields, v, buf,
	    sizeof(buf), &ve) == -1 && strcmp(ve.e[0].field, "patches[1]") == 0,
	    "a bad item is named like in JSON");
	ok(validate_form("patches=12+https%3A%2F%2Fh%2F12", 31, a->fields,
	    a->nfields, v, buf, sizeof(buf), &ve) == -1,
	    "the same change twice is refused like in JSON");
	ok(run_json(a->fields, a->nfields, "{\"patches\":[\"7\",\"8\"]}", v,
	    &ve) == 0 && (arr = value_pg_array(&v[0])) != NULL &&
	    strcmp(arr, "{\"7\",\"8\"}") == 0, "a JSON array as text[]");
	free(arr);
	ok(validate_query("patches=1", a->fields, a->nfields, v, buf,
	    sizeof(buf), &ve) == -1, "but not in a query string");
}

int
main(void)
{
	struct value	v[1];
	struct verr	ve;

	test_patches();
	test_bodies();
	test_query();
	test_misc();
	test_form_list();
	run_json(enqueue, 1, "{}", v, &ve);	/* frees the last tree */
	return tap_done();
}
