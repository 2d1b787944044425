/*
 * cgi_request.c: libFuzzer harness for every parser of outside input in the
 * FastCGI app: JSON and form bodies validated by the real action table,
 * query strings, HTML form bodies, patches and route paths (the actions'
 * routes included). The first input byte picks the target, the rest is
 * the input.
 *
 * libFuzzer: `tools/fuzz cgi_request` (builds with -DSPIDERPIG_LIBFUZZER).
 * Standalone, to replay files (crashes, seeds) under valgrind or gdb, after
 * `make build` (it links the app's own tables from its library):
 *   cc -std=c11 -D_GNU_SOURCE -g -Ilib -Icgi -Ibuild \
 *     $(pkg-config --cflags libcjson libpq) fuzz/cgi_request.c \
 *     build/libspiderpig-cgi.a build/libspiderpig.a \
 *     $(pkg-config --libs fcgi libpq libcjson openssl inih liboath \
 *     libqrencode cjose libcurl) -pthread -lm -o build/cgi_request-replay
 *   build/cgi_request-replay FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "http.h"

/* The query strings the read handlers take (deployments.c, log.c). */
static const struct field fz_query[] = {
	{ .name = "state", .type = FT_STRING, .min = 1, .max = 32,
	  .check = check_state },
	{ .name = "limit", .type = FT_INTEGER, .min = 1, .max = 5000 },
	{ .name = "after", .type = FT_INTEGER, .min = 0,
	  .max = 9007199254740991LL },
	{ .name = "sensitive", .type = FT_BOOL, .min = 0, .max = 1 },
	{ .name = "name", .type = FT_STRING, .min = 1, .max = 128,
	  .check = check_user_name },
};

/* A page form's table (totp_pages.c, login.c). */
static const struct field fz_form[] = {
	{ .name = "csrf", .type = FT_STRING, .required = 1, .min = 1,
	  .max = 128 },
	{ .name = "return_to", .type = FT_STRING, .min = 1, .max = 400,
	  .check = check_return_to },
	{ .name = "days", .type = FT_INTEGER, .min = 1, .max = 366 },
	{ .name = "name", .type = FT_STRING, .min = 1, .max = 128,
	  .check = check_user_name },
};

/*
 * An action's fields (the real table, picked by sel) on a JSON body or a
 * form body; a FT_STRINGS value that passes must make a text[] literal.
 */
static void
fuzz_action(unsigned sel, const char *s, size_t len, int form)
{
	static char		 fbuf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	const struct action	*a = &actions[sel % nactions];
	struct value		 v[ACTION_FIELDS];
	struct verr		 ve;
	cJSON			*root = NULL;
	char			*arr;
	size_t			 i;
	int			 rc;

	if (form)
		rc = strlen(s) == len ? validate_form(s, len, a->fields,
		    a->nfields, v, fbuf, sizeof(fbuf), &ve) : -1;
	else
		rc = validate_json(s, len, a->fields, a->nfields, v, &root,
		    &ve);
	for (i = 0; rc == 0 && i < a->nfields; i++) {
		if (!v[i].present || a->fields[i].type != FT_STRINGS)
			continue;
		if ((arr = value_pg_array(&v[i])) == NULL ||
		    arr[0] != '{' || arr[strlen(arr) - 1] != '}')
			abort();	/* a valid list is a text[] literal */
		free(arr);
	}
	cJSON_Delete(root);
}

static void
fuzz_body(const struct field *f, size_t n, const char *s, size_t len)
{
	struct value	 v[ACTION_FIELDS];
	struct verr	 ve;
	cJSON		*root = NULL;
	const cJSON	*it;
	size_t		 i;

	if (validate_json(s, len, f, n, v, &root, &ve) == 0) {
		/* Touch what the handlers read. */
		for (i = 0; i < n; i++)
			if (v[i].present && f[i].type == FT_STRINGS)
				cJSON_ArrayForEach(it, v[i].items)
					(void)strlen(it->valuestring);
			else if (v[i].present && f[i].type == FT_STRING)
				(void)strlen(v[i].s);
	} else if (ve.n == 0 || ve.status == 0)
		abort();		/* a refusal must say why */
	cJSON_Delete(root);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct value		 v[5];
	struct verr		 ve;
	struct req		 r;
	const struct route	*rt;
	char			 qbuf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	static char		 fbuf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	char			*s;
	const char		*why;
	size_t			 len;

	if (size < 1 || size > HTTP_BODY_MAX + 1)
		return 0;
	len = size - 1;
	/* NUL-terminated copy, as req_read_body() makes. */
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, len);
	s[len] = '\0';

	switch (data[0] % 8) {
	case 0:
		fuzz_body(action_find("enqueue")->fields, 1, s, len);
		break;
	case 1:
		fuzz_action(data[0] / 8, s, len, 0);
		break;
	case 2:
		fuzz_action(data[0] / 8, s, len, 1);
		break;
	case 3:
		if (strlen(s) == len)
			validate_query(s, fz_query, 5, v, qbuf, sizeof(qbuf), &ve);
		break;
	case 4:
		if (strlen(s) == len && check_patch(s, &why) == 0 &&
		    (patch_change(s) < 1 || patch_change(s) > 999999999))
			abort();	/* a valid patch names a change */
		break;
	case 6:
		memset(&r, 0, sizeof(r));
		r.method = len > 0 && s[0] == 'P' ? "POST" : "GET";
		snprintf(r.pathbuf, sizeof(r.pathbuf), "%s", s);
		r.path = r.pathbuf;
		if (route_match(&r, &rt) == ROUTE_FOUND && rt == NULL)
			abort();
		break;
	default:
		/* Form bodies may hold anything but NUL, like request bodies. */
		if (strlen(s) == len && validate_form(s, len, fz_form, 4, v,
		    fbuf, sizeof(fbuf), &ve) == 0 && v[1].present &&
		    (v[1].s[0] != '/' || v[1].s[1] == '/'))
			abort();	/* a return_to must be a same-site path */
		if (strlen(s) == len) {
			(void)http_content_type_is_form(s);
			(void)check_rfc3339(s, &why);
			(void)check_user_name(s, &why);
			(void)check_text(s, &why);
			(void)http_content_type_is_json(s);
			(void)http_bearer_token(s);
			(void)http_cookie_get(s, "__Host-spiderpig_session", &len);
		}
		break;
	}
	free(s);
	return 0;
}

#define FUZZ_REPLAY_MAX	(HTTP_BODY_MAX + 2)
#include "replay.h"
