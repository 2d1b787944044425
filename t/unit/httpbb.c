/* httpbb.c: the httpbb YAML parser (defaults, every key, the refusals with
 * their line numbers) and the check of answers against assertions. */
#include <string.h>

#include "httpbb.h"
#include "tap.h"

static struct httpbb_file *
parse(const char *y, char *why, size_t whysz)
{
	return httpbb_parse(y, strlen(y), why, whysz);
}

/* 1 when y is refused with a reason containing want. */
static int
refused(const char *y, const char *want)
{
	char			 why[256];
	struct httpbb_file	*f = parse(y, why, sizeof(why));

	if (f != NULL) {
		httpbb_free(f);
		return 0;
	}
	if (strstr(why, want) == NULL) {
		printf("# reason: %s\n", why);
		return 0;
	}
	return 1;
}

int
main(void)
{
	char		 why[256];
	struct httpbb_file *f;
	const struct httpbb_case *c;
	static const struct httpbb_kv hdr[] = {
		{ .name = "content-type", .value = "text/html; charset=UTF-8" },
		{ .name = "Location", .value = "https://en.wikipedia.org/wiki/X" },
	};
	struct httpbb_answer a = {
		.status = 200, .headers = hdr, .nheaders = 2,
		.body = "<h1>release 7</h1>", .bodylen = 18,
	};

	f = parse("https://en.wikipedia.org:\n"
	    "- path: /wiki/Main_Page\n"
	    "- path: /w/api.php\n"
	    "  method: POST\n"
	    "  request_headers:\n"
	    "    X-Forwarded-Proto: https\n"
	    "    Cookie: a=b\n"
	    "  assert_status: 302\n"
	    "  assert_body_contains: x\n"
	    "  assert_body_regex: ^y\n"
	    "  assert_headers:\n"
	    "    Content-Type: text/html\n"
	    "  assert_headers_regex:\n"
	    "    Location: ^https://\n"
	    "  assert_headers_absent: [Set-Cookie, X-Debug]\n"
	    "http://localhost:8080/:\n"
	    "- {path: /health}\n", why, sizeof(why));
	ok(f != NULL && f->ncases == 3, "a file with two hosts and three cases");
	if (f == NULL)
		return tap_done();
	c = &f->cases[0];
	ok(strcmp(c->host, "en.wikipedia.org") == 0 &&
	    strcmp(c->method, "GET") == 0 && c->assert_status == 200 &&
	    c->line == 2, "defaults: GET, status 200; host and line kept");
	c = &f->cases[1];
	ok(strcmp(c->method, "POST") == 0 && c->nrequest_headers == 2 &&
	    strcmp(c->request_headers[1].name, "Cookie") == 0 &&
	    c->assert_status == 302 && c->nassert_headers == 1 &&
	    c->nassert_headers_regex == 1 && c->nassert_headers_absent == 2 &&
	    strcmp(c->assert_headers_absent[1], "X-Debug") == 0,
	    "every key of a test case");
	c = &f->cases[2];
	ok(strcmp(c->host, "localhost:8080") == 0 &&
	    strcmp(c->base, "http://localhost:8080/") == 0,
	    "a base URL with a port and a slash, flow style");
	httpbb_free(f);

	ok(refused("", "no YAML document"), "an empty file");
	ok(refused("- a\n- b\n", "top level must map"), "a list at the top");
	ok(refused("ftp://x:\n- path: /\n", "line 1: a top-level key must be a base URL"), "not http(s)");
	ok(refused("https://x/wiki:\n- path: /\n", "base URL"), "a base URL with a path");
	ok(refused("https://x:\n  path: /\n", "list of test cases"), "cases not in a list");
	ok(refused("https://x: []\n", "no test cases"), "no test case at all");
	ok(refused("https://x:\n- method: GET\n", "line 2: a test case needs a path"), "a case without path");
	ok(refused("https://x:\n- path: wiki\n", "must start with /"), "a relative path");
	ok(refused("https://x:\n- path: /\n  assert_staus: 200\n", "line 3: unknown or unsupported key 'assert_staus'"), "a misspelt key");
	ok(refused("https://x:\n- path: /\n  json_body: {a: 1}\n", "unsupported key 'json_body'"), "json_body is not supported");
	ok(refused("https://x:\n- path: /\n  assert_status: 99\n", "100 to 599"), "a status out of range");
	ok(refused("https://x:\n- path: /\n  assert_status: 2OO\n", "assert_status"), "a status that is not a number");
	ok(refused("https://x:\n- path: /\n  assert_body_regex: \"(a\"\n", "line 3: invalid regular expression"), "a regex that does not compile");
	ok(refused("https://x:\n- path: /\n  assert_body_regex: \"n++++++++++++++++++++++++++++++++++++++++\"\n",
	    "too many repetitions"), "stacked repetitions that would take gigabytes to compile");
	ok(refused("https://x:\n- path: /\n  assert_body_regex: \"a{1000}{1000}\"\n",
	    "too many repetitions"), "bounds that multiply");
	f = parse("https://x:\n- path: /\n  assert_body_regex: \"^[0-9]{1,3}([.][0-9]{1,3}){3} [a-f0-9]{40}+$ [+{]\"\n",
	    why, sizeof(why));
	ok(f != NULL, "an ordinary expression with bounds and brackets is fine: %s", f ? "" : why);
	httpbb_free(f);
	ok(refused("https://x:\n- path: /\n  request_headers:\n    X-A: \"a\\r\\nInjected: 1\"\n", "single-line"), "a header value with CR LF");
	ok(refused("https://x:\n- path: /\n  request_headers:\n    \"X A\": b\n", "token"), "a header name with a space");
	ok(refused("https://x:\n- path: \"/a\\0b\"\n", "single-line string"), "a NUL in a scalar");
	ok(refused("https://x:\n- path: /\n  method: \"GET /x\"\n", "method must be a token"), "a method with a space");
	ok(refused("https://x:\n- path: /\n  assert_status: [200\n", "YAML syntax"), "a syntax error");
	ok(refused("a: &a [*a]\n", "a top-level key must be a base URL"), "a recursive alias");

	f = parse("http://x:\n- path: /\n  assert_body_contains: \"release 7\"\n"
	    "  assert_body_regex: \"release [0-9]+\"\n"
	    "  assert_headers:\n    Content-Type: \"text/html; charset=UTF-8\"\n"
	    "  assert_headers_regex:\n    location: ^https://en\n"
	    "  assert_headers_absent: [Set-Cookie]\n", why, sizeof(why));
	ok(f != NULL && httpbb_check(&f->cases[0], &a, why, sizeof(why)) == 0,
	    "an answer meeting every assertion (header names without case)");
	a.status = 500;
	ok(f != NULL && httpbb_check(&f->cases[0], &a, why, sizeof(why)) == -1 &&
	    strcmp(why, "status 500, expected 200") == 0, "a status that differs: %s", why);
	a.status = 200;
	a.body = "<h1>release x</h1>";
	ok(f != NULL && httpbb_check(&f->cases[0], &a, why, sizeof(why)) == -1 &&
	    strstr(why, "body does not contain") != NULL, "a body without the text: %s", why);
	httpbb_free(f);
	f = parse("http://x:\n- path: /\n  assert_headers_absent: [Location]\n", why, sizeof(why));
	ok(f != NULL && httpbb_check(&f->cases[0], &a, why, sizeof(why)) == -1 &&
	    strcmp(why, "header Location is present, expected absent") == 0,
	    "a header that must be absent: %s", why);
	httpbb_free(f);
	return tap_done();
}
