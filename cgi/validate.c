/* validate.c: input validation by table for JSON bodies and query strings.
 * Pure functions: no I/O, no globals, so unit tests and fuzzers can use them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cgi.h"
#include "http.h"
#include "json.h"
#include "util.h"
#include "vocab.h"

#define VALIDATE_MAX_FIELDS	16

void
verr_add(struct verr *ve, const char *field, const char *fmt, ...)
{
	va_list	ap;

	if (ve->status == 0)
		ve->status = 400;
	if (ve->n == VERR_MAX)
		return;
	snprintf(ve->e[ve->n].field, sizeof(ve->e[ve->n].field), "%s",
	    field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(ve->e[ve->n].detail, sizeof(ve->e[ve->n].detail), fmt, ap);
	va_end(ap);
	ve->n++;
}

/* "1".."999999999": what Gerrit calls a change number. */
static int
is_change_number(const char *s, size_t len)
{
	size_t	i;

	if (len < 1 || len > 9 || s[0] < '1' || s[0] > '9')
		return 0;
	for (i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
is_url_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' ||
	    c == '+' || c == '-' || c == ':';
}

/*
 * The path of a change URL, from p (at its first '/') to the end of s
 * (len bytes): non-empty segments of [A-Za-z0-9._+-] that are not "." or
 * "..", the last the change number (a trailing "/" allowed).
 */
static int
check_patch_path(const char *s, const char *p, size_t len, const char **why)
{
	const char	*last = NULL;
	size_t		 i, seg, end = len;

	if (s[end - 1] == '/')
		end--;
	i = (size_t)(p - s);
	while (i < end) {
		seg = ++i;			/* skip the '/' */
		while (i < end && s[i] != '/')
			i++;
		if (i == seg) {
			*why = "has an empty path segment";
			return -1;
		}
		if ((i - seg == 1 && s[seg] == '.') ||
		    (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.')) {
			*why = "has a . or .. path segment";
			return -1;
		}
		if (memchr(s + seg, ':', i - seg) != NULL) {
			*why = "has a ':' in its path";
			return -1;
		}
		last = s + seg;
	}
	if (last == NULL || !is_change_number(last, (size_t)(s + end - last))) {
		*why = "must end in /<change number> (1 to 9 digits, no "
		    "leading zero)";
		return -1;
	}
	return 0;
}

/* An https change URL: host [A-Za-z0-9.-]+, an optional port, a path. */
static int
check_patch_url(const char *s, size_t len, const char **why)
{
	static const char	 scheme[] = "https://";
	const char		*p, *host;
	size_t			 i, plen;

	for (i = 0; i < len; i++)
		if (!is_url_char((unsigned char)s[i])) {
			*why = "contains a character other than "
			    "A-Z a-z 0-9 . _ / + - :";
			return -1;
		}
	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0) {
		*why = "must be a Gerrit change number or an https:// "
		    "Gerrit change URL";
		return -1;
	}
	host = s + sizeof(scheme) - 1;
	for (p = host; *p != '\0' && *p != '/' && *p != ':'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')) {
			*why = "has a bad host name";
			return -1;
		}
	if (p == host) {
		*why = "has no host name";
		return -1;
	}
	if (*p == ':') {
		for (plen = 0, p++; *p >= '0' && *p <= '9'; p++)
			plen++;
		if (plen < 1 || plen > 5) {
			*why = "has a bad port";
			return -1;
		}
	}
	if (*p != '/') {
		*why = "must end in /<change number>";
		return -1;
	}
	return check_patch_path(s, p, len, why);
}

/*
 * A Gerrit change number, or an https change URL ending in one, exactly as
 * spiderpig.valid_patch() accepts.
 */
int
check_patch(const char *s, const char **why)
{
	size_t	len = strlen(s), i;

	if (len == 0) {
		*why = "must not be empty";
		return -1;
	}
	if (len > 300) {
		*why = "is longer than 300 characters";
		return -1;
	}
	if (s[0] < '0' || s[0] > '9')
		return check_patch_url(s, len, why);
	if (is_change_number(s, len))
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9') {
			*why = "must be a Gerrit change number (digits only) "
			    "or an https Gerrit change URL";
			return -1;
		}
	*why = "a change number has 1 to 9 digits and no leading zero";
	return -1;
}

