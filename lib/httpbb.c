/* httpbb.c: parse httpbb YAML test files (libyaml's document API) and check
 * answers against their assertions (httpbb.h). */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "httpbb.h"

/* The parse in progress: the document and where to say what went wrong. */
struct hp {
	yaml_document_t	*doc;
	char		*why;
	size_t		 whysz;
};

/* Write "line N: ..." for node n into the reason; returns -1. */
static int __attribute__((format(printf, 3, 4)))
hp_fail(struct hp *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list	 ap;
	int	 k = 0;

	if (n != NULL)
		k = snprintf(p->why, p->whysz, "line %lu: ",
		    (unsigned long)n->start_mark.line + 1);
	if (k < 0 || (size_t)k >= p->whysz)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->why + k, p->whysz - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/* The scalar text of node n (NUL-free), or NULL. */
static const char *
hp_scalar(const yaml_node_t *n)
{
	const char *s;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return NULL;
	return s;
}

/* A string that may go into a request line or header: printable, no CR,
 * LF or other control characters. */
static int
hp_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* An HTTP header name (RFC 9110 token). */
static int
hp_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

/* Copy a scalar value that must be printable into *dst. */
static int
hp_string(struct hp *p, const yaml_node_t *n, const char *key, char **dst)
{
	const char *s = hp_scalar(n);

	if (s == NULL || !hp_printable(s))
		return hp_fail(p, n, "%s must be a single-line string", key);
	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		return hp_fail(p, n, "out of memory");
	return 0;
}

/*
 * A bound on how much a POSIX regex may grow when glibc compiles it: "x+"
 * becomes "xx*" and "x{n,m}" m copies of x, so nested or stacked
 * repetitions multiply (a "+" repeated 40 times asks for 2^40 nodes). The
 * product of every repetition's factor (+ 2, {n,m} max(n, m) + 1, * and ?
 * 1; brackets and escapes skipped) over-estimates that; past
 * HTTPBB_REGEX_GROWTH, or past HTTPBB_REGEX_MAX bytes, the expression is
 * refused.
 */
static int
hp_regex_tame(const char *re)
{
	double		 growth = 1;
	const char	*p;
	long		 n, m;
	char		*end;

	if (strlen(re) > HTTPBB_REGEX_MAX)
		return 0;
	for (p = re; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '[') {
			/* "[]...]" and "[^]...]" hold a literal ']'. */
			p += p[1] == '^' ? 2 : 1;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']')
				p++;
			if (*p == '\0')
				break;
		} else if (*p == '+')
			growth *= 2;
		else if (*p == '{') {
			n = strtol(p + 1, &end, 10);
			m = *end == ',' ? strtol(end + 1, &end, 10) : n;
			growth *= (double)(n > m ? n : m) + 1;
		}
		if (growth > HTTPBB_REGEX_GROWTH)
			return 0;
	}
	return 1;
}

/* Compile and drop a regular expression, to refuse bad ones at parse. */
static int
hp_regex(struct hp *p, const yaml_node_t *n, const char *re)
{
	regex_t	 rx;
	char	 err[128];
	int	 rc;

	if (!hp_regex_tame(re))
		return hp_fail(p, n, "regular expression too long or with too "
		    "many repetitions (at most %d bytes, growth %d)",
		    HTTPBB_REGEX_MAX, HTTPBB_REGEX_GROWTH);
	if ((rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &rx, err, sizeof(err));
		return hp_fail(p, n, "invalid regular expression: %s", err);
	}
	regfree(&rx);
	return 0;
}

/* A mapping of header names to string values into *kv (*n entries). */
static int
hp_headers(struct hp *p, const yaml_node_t *n, const char *key, int regex,
    struct httpbb_kv **kv, size_t *nkv)
{
	yaml_node_pair_t *pair;
	const char	*k, *v;
	size_t		 cap;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return hp_fail(p, n, "%s must be a mapping", key);
	cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (cap > HTTPBB_LIST_MAX)
		return hp_fail(p, n, "%s has more than %d entries", key,
		    HTTPBB_LIST_MAX);
	if (*kv != NULL)
		return hp_fail(p, n, "%s given twice", key);
	if ((*kv = calloc(cap + 1, sizeof(**kv))) == NULL)
		return hp_fail(p, n, "out of memory");
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
		const yaml_node_t *vn = yaml_document_get_node(p->doc,
		    pair->value);

