/* util.c: number parsing, hashing, randomness, clocks and logging. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char	 raw[128];
	size_t		 i, o = 0;
	unsigned int	 acc = 0;
	int		 bits = 0;

	if (n > sizeof(raw) || outsz < (n * 4 + 2) / 3 + 1)
		return -1;
	if (RAND_bytes(raw, (int)n) != 1)
		return -1;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = b64[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
	return 0;
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