/* The change number after a "/+/" at p when the rest is "N[/PS][/]"
 * (Gerrit's URL, PS a patchset), else -1. */
static long long
patch_change_gerrit(const char *p)
{
	long long	 v = 0;

	p += 3;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > 999999999LL)
			return -1;
	if (*p == '/' && p[1] >= '0' && p[1] <= '9')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '/')
		p++;
	return *p == '\0' ? v : -1;
}

/* The change number of a valid patch, as spiderpig.patch_change() says:
 * after Gerrit's "/+/" (".../+/12345/2" names patchset 2 of 12345), else
 * at the end. */
long long
patch_change(const char *s)
{
	size_t		 len = strlen(s);
	long long	 v = 0, mul = 1;
	const char	*plus;

	for (plus = strstr(s, "/+/"); plus != NULL; plus = strstr(plus + 1,
	    "/+/"))
		if ((v = patch_change_gerrit(plus)) != -1)
			return v;
	v = 0;
	if (len > 0 && s[len - 1] == '/')
		len--;
	while (len > 0 && s[len - 1] >= '0' && s[len - 1] <= '9') {
		v += (s[len - 1] - '0') * mul;
		mul *= 10;
		len--;
		if (mul > 1000000000LL)
			break;
	}
	return v;
}

/* A deployment state of the vocabulary (lib/vocab.def). */
int
check_state(const char *s, const char **why)
{
	if (vocab_state(s) != NULL)
		return 0;
	*why = "is not a deployment state";
	return -1;
}

/* Same rule as the users.name CHECK constraint. */
int
check_user_name(const char *s, const char **why)
{
	size_t	i, len = strlen(s);

	*why = "letters, digits and ._@- only, starting with a letter or "
	    "digit, at most 128 characters";
	if (len < 1 || len > 128)
		return -1;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '@' &&
		    c != '-')))
			return -1;
	}
	return 0;
}

int
check_role(const char *s, const char **why)
{
	if (strcmp(s, "deployer") == 0 || strcmp(s, "admin") == 0)
		return 0;
	*why = "must be deployer or admin";
	return -1;
}

static int
digits(const char *s, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* RFC 3339 date-time: 2025-01-31T12:00:00(.123)?(Z|+01:00). */
int
check_rfc3339(const char *s, const char **why)
{
	const char	*p = s;

	*why = "must be an RFC 3339 time such as 2025-01-31T18:00:00Z";
	if (!digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) ||
	    p[7] != '-' || !digits(p + 8, 2) || (p[10] != 'T' &&
	    p[10] != 't') || !digits(p + 11, 2) || p[13] != ':' ||
	    !digits(p + 14, 2) || p[16] != ':' || !digits(p + 17, 2))
		return -1;
	if ((p[5] - '0') * 10 + (p[6] - '0') > 12 ||
	    (p[8] - '0') * 10 + (p[9] - '0') > 31 ||
	    (p[11] - '0') * 10 + (p[12] - '0') > 23 ||
	    (p[14] - '0') * 10 + (p[15] - '0') > 59 ||
	    (p[17] - '0') * 10 + (p[18] - '0') > 60)
		return -1;
	p += 19;
	if (*p == '.') {
		if (!digits(++p, 1))
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return 0;
	if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' &&
	    digits(p + 4, 2) && p[6] == '\0')
		return 0;
	return -1;
}

/* Free text (reasons): no control characters but tab. */
int
check_text(const char *s, const char **why)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t') {
			*why = "must not contain control characters";
			return -1;
		}
	return 0;
}

static const struct field *
field_find(const struct field *fields, size_t n, const char *name, size_t *at)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0) {
			*at = i;
			return &fields[i];
		}
	return NULL;
}

/* Check a string against f's length bounds and check(); name for errors. */
static int
check_string(const struct field *f, const char *name, const char *s,
    long long minlen, long long maxlen, struct verr *ve)
{
	const char	*why = NULL;
	size_t		 len = strlen(s);

	if ((long long)len < minlen || (long long)len > maxlen) {
		if (minlen > 0 && len == 0)
			verr_add(ve, name, "%s must not be empty", name);
		else
			verr_add(ve, name, "%s must be %lld to %lld "
			    "characters long", name, minlen, maxlen);
		return -1;
	}
	if (f->check != NULL && f->check(s, &why) != 0) {
		verr_add(ve, name, "%s %s", name, why);
		return -1;
	}
	return 0;
}

