/*
 * cgi_request.c: libFuzzer harness for every parser of outside input in the
 * FastCGI app: JSON bodies validated by table, query strings, HTML form
 * bodies, patches, route paths, and the sensitive-line collapsing. The first input byte
 * picks the target, the rest is the input.
 *
 * libFuzzer: `tools/fuzz cgi_request` (builds with -DSPIDERPIG_LIBFUZZER).
 * Standalone, to replay files (crashes, seeds) under valgrind or gdb:
 *   cc -std=c11 -D_GNU_SOURCE -g -Ilib -I/usr/include/cjson \
 *     -I/usr/include/postgresql fuzz/cgi_request.c lib/http.c lib/json.c \
 *     lib/util.c -lcjson -lpq -lcrypto -o build/cgi_request-replay
 *   build/cgi_request-replay FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "http.h"

/* The same tables the handlers use. */
static const struct field fz_enqueue[] = {
	{ "patches", FT_STRINGS, 1, 1, 20, 300, check_patch, patch_change },
};
static const struct field fz_answer[] = {
	{ "prompt", FT_INTEGER, 1, 1, 9007199254740991LL, 0, NULL, NULL },
	{ "answer", FT_STRING,  1, 1, 32, 0, check_text, NULL },
};
static const struct field fz_freeze[] = {
	{ "reason", FT_STRING, 1, 1, 500, 0, check_text, NULL },
	{ "until",  FT_STRING, 0, 20, 40, 0, check_rfc3339, NULL },
	{ "admin",  FT_BOOL,   0, 0, 1, 0, NULL, NULL },
};
static const struct field fz_query[] = {
	{ "state",     FT_STRING,  0, 1, 32, 0, check_state, NULL },
	{ "limit",     FT_INTEGER, 0, 1, 5000, 0, NULL, NULL },
	{ "after",     FT_INTEGER, 0, 0, 9007199254740991LL, 0, NULL, NULL },
	{ "sensitive", FT_BOOL,    0, 0, 1, 0, NULL, NULL },
	{ "name",      FT_STRING,  0, 1, 128, 0, check_user_name, NULL },
};

/* A page form's table (pages.c, totp_pages.c). */
static const struct field fz_form[] = {
	{ "csrf",      FT_STRING,  1, 1, 128, 0, NULL, NULL },
	{ "return_to", FT_STRING,  0, 1, 400, 0, check_return_to, NULL },
	{ "days",      FT_INTEGER, 0, 1, 366, 0, NULL, NULL },
	{ "name",      FT_STRING,  0, 1, 128, 0, check_user_name, NULL },
};

static void
fuzz_body(const struct field *f, size_t n, const char *s, size_t len)
{
	struct value	 v[3];
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
	cJSON			*doc;
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
		fuzz_body(fz_enqueue, 1, s, len);
		break;
	case 1:
		fuzz_body(fz_answer, 2, s, len);
		break;
	case 2:
		fuzz_body(fz_freeze, 3, s, len);
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
	case 5:
		if ((doc = cJSON_ParseWithLength(s, len)) != NULL &&
		    cJSON_IsArray(doc))
			log_collapse_sensitive(doc);
		cJSON_Delete(doc);
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

#ifndef SPIDERPIG_LIBFUZZER
/* Replay each file named on the command line through the harness. */
int
main(int argc, char *argv[])
{
	static uint8_t	 buf[HTTP_BODY_MAX + 2];
	FILE		*fp;
	size_t		 n;
	int		 i;

	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, n);
		printf("%s: ok\n", argv[i]);
	}
	return 0;
}
#endif
