/* http.c: parsing of query strings, cookies and headers; no I/O. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "util.h"

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 302: return "Found";
	case 303: return "See Other";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 502: return "Bad Gateway";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Unknown";
	}
}

/*
 * The application/x-www-form-urlencoded grammar shared by query strings and
 * form bodies: s (len bytes) into at most max parameters decoded into buf.
 * strict (forms) also refuses a key without '=' and an empty key.
 */
static int
urlencoded_parse(const char *s, size_t len, size_t limit, int strict,
    struct http_param *out, size_t max, char *buf, size_t bufsz,
    const char **why)
{
	size_t		 n = 0, o = 0;
	const char	*p, *end;
	int		 hi, lo, c, in_value;

	*why = NULL;
	if (s == NULL)
		return 0;
	if (len > limit || len + max + 1 > bufsz) {
		*why = strict ? "form too long" : "query string too long";
		return -1;
	}
	p = s;
	end = s + len;
	while (p < end) {
		if (*p == '&') {
			p++;
			continue;
		}
		if (n == max) {
			*why = strict ? "too many form fields" :
			    "too many query parameters";
			return -1;
		}
		out[n].key = buf + o;
		out[n].val = NULL;
		in_value = 0;
		for (; p < end && *p != '&'; p++) {
			c = (unsigned char)*p;
			if (c == '=' && !in_value) {
				buf[o++] = '\0';
				out[n].val = buf + o;
				in_value = 1;
				continue;
			}
			if (c == '+')
				c = ' ';
			else if (c == '%') {
				if (end - p < 3 || (hi = util_hexval(p[1])) < 0 ||
				    (lo = util_hexval(p[2])) < 0) {
					*why = "bad %-escape";
					return -1;
				}
				c = hi * 16 + lo;
				p += 2;
			}
			if (c == 0) {
				*why = "NUL byte in parameters";
				return -1;
			}
			buf[o++] = (char)c;
		}
		buf[o++] = '\0';
		if (out[n].val == NULL) {
			if (strict) {
				*why = "a form field without '='";
				return -1;
			}
			out[n].val = buf + o - 1;	/* the key's NUL: "" */
		}
		if (strict && out[n].key[0] == '\0') {
			*why = "a form field without a name";
			return -1;
		}
		n++;
	}
	return (int)n;
}

int
http_query_parse(const char *qs, struct http_param *out, size_t max,
    char *buf, size_t bufsz, const char **why)
{
	return urlencoded_parse(qs, qs != NULL ? strlen(qs) : 0,
	    HTTP_QUERY_MAX, 0, out, max, buf, bufsz, why);
}

int
http_form_parse(const char *body, size_t len, struct http_param *out,
    size_t max, char *buf, size_t bufsz, const char **why)
{
	return urlencoded_parse(body, len, HTTP_FORM_MAX, 1, out, max, buf,
	    bufsz, why);
}

/* ctype names the media type want (any case), with or without
 * parameters ("; charset=utf-8"). */
static int
content_type_is(const char *ctype, const char *want)
{
	size_t	n = strlen(want);

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	if (strncasecmp(ctype, want, n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

int
http_content_type_is_form(const char *ctype)
{
	return content_type_is(ctype, "application/x-www-form-urlencoded");
}

int
http_content_type_is_json(const char *ctype)
{
	return content_type_is(ctype, "application/json");
}

int
http_text_valid(const char *buf, size_t len)
{
	const unsigned char	*s = (const unsigned char *)buf;
	size_t			 i = 0, need, k;
	unsigned int		 cp, min;

	while (i < len) {
		if (s[i] == 0)
			return 0;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3; cp = s[i] & 0x07; min = 0x10000;
		} else
			return 0;
		if (len - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and beyond U+10FFFF. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

const char *
http_cookie_get(const char *cookies, const char *name, size_t *len)
{
	size_t		 nlen = strlen(name);
	const char	*p = cookies, *end;

	if (cookies == NULL)
		return NULL;
	while (*p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*len = (size_t)(end - p) - nlen - 1;
			return p + nlen + 1;
		}
		p = end;
	}
	return NULL;
}

const char *
http_bearer_token(const char *authz)
{
	if (authz == NULL || strncasecmp(authz, "Bearer", 6) != 0 ||
	    (authz[6] != ' ' && authz[6] != '\t'))
		return NULL;
	authz += 6;
	while (*authz == ' ' || *authz == '\t')
		authz++;
	return *authz == '\0' ? NULL : authz;
}

int
http_header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}
