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

/* Monotonic milliseconds. */
int64_t	 util_now_ms(void);

/* Logging to stderr with a timestamp and the program name. */
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_init(const char *progname);

#endif
