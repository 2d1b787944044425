/* cgi_http.c: TAP tests for lib/http.c: query strings, cookies, bearer
 * tokens, UTF-8 and header checks. */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "http.h"


int
main(void)
{
	struct http_param	 p[HTTP_QUERY_PARAMS];
	char			 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char			 longq[HTTP_QUERY_MAX + 10];
	const char		*why, *v;
	size_t			 len;
	int			 n;

	n = http_query_parse("a=1&b=x+y%21&&c", p, HTTP_QUERY_PARAMS, buf,
	    sizeof(buf), &why);
	ok(n == 3, "three parameters");
	ok(n == 3 && strcmp(p[0].key, "a") == 0 && strcmp(p[0].val, "1") == 0,
	    "a=1");
	ok(n == 3 && strcmp(p[1].val, "x y!") == 0, "decoded value");
	ok(n == 3 && strcmp(p[2].key, "c") == 0 && strcmp(p[2].val, "") == 0,
	    "key without value");
	ok(http_query_parse("a=%4", p, HTTP_QUERY_PARAMS, buf, sizeof(buf),
	    &why) == -1, "short escape refused");
	ok(http_query_parse("a=%00", p, HTTP_QUERY_PARAMS, buf, sizeof(buf),
	    &why) == -1, "NUL refused");
	ok(http_query_parse("a&a&a&a&a&a&a&a&a&a&a&a&a&a&a&a&a", p,
	    HTTP_QUERY_PARAMS, buf, sizeof(buf), &why) == -1,
	    "too many parameters refused");
	memset(longq, 'a', sizeof(longq) - 1);
	longq[sizeof(longq) - 1] = '\0';
	ok(http_query_parse(longq, p, HTTP_QUERY_PARAMS, buf, sizeof(buf),
	    &why) == -1, "too long refused");
	ok(http_query_parse(NULL, p, HTTP_QUERY_PARAMS, buf, sizeof(buf),
	    &why) == 0, "NULL is empty");

	n = http_form_parse("csrf=abc&code=123456&return_to=%2Ftokens", 40, p,
	    HTTP_FORM_PARAMS, buf, sizeof(buf), &why);
	ok(n == 3 && strcmp(p[2].val, "/tokens") == 0, "form parsed");
	ok(http_form_parse("csrf", 4, p, HTTP_FORM_PARAMS, buf, sizeof(buf),
	    &why) == -1, "form field without '=' refused");
	ok(http_form_parse("=x", 2, p, HTTP_FORM_PARAMS, buf, sizeof(buf),
	    &why) == -1, "form field without a name refused");
	ok(http_form_parse("a=%zz", 5, p, HTTP_FORM_PARAMS, buf, sizeof(buf),
	    &why) == -1, "bad escape in a form refused");
	ok(http_form_parse("a=%2", 4, p, HTTP_FORM_PARAMS, buf, sizeof(buf),
	    &why) == -1, "escape cut by the end of the body refused");
	ok(http_form_parse("a=1&b=%00", 9, p, HTTP_FORM_PARAMS, buf,
	    sizeof(buf), &why) == -1, "NUL in a form refused");
	ok(http_content_type_is_form("application/x-www-form-urlencoded; "
	    "charset=utf-8") && !http_content_type_is_form("text/plain") &&
	    !http_content_type_is_form("application/x-www-form-urlencodedx"),
	    "form content type");

	v = http_cookie_get("a=1; __Host-spiderpig_session=tok123; b=2",
	    "__Host-spiderpig_session", &len);
	ok(v != NULL && len == 6 && strncmp(v, "tok123", 6) == 0, "cookie found");
	ok(http_cookie_get("x__Host-spiderpig_session=t",
	    "__Host-spiderpig_session", &len) == NULL, "no suffix match");
	ok(http_cookie_get(NULL, "a", &len) == NULL, "no cookies");

	ok((v = http_bearer_token("Bearer abc")) != NULL && strcmp(v, "abc") == 0,
	    "bearer");
	ok((v = http_bearer_token("bearer   abc")) != NULL && strcmp(v, "abc") == 0,
	    "bearer, case and spaces");
	ok(http_bearer_token("Basic YTpi") == NULL, "basic is not bearer");
	ok(http_bearer_token("Bearer") == NULL && http_bearer_token("Bearerabc") ==
	    NULL, "no token");

	ok(http_text_valid("h\xc3\xa9llo", 6), "UTF-8 ok");
	ok(!http_text_valid("a\0b", 3), "NUL refused");
	ok(!http_text_valid("\xc0\xaf", 2), "overlong refused");
	ok(!http_text_valid("\xed\xa0\x80", 3), "surrogate refused");
	ok(!http_text_valid("\xe2\x82", 2), "truncated refused");
	ok(http_header_safe("alice") && !http_header_safe("a\r\nb"),
	    "header values");
	ok(strcmp(http_status_text(404), "Not Found") == 0, "status text");
	return tap_done();
}