		if ((k = hp_scalar(kn)) == NULL || !hp_token(k))
			return hp_fail(p, kn, "%s: a header name must be a "
			    "token", key);
		if ((v = hp_scalar(vn)) == NULL || !hp_printable(v))
			return hp_fail(p, vn, "%s: the value of %s must be a "
			    "single-line string", key, k);
		if (regex && hp_regex(p, vn, v) == -1)
			return -1;
		(*kv)[*nkv].name = strdup(k);
		(*kv)[*nkv].value = strdup(v);
		(*nkv)++;
		if ((*kv)[*nkv - 1].name == NULL ||
		    (*kv)[*nkv - 1].value == NULL)
			return hp_fail(p, n, "out of memory");
	}
	return 0;
}

/* assert_headers_absent: a sequence of header names. */
static int
hp_absent(struct hp *p, const yaml_node_t *n, struct httpbb_case *c)
{
	yaml_node_item_t *it;
	const char	*s;
	size_t		 cap;

	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return hp_fail(p, n, "assert_headers_absent must be a list");
	cap = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (cap > HTTPBB_LIST_MAX || c->assert_headers_absent != NULL)
		return hp_fail(p, n, "assert_headers_absent: too long or "
		    "given twice");
	if ((c->assert_headers_absent = calloc(cap + 1, sizeof(char *))) ==
	    NULL)
		return hp_fail(p, n, "out of memory");
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		const yaml_node_t *in = yaml_document_get_node(p->doc, *it);

		if ((s = hp_scalar(in)) == NULL || !hp_token(s))
			return hp_fail(p, in, "assert_headers_absent: a header "
			    "name must be a token");
		if ((c->assert_headers_absent[c->nassert_headers_absent++] =
		    strdup(s)) == NULL)
			return hp_fail(p, in, "out of memory");
	}
	return 0;
}

/* assert_status: a whole number from 100 to 599. */
static int
hp_status(struct hp *p, const yaml_node_t *n, long *out)
{
	const char	*s = hp_scalar(n);
	char		*end;
	long		 v;

	if (s == NULL || *s == '\0')
		return hp_fail(p, n, "assert_status must be a number");
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 100 || v > 599)
		return hp_fail(p, n, "assert_status must be 100 to 599");
	*out = v;
	return 0;
}

/* One key of a test case. */
static int
hp_case_key(struct hp *p, struct httpbb_case *c, const char *k,
    const yaml_node_t *vn)
{
	if (strcmp(k, "path") == 0) {
		if (hp_string(p, vn, k, &c->path) == -1)
			return -1;
		if (c->path[0] != '/' || strchr(c->path, ' ') != NULL)
			return hp_fail(p, vn, "path must start with / and have "
			    "no spaces");
		return 0;
	}
	if (strcmp(k, "method") == 0) {
		if (hp_string(p, vn, k, &c->method) == -1)
			return -1;
		if (!hp_token(c->method) || strlen(c->method) > 16)
			return hp_fail(p, vn, "method must be a token");
		return 0;
	}
	if (strcmp(k, "request_headers") == 0)
		return hp_headers(p, vn, k, 0, &c->request_headers,
		    &c->nrequest_headers);
	if (strcmp(k, "assert_status") == 0)
		return hp_status(p, vn, &c->assert_status);
	if (strcmp(k, "assert_body_contains") == 0)
		return hp_string(p, vn, k, &c->assert_body_contains);
	if (strcmp(k, "assert_body_regex") == 0) {
		if (hp_string(p, vn, k, &c->assert_body_regex) == -1)
			return -1;
		return hp_regex(p, vn, c->assert_body_regex);
	}
	if (strcmp(k, "assert_headers") == 0)
		return hp_headers(p, vn, k, 0, &c->assert_headers,
		    &c->nassert_headers);
	if (strcmp(k, "assert_headers_regex") == 0)
		return hp_headers(p, vn, k, 1, &c->assert_headers_regex,
		    &c->nassert_headers_regex);
	if (strcmp(k, "assert_headers_absent") == 0)
		return hp_absent(p, vn, c);
	return hp_fail(p, vn, "unknown or unsupported key '%.64s'", k);
}