static void
validate_strings(const struct field *f, const cJSON *arr, struct value *v,
    struct verr *ve)
{
	const cJSON	*it, *jt;
	char		 name[64];
	long long	 n = cJSON_GetArraySize(arr);
	size_t		 i, j;
	int		 ok = 1;

	if (n < f->min || n > f->max) {
		verr_add(ve, f->name, "%s must have %lld to %lld items, "
		    "got %lld", f->name, f->min, f->max, n);
		return;
	}
	i = 0;
	cJSON_ArrayForEach(it, arr) {
		snprintf(name, sizeof(name), "%s[%zu]", f->name, i);
		if (!cJSON_IsString(it)) {
			verr_add(ve, name, "%s must be a string", name);
			ok = 0;
		} else if (check_string(f, name, it->valuestring,
		    1, (long long)f->maxlen, ve) != 0)
			ok = 0;
		i++;
	}
	if (!ok || f->unique_key == NULL)
		goto out;
	i = 0;
	cJSON_ArrayForEach(it, arr) {
		j = 0;
		for (jt = arr->child; jt != it; jt = jt->next, j++)
			if (f->unique_key(jt->valuestring) ==
			    f->unique_key(it->valuestring)) {
				snprintf(name, sizeof(name), "%s[%zu]",
				    f->name, i);
				verr_add(ve, name, "%s repeats %s[%zu] "
				    "(change %lld)", name, f->name, j,
				    f->unique_key(it->valuestring));
				ok = 0;
				break;
			}
		i++;
	}
out:
	if (ok) {
		v->present = 1;
		v->items = arr;
	}
}

/* True when the JSON text escapes a NUL (\u0000), which cJSON would turn
 * into a silently shortened C string. */
static int
has_escaped_nul(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len &&
		    memcmp(s + i + 2, "0000", 4) == 0)
			return 1;
		i++;			/* skip the escaped character */
	}
	return 0;
}

/* A same-site path to return to after login: one leading '/', no "//" or
 * "/\\" (another host), printable ASCII only. */
int
check_return_to(const char *s, const char **why)
{
	const char	*p;

	if (s[0] != '/' || s[1] == '/' || s[1] == '\\') {
		*why = "must be a path starting with a single /";
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\') {
			*why = "must be printable ASCII without spaces";
			return -1;
		}
	return 0;
}

/* Parse body (len bytes; empty is {}) as a JSON object: UTF-8, no NUL,
 * no \u0000. NULL with the problem in ve otherwise. */
