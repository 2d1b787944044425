/* util.h: small helpers with no I/O besides randomness. */
#ifndef SPIDERPIG_UTIL_H
#define SPIDERPIG_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a decimal integer in [min, max], the whole string, no sign unless
 * min < 0. Returns 0 and sets *out, or -1 with *errstr ("invalid",
 * "too small", "too large").
 */
int	 util_strtonum(const char *s, long long min, long long max,
	    long long *out, const char **errstr);

/* Lowercase hex SHA-256 of buf, as the Postgres bytea literal "\\x..."
 * (67 bytes with NUL) for passing a hash as a text parameter. */
void	 util_sha256_bytea(const void *buf, size_t len, char out[68]);

/* The value of one hex digit, or -1. */
int	 util_hexval(int c);

/* len bytes as a bytea text parameter "\\x..." into out (2 * len + 3
 * bytes with the NUL). */
void	 util_bytea_encode(const void *buf, size_t len, char *out);

/* A bytea in text output ("\\x...") into out (at most outsz bytes);
 * returns 0 and sets *len, or -1 when malformed or too large. */
int	 util_bytea_decode(const char *s, unsigned char *out, size_t outsz,
	    size_t *len);

/* n random bytes from the OS CSPRNG, base64url without padding into out
 * (at least 4*n/3+2 bytes). Returns 0 or -1. */
int	 util_random_token(size_t n, char *out, size_t outsz);

/* ---- base64url (RFC 4648 5, no padding): the one codec in the tree ---- */

/* len bytes of in as base64url into out (outsz >= 4*len/3+2 with the NUL).
 * Returns 0, or -1 when out is too small. */
int	 util_b64url_encode(const void *in, size_t len, char *out,
	    size_t outsz);

/* True when s[0..len) is base64url without padding that decodes to whole
 * bytes (any unused bits are not checked: see util_b64url_decode). */
int	 util_b64url_ok(const char *s, size_t len);

/*
 * Strict decoding (RFC 7515 2: no padding, no whitespace, unused bits zero)
 * of in[0..len) into a new NUL-terminated buffer (free()) of *outlen bytes.
 * NULL when malformed or out of memory.
 */
unsigned char *util_b64url_decode(const char *in, size_t len,
	    size_t *outlen);

/* Constant-time comparison of two NUL-terminated secrets (state values,
 * csrf tokens); false when either is NULL. Only the lengths may leak. */
int	 util_secret_equal(const char *a, const char *b);

/* Flag for util_url_ok: accept http:// on 127.0.0.1, localhost or [::1]. */
#define UTIL_URL_LOOPBACK_HTTP	0x01

/*
 * An outside URL we may fetch or name as an endpoint: https://authority[/...]
 * with no userinfo, no fragment, no whitespace, backslash or control
 * characters; http:// only with UTIL_URL_LOOPBACK_HTTP and a loopback host.
 */
int	 util_url_ok(const char *url, int flags);

/* printf into err (errsz bytes) when err is not NULL: the one way the
 * library modules describe a failure to their caller. */
void	 util_seterr(char *err, size_t errsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Where a daemon listens ([fcgi] socket and auth_socket, [stream] socket):
 * an absolute path is a unix socket (returns 0); "ADDRESS:PORT", with a
 * numeric IPv4 address and a port from 1 to 65535, is TCP (returns 1, the
 * address in addr, at least 16 bytes, and the port in *port). Anything
 * else returns -1.
 */
int	 util_listen_tcp(const char *spec, char addr[16], int *port);

/* Monotonic milliseconds. */
int64_t	 util_now_ms(void);

/* Logging to stderr with a timestamp and the program name. */
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_init(const char *progname);

#endif