/* One test case (a mapping) under base. */
static int
hp_case(struct hp *p, const yaml_node_t *n, const char *base,
    const char *host, struct httpbb_case *c)
{
	yaml_node_pair_t *pair;
	const char	*k;

	memset(c, 0, sizeof(*c));
	c->line = (unsigned long)n->start_mark.line + 1;
	c->assert_status = 200;
	if ((c->base = strdup(base)) == NULL || (c->host = strdup(host)) == NULL)
		return hp_fail(p, n, "out of memory");
	if (n->type != YAML_MAPPING_NODE)
		return hp_fail(p, n, "a test case must be a mapping");
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);

		if ((k = hp_scalar(kn)) == NULL)
			return hp_fail(p, kn, "a key must be a string");
		if (hp_case_key(p, c, k, yaml_document_get_node(p->doc,
		    pair->value)) == -1)
			return -1;
	}
	if (c->path == NULL)
		return hp_fail(p, n, "a test case needs a path");
	if (c->method == NULL && (c->method = strdup("GET")) == NULL)
		return hp_fail(p, n, "out of memory");
	return 0;
}

/* The host[:port] of a base URL "http(s)://host[:port][/]" into host. */
static int
hp_base(const char *base, char *host, size_t hostsz)
{
	const char	*h;
	size_t		 len;

	if (strncmp(base, "https://", 8) == 0)
		h = base + 8;
	else if (strncmp(base, "http://", 7) == 0)
		h = base + 7;
	else
		return -1;
	len = strcspn(h, "/");
	if (len == 0 || len >= hostsz || (h[len] == '/' && h[len + 1] != '\0'))
		return -1;
	if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") < len)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	return 0;
}

/* The top level: base URL -> list of test cases. */
static int
hp_root(struct hp *p, const yaml_node_t *root, struct httpbb_file *f)
{
	yaml_node_pair_t *pair;
	yaml_node_item_t *it;
	const char	*base;
	char		 host[256];

	if (root == NULL)
		return hp_fail(p, NULL, "the file holds no YAML document");
	if (root->type != YAML_MAPPING_NODE)
		return hp_fail(p, root, "the top level must map base URLs to "
		    "test cases");
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
		const yaml_node_t *vn = yaml_document_get_node(p->doc,
		    pair->value);

		if ((base = hp_scalar(kn)) == NULL ||
		    hp_base(base, host, sizeof(host)) == -1)
			return hp_fail(p, kn, "a top-level key must be a base "
			    "URL like https://host.example");
		if (vn == NULL || vn->type != YAML_SEQUENCE_NODE)
			return hp_fail(p, vn, "%.100s must hold a list of test "
			    "cases", base);
		for (it = vn->data.sequence.items.start;
		    it < vn->data.sequence.items.top; it++) {
			if (f->ncases == HTTPBB_CASES_MAX)
				return hp_fail(p, vn, "more than %d test cases",
				    HTTPBB_CASES_MAX);
			/* Counted before it is filled: httpbb_free frees a
			 * half-parsed case too. */
			f->ncases++;
			if (hp_case(p, yaml_document_get_node(p->doc, *it),
			    base, host, &f->cases[f->ncases - 1]) == -1)
				return -1;
		}
	}
	if (f->ncases == 0)
		return hp_fail(p, root, "the file has no test cases");
	return 0;
}

struct httpbb_file *
httpbb_parse(const char *buf, size_t len, char *why, size_t whysz)
{
	yaml_parser_t		 parser;
	yaml_document_t		 doc;
	struct httpbb_file	*f = NULL;
	struct hp		 p = { &doc, why, whysz };
	int			 loaded = 0;

	snprintf(why, whysz, "no reason");
	if (len > HTTPBB_FILE_MAX) {
		snprintf(why, whysz, "the file is larger than %d bytes",
		    HTTPBB_FILE_MAX);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(why, whysz, "line %lu: YAML syntax: %s%s%s",
		    (unsigned long)parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "error",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
		goto fail;
	}
	loaded = 1;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->cases = calloc(HTTPBB_CASES_MAX, sizeof(*f->cases))) == NULL) {
		snprintf(why, whysz, "out of memory");
		goto fail;
	}
	if (hp_root(&p, yaml_document_get_root_node(&doc), f) == -1)
		goto fail;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return f;