static cJSON *
json_body(const char *body, size_t len, struct verr *ve)
{
	cJSON	*doc;
	size_t	 at;

	if (len == 0)
		doc = cJSON_CreateObject();
	else if (!http_text_valid(body, len)) {
		verr_add(ve, NULL, "the body must be UTF-8 text without NUL bytes");
		return NULL;
	} else if ((doc = json_parse_exact(body, len, &at)) == NULL) {
		verr_add(ve, NULL, "the body is not valid JSON (error at byte %zu)", at);
		return NULL;
	}
	if (doc == NULL) {
		verr_add(ve, NULL, "out of memory");
		return NULL;
	}
	if (has_escaped_nul(body, len)) {
		verr_add(ve, NULL, "the body must not contain \\u0000");
		cJSON_Delete(doc);
		return NULL;
	}
	if (!cJSON_IsObject(doc)) {
		verr_add(ve, NULL, "the body must be a JSON object");
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* Validate one member it of a JSON body against f into v. */
static void
json_member(const struct field *f, const cJSON *it, struct value *v,
    struct verr *ve)
{
	long long	n;

	switch (f->type) {
	case FT_STRING:
		if (!cJSON_IsString(it)) {
			verr_add(ve, f->name, "%s must be a string", f->name);
			break;
		}
		if (check_string(f, f->name, it->valuestring, f->min, f->max,
		    ve) == 0) {
			v->present = 1;
			v->s = it->valuestring;
		}
		break;
	case FT_INTEGER:
		if (json_integer(it, f->min, f->max, &n) != 0) {
			verr_add(ve, f->name, "%s must be an integer from %lld "
			    "to %lld", f->name, f->min, f->max);
			break;
		}
		v->present = 1;
		v->i = n;
		break;
	case FT_STRINGS:
		if (!cJSON_IsArray(it)) {
			verr_add(ve, f->name, "%s must be an array of strings",
			    f->name);
			break;
		}
		validate_strings(f, it, v, ve);
		break;
	case FT_BOOL:
		if (!cJSON_IsBool(it)) {
			verr_add(ve, f->name, "%s must be true or false",
			    f->name);
			break;
		}
		v->present = 1;
		v->i = cJSON_IsTrue(it);
		break;
	}
}

int
validate_json(const char *body, size_t len, const struct field *fields,
    size_t nfields, struct value *vals, cJSON **root, struct verr *ve)
{
	const struct field	*f;
	const cJSON		*it;
	cJSON			*doc = NULL;
	size_t			 i;
	unsigned char		 seen[VALIDATE_MAX_FIELDS] = { 0 };

	*root = NULL;
	memset(ve, 0, sizeof(*ve));
	memset(vals, 0, nfields * sizeof(*vals));
	if (nfields > VALIDATE_MAX_FIELDS) {
		verr_add(ve, NULL, "internal: too many fields in table");
		return -1;
	}
	if ((doc = json_body(body, len, ve)) == NULL)
		return -1;
	cJSON_ArrayForEach(it, doc) {
		if ((f = field_find(fields, nfields, it->string, &i)) == NULL) {
			verr_add(ve, it->string, "unknown field \"%.100s\"",
			    it->string);
			continue;
		}
		if (seen[i]) {
			verr_add(ve, f->name, "field %s is given twice", f->name);
			continue;
		}
		seen[i] = 1;
		json_member(f, it, &vals[i], ve);
	}
	for (i = 0; i < nfields; i++)
		if (!seen[i] && fields[i].required)
			verr_add(ve, fields[i].name, "%s is required",
			    fields[i].name);
	if (ve->n > 0)
		goto fail;
	*root = doc;
	return 0;
fail:
	cJSON_Delete(doc);
	memset(vals, 0, nfields * sizeof(*vals));
	return -1;
}

#define LIST_SEPARATORS	" \t\r\n,"

/*
 * A form's FT_STRINGS value: the items of s, separated by spaces or
 * commas, validated like a JSON array of them. On success v keeps s (the
 * items are split again when used: value_pg_array).
 */
static int
validate_list(const struct field *f, const char *s, struct value *v,
    struct verr *ve)
{
	cJSON		*arr;
	char		 one[HTTP_FORM_MAX + 1];
	size_t		 len, n0 = ve->n;

	if ((arr = cJSON_CreateArray()) == NULL) {
		verr_add(ve, f->name, "out of memory");
		return -1;
	}
	for (;;) {
		s += strspn(s, LIST_SEPARATORS);
		if (*s == '\0')
			break;
		len = strcspn(s, LIST_SEPARATORS);
		if (len >= sizeof(one))
			len = sizeof(one) - 1;
		memcpy(one, s, len);
		one[len] = '\0';
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(one))) {
			verr_add(ve, f->name, "out of memory");
			break;
		}
		s += len;
	}
	if (ve->n == n0)
		validate_strings(f, arr, v, ve);
	cJSON_Delete(arr);
	v->items = NULL;
	return ve->n == n0 && v->present ? 0 : -1;
}

/* Append the text[] item it (len bytes) to o, quoted; returns the end. */
static char *
pg_array_item(char *o, const char *it, size_t len)
{
	size_t	i;

	*o++ = '"';
	for (i = 0; i < len; i++) {
		if (it[i] == '"' || it[i] == '\\')
			*o++ = '\\';
		*o++ = it[i];
	}
	*o++ = '"';
	return o;
}

