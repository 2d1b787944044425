/* util.c: number parsing, hashing, randomness, base64url, constant-time
 * comparison, URL checks, clocks and logging. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

static const char *log_prog = "spiderpig";

int
util_strtonum(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char		*end;
	long long	 v;

	*errstr = "invalid";
	if (s == NULL || *s == '\0')
		return -1;
	if (*s == '+' || (*s == '-' && min >= 0) || *s == ' ')
		return -1;
	if (*s == '0' && s[1] != '\0')
		return -1;		/* no leading zeros: one spelling per number */
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE) {
		*errstr = v == LLONG_MAX ? "too large" : "too small";
		return -1;
	}
	if (v < min) {
		*errstr = "too small";
		return -1;
	}
	if (v > max) {
		*errstr = "too large";
		return -1;
	}
	*errstr = NULL;
	*out = v;
	return 0;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
util_bytea_encode(const void *buf, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*b = buf;
	size_t			 i;

	out[0] = '\\';
	out[1] = 'x';
	for (i = 0; i < len; i++) {
		out[2 + 2 * i] = hex[b[i] >> 4];
		out[3 + 2 * i] = hex[b[i] & 0xf];
	}
	out[2 + 2 * len] = '\0';
}

int
util_bytea_decode(const char *s, unsigned char *out, size_t outsz,
    size_t *len)
{
	size_t	n, i;
	int	hi, lo;

	if (s[0] != '\\' || s[1] != 'x')
		return -1;
	s += 2;
	n = strlen(s);
	if (n % 2 != 0 || n / 2 > outsz)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if ((hi = util_hexval(s[2 * i])) < 0 ||
		    (lo = util_hexval(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi * 16 + lo);
	}
	*len = n / 2;
	return 0;
}

void
util_sha256_bytea(const void *buf, size_t len, char out[68])
{
	unsigned char	 md[32];
	unsigned int	 mdlen = sizeof(md);

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	util_bytea_encode(md, sizeof(md), out);
}

int
util_random_token(size_t n, char *out, size_t outsz)
{
	unsigned char	 raw[128];
	int		 rc;

	if (n > sizeof(raw))
		return -1;
	if (RAND_bytes(raw, (int)n) != 1)
		return -1;
	rc = util_b64url_encode(raw, n, out, outsz);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
util_b64url_encode(const void *in, size_t len, char *out, size_t outsz)
{
	const unsigned char	*b = in;
	size_t			 i, o = 0;
	unsigned int		 acc = 0;
	int			 bits = 0;

	if (outsz < (len * 4 + 2) / 3 + 1)
		return -1;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | b[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url_alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = b64url_alphabet[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
	return 0;
}

/* The value of one base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
util_b64url_ok(const char *s, size_t len)
{
	size_t	i;

	if (len % 4 == 1)
		return 0;
	for (i = 0; i < len; i++)
		if (b64url_value((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

unsigned char *
util_b64url_decode(const char *in, size_t len, size_t *outlen)
{
	unsigned char	*out;
	unsigned int	 acc = 0;
	int		 bits = 0, v;
	size_t		 i, o = 0;

	if (len % 4 == 1)
		return NULL;
	if ((out = malloc(len * 3 / 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if ((v = b64url_value((unsigned char)in[i])) < 0)
			goto fail;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (acc >> bits) & 0xff;
		}
	}
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		goto fail;		/* one spelling per byte string */
	out[o] = '\0';
	*outlen = o;
	return out;
fail:
	free(out);
	return NULL;
}

int
util_secret_equal(const char *a, const char *b)
{
	size_t	la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

int
util_url_ok(const char *url, int flags)
{
	const char	*p, *auth;
	size_t		 alen, hlen;
	int		 http = 0;

	if (url == NULL)
		return 0;
	if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "http://", 7) == 0 &&
	    (flags & UTIL_URL_LOOPBACK_HTTP)) {
		auth = url + 7;
		http = 1;
	} else
		return 0;
	for (p = url; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '#' || *p == '\\')
			return 0;
	alen = strcspn(auth, "/?");
	if (alen == 0 || memchr(auth, '@', alen) != NULL)
		return 0;
	if (!http)
		return 1;
	if (auth[0] == '[')
		hlen = strcspn(auth, "]") + 1;
	else
		hlen = strcspn(auth, ":/?");
	if (hlen > alen)
		return 0;
	if (auth[hlen] != '\0' && auth[hlen] != ':' && auth[hlen] != '/' &&
	    auth[hlen] != '?')
		return 0;
	return (hlen == 9 && strncmp(auth, "127.0.0.1", 9) == 0) ||
	    (hlen == 9 && strncmp(auth, "localhost", 9) == 0) ||
	    (hlen == 5 && strncmp(auth, "[::1]", 5) == 0);
}

void
util_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
log_init(const char *progname)
{
	log_prog = progname;
}

/*
 * Write msg with every control character (below 0x20, and DEL) as \xHH
 * and a backslash doubled: what a client put in a path or a claim cannot
 * start a forged line or drive a terminal. Other bytes (UTF-8) pass.
 */
static void
log_escaped(const char *msg)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else if (*p == '\\')
			fputs("\\\\", stderr);
		else
			fputc(*p, stderr);
	}
}

static void
log_v(const char *level, const char *fmt, va_list ap)
{
	char		 stamp[32], *msg = NULL;
	struct timespec	 ts;
	struct tm	 tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s[%d] %s: ", stamp, ts.tv_nsec / 1000000,
	    log_prog, (int)getpid(), level);
	log_escaped(msg != NULL ? msg : "(out of memory formatting a log line)");
	fputc('\n', stderr);
	funlockfile(stderr);
	free(msg);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v("warn", fmt, ap);
	va_end(ap);
}

int
util_listen_tcp(const char *spec, char addr[16], int *port)
{
	const char	*colon, *errstr;
	struct in_addr	 in;
	long long	 n;
	size_t		 len;

	if (spec == NULL || spec[0] == '\0')
		return -1;
	if (spec[0] == '/')
		return 0;
	if ((colon = strrchr(spec, ':')) == NULL ||
	    (len = (size_t)(colon - spec)) == 0 || len > 15)
		return -1;
	memcpy(addr, spec, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1 ||
	    util_strtonum(colon + 1, 1, 65535, &n, &errstr) != 0)
		return -1;
	*port = (int)n;
	return 1;
}