fail:
	if (loaded)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	httpbb_free(f);
	return NULL;
}

static void
kv_free(struct httpbb_kv *kv, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

void
httpbb_free(struct httpbb_file *f)
{
	struct httpbb_case *c;
	size_t		 i, k;

	if (f == NULL)
		return;
	for (i = 0; f->cases != NULL && i < f->ncases; i++) {
		c = &f->cases[i];
		free(c->base);
		free(c->host);
		free(c->path);
		free(c->method);
		kv_free(c->request_headers, c->nrequest_headers);
		free(c->assert_body_contains);
		free(c->assert_body_regex);
		kv_free(c->assert_headers, c->nassert_headers);
		kv_free(c->assert_headers_regex, c->nassert_headers_regex);
		for (k = 0; k < c->nassert_headers_absent; k++)
			free(c->assert_headers_absent[k]);
		free(c->assert_headers_absent);
	}
	free(f->cases);
	free(f);
}

/* The first value of header name in a, or NULL. */
static const char *
answer_header(const struct httpbb_answer *a, const char *name)
{
	size_t	i;

	for (i = 0; i < a->nheaders; i++)
		if (strcasecmp(a->headers[i].name, name) == 0)
			return a->headers[i].value;
	return NULL;
}

/* 1 when re matches somewhere in s, 0 when not, -1 when it does not
 * compile. */
static int
search(const char *re, const char *s)
{
	regex_t	 rx;
	int	 rc;

	if (!hp_regex_tame(re) || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return -1;
	rc = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return rc;
}

int
httpbb_check(const struct httpbb_case *c, const struct httpbb_answer *a,
    char *why, size_t whysz)
{
	const char	*v;
	size_t		 i;

	if (a->status != c->assert_status) {
		snprintf(why, whysz, "status %ld, expected %ld", a->status,
		    c->assert_status);
		return -1;
	}
	if (c->assert_body_contains != NULL && (a->body == NULL ||
	    memmem(a->body, a->bodylen, c->assert_body_contains,
	    strlen(c->assert_body_contains)) == NULL)) {
		snprintf(why, whysz, "body does not contain \"%.200s\"",
		    c->assert_body_contains);
		return -1;
	}
	if (c->assert_body_regex != NULL && (a->body == NULL ||
	    search(c->assert_body_regex, a->body) != 1)) {
		snprintf(why, whysz, "body does not match /%.200s/",
		    c->assert_body_regex);
		return -1;
	}
	for (i = 0; i < c->nassert_headers; i++) {
		v = answer_header(a, c->assert_headers[i].name);
		if (v == NULL || strcmp(v, c->assert_headers[i].value) != 0) {
			snprintf(why, whysz, "header %.64s is %s%.200s%s, "
			    "expected \"%.200s\"", c->assert_headers[i].name,
			    v ? "\"" : "", v ? v : "absent", v ? "\"" : "",
			    c->assert_headers[i].value);
			return -1;
		}
	}
	for (i = 0; i < c->nassert_headers_regex; i++) {
		v = answer_header(a, c->assert_headers_regex[i].name);
		if (v == NULL || search(c->assert_headers_regex[i].value,
		    v) != 1) {
			snprintf(why, whysz, "header %.64s is %s%.200s%s, "
			    "expected to match /%.200s/",
			    c->assert_headers_regex[i].name, v ? "\"" : "",
			    v ? v : "absent", v ? "\"" : "",
			    c->assert_headers_regex[i].value);
			return -1;
		}
	}
	for (i = 0; i < c->nassert_headers_absent; i++)
		if (answer_header(a, c->assert_headers_absent[i]) != NULL) {
			snprintf(why, whysz, "header %.64s is present, expected "
			    "absent", c->assert_headers_absent[i]);
			return -1;
		}
	return 0;
}