char *
value_pg_array(const struct value *v)
{
	const cJSON	*it;
	const char	*s;
	size_t		 len = 3, n;
	char		*out, *o;

	if (v->items != NULL)
		cJSON_ArrayForEach(it, v->items)
			len += 2 * strlen(it->valuestring) + 3;
	else
		len += 4 * strlen(v->s) + 3;
	if ((out = malloc(len)) == NULL)
		return NULL;
	o = out;
	*o++ = '{';
	if (v->items != NULL)
		cJSON_ArrayForEach(it, v->items) {
			if (o != out + 1)
				*o++ = ',';
			o = pg_array_item(o, it->valuestring,
			    strlen(it->valuestring));
		}
	else
		for (s = v->s; *(s += strspn(s, LIST_SEPARATORS)) != '\0';
		    s += n) {
			n = strcspn(s, LIST_SEPARATORS);
			if (o != out + 1)
				*o++ = ',';
			o = pg_array_item(o, s, n);
		}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* Check one decoded parameter val against f, setting v->i for numbers and
 * booleans; 0, or -1 with the problem in ve. */
static int
param_value(const struct field *f, const char *val, struct value *v,
    int form, struct verr *ve)
{
	const char	*errstr;

	switch (f->type) {
	case FT_INTEGER:
		if (util_strtonum(val, f->min, f->max, &v->i, &errstr) != 0) {
			verr_add(ve, f->name, "%s must be an integer from %lld "
			    "to %lld", f->name, f->min, f->max);
			return -1;
		}
		return 0;
	case FT_BOOL:
		if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0)
			v->i = 1;
		else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0)
			v->i = 0;
		else {
			verr_add(ve, f->name, "%s must be 0 or 1", f->name);
			return -1;
		}
		return 0;
	case FT_STRING:
		return check_string(f, f->name, val, f->min, f->max, ve);
	case FT_STRINGS:
		if (!form) {
			verr_add(ve, f->name, "%s cannot be a query parameter",
			    f->name);
			return -1;
		}
		return validate_list(f, val, v, ve);
	}
	return -1;
}

/*
 * Validate n decoded parameters (a query, or a form when form is set)
 * against fields.
 */
static int
validate_params(const struct http_param *p, int n, const struct field *fields,
    size_t nfields, struct value *vals, int form, struct verr *ve)
{
	const struct field	*f;
	size_t			 i;
	int			 k;

	for (k = 0; k < n; k++) {
		if (!http_text_valid(p[k].key, strlen(p[k].key)) ||
		    !http_text_valid(p[k].val, strlen(p[k].val))) {
			verr_add(ve, NULL, "parameters must be UTF-8");
			continue;
		}
		if ((f = field_find(fields, nfields, p[k].key, &i)) == NULL) {
			verr_add(ve, p[k].key, "unknown parameter "
			    "\"%.100s\"", p[k].key);
			continue;
		}
		if (vals[i].s != NULL) {
			verr_add(ve, f->name, "parameter %s is given "
			    "twice", f->name);
			continue;
		}
		vals[i].s = p[k].val;
		if (param_value(f, p[k].val, &vals[i], form, ve) != 0)
			continue;
		vals[i].present = 1;
	}
	for (i = 0; i < nfields; i++)
		if (fields[i].required && vals[i].s == NULL)
			verr_add(ve, fields[i].name, "%s is required",
			    fields[i].name);
	if (ve->n > 0) {
		memset(vals, 0, nfields * sizeof(*vals));
		return -1;
	}
	return 0;
}

int
validate_query(const char *qs, const struct field *fields, size_t nfields,
    struct value *vals, char *buf, size_t bufsz, struct verr *ve)
{
	struct http_param	 p[HTTP_QUERY_PARAMS];
	const char		*why;
	int			 n;

	memset(ve, 0, sizeof(*ve));
	memset(vals, 0, nfields * sizeof(*vals));
	n = http_query_parse(qs, p, HTTP_QUERY_PARAMS, buf, bufsz, &why);
	if (n < 0) {
		verr_add(ve, NULL, "%s", why);
		return -1;
	}
	return validate_params(p, n, fields, nfields, vals, 0, ve);
}

int
validate_form(const char *body, size_t len, const struct field *fields,
    size_t nfields, struct value *vals, char *buf, size_t bufsz,
    struct verr *ve)
{
	struct http_param	 p[HTTP_FORM_PARAMS];
	const char		*why;
	int			 n, m, k;

	memset(ve, 0, sizeof(*ve));
	memset(vals, 0, nfields * sizeof(*vals));
	n = http_form_parse(body, len, p, HTTP_FORM_PARAMS, buf, bufsz, &why);
	if (n < 0) {
		verr_add(ve, NULL, "%s", why);
		return -1;
	}
	/* A form's empty input means "not given". */
	for (k = 0, m = 0; k < n; k++)
		if (p[k].val[0] != '\0')
			p[m++] = p[k];
	return validate_params(p, m, fields, nfields, vals, 1, ve);
}
