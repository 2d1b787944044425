/* totp.c: TOTP secrets, enrolment URI and QR code, sealing, verification. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include "totp.h"
#include "util.h"

#define QR_QUIET	4	/* white border, in modules, per the QR spec */
#define QR_SCALE	4	/* SVG user units per module */

static pthread_once_t	 oath_once = PTHREAD_ONCE_INIT;
static int		 oath_init_rc = OATH_OK;

static void
oath_init_once(void)
{
	oath_init_rc = oath_init();
}

/* liboath wants oath_init() once per process before anything else. */
static int
oath_ready(void)
{
	pthread_once(&oath_once, oath_init_once);
	return oath_init_rc == OATH_OK;
}

const char *
totp_strerror(enum totp_result r)
{
	switch (r) {
	case TOTP_OK:		return "ok";
	case TOTP_E_MALFORMED:
		return "the code must be exactly 6 digits";
	case TOTP_E_WRONG:	return "wrong code";
	case TOTP_E_REPLAY:	return "this code was already used";
	case TOTP_E_ARG:	return "invalid argument";
	case TOTP_E_KEY:	return "the TOTP key must be 64 hex digits";
	case TOTP_E_SHORT:
		return "sealed secret has an impossible length";
	case TOTP_E_VERSION:
		return "sealed secret has an unknown format version";
	case TOTP_E_AUTH:
		return "sealed secret does not authenticate "
		    "(tampered, another key or another user)";
	case TOTP_E_SPACE:	return "output buffer too small";
	case TOTP_E_RANDOM:	return "random number generator failed";
	case TOTP_E_CRYPTO:	return "cryptographic library failed";
	case TOTP_E_NOMEM:	return "out of memory";
	}
	return "unknown TOTP error";
}

enum totp_result
totp_key_parse(const char *hex, unsigned char key[TOTP_KEY_LEN])
{
	size_t	 i;
	int	 hi, lo;

	if (hex == NULL || strlen(hex) != TOTP_KEY_HEXLEN)
		return TOTP_E_KEY;
	for (i = 0; i < TOTP_KEY_LEN; i++) {
		hi = util_hexval(hex[2 * i]);
		lo = util_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(key, TOTP_KEY_LEN);
			return TOTP_E_KEY;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return TOTP_OK;
}

enum totp_result
totp_secret_new(unsigned char secret[TOTP_SECRET_LEN])
{
	if (RAND_bytes(secret, TOTP_SECRET_LEN) != 1)
		return TOTP_E_RANDOM;
	return TOTP_OK;
}

enum totp_result
totp_base32(const unsigned char *secret, size_t len, char **out)
{
	char	*b32 = NULL, *eq;
	size_t	 b32len;

	*out = NULL;
	if (secret == NULL || len < TOTP_SECRET_MIN || len > TOTP_SECRET_MAX)
		return TOTP_E_ARG;
	if (!oath_ready())
		return TOTP_E_CRYPTO;
	if (oath_base32_encode((const char *)secret, len, &b32, &b32len)
	    != OATH_OK)
		return TOTP_E_NOMEM;
	/* Authenticators want no padding (Key URI format). */
	if ((eq = strchr(b32, '=')) != NULL)
		*eq = '\0';
	*out = b32;
	return TOTP_OK;
}

/* A growing NUL-terminated string; on allocation failure it stays failed. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 failed;
};

static void	sbuf_printf(struct sbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	size_t	 ncap;
	char	*np;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p == NULL ? NULL : b->p + b->len,
		    b->p == NULL ? 0 : b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		ncap = b->cap == 0 ? 256 : b->cap;
		while (ncap - b->len <= (size_t)n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

/* Hand the string to the caller, or free it and report the failure. */
static enum totp_result
sbuf_finish(struct sbuf *b, char **out)
{
	if (b->failed) {
		free(b->p);
		*out = NULL;
		return TOTP_E_NOMEM;
	}
	*out = b->p;
	return TOTP_OK;
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static void
sbuf_pct(struct sbuf *b, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			sbuf_printf(b, "%c", *p);
		else
			sbuf_printf(b, "%%%02X", *p);
	}
}

static int
label_part_ok(const char *s, size_t max)
{
	size_t	 n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	return n > 0 && n <= max && strchr(s, ':') == NULL;
}

enum totp_result
totp_uri(const char *issuer, const char *user, const unsigned char *secret,
    size_t len, char **out)
{
	struct sbuf		 b = { NULL, 0, 0, 0 };
	char			*b32 = NULL;
	enum totp_result	 r;

	*out = NULL;
	if (!label_part_ok(issuer, TOTP_ISSUER_MAX) ||
	    !label_part_ok(user, TOTP_USER_MAX))
		return TOTP_E_ARG;
	if ((r = totp_base32(secret, len, &b32)) != TOTP_OK)
		return r;
	sbuf_printf(&b, "otpauth://totp/");
	sbuf_pct(&b, issuer);
	sbuf_printf(&b, ":");
	sbuf_pct(&b, user);
	sbuf_printf(&b, "?secret=%s&issuer=", b32);
	sbuf_pct(&b, issuer);
	sbuf_printf(&b, "&algorithm=SHA1&digits=%d&period=%d",
	    TOTP_DIGITS, TOTP_STEP);
	OPENSSL_cleanse(b32, strlen(b32));
	free(b32);
	r = sbuf_finish(&b, out);
	if (r == TOTP_OK && strlen(*out) > TOTP_URI_MAX) {
		OPENSSL_cleanse(*out, strlen(*out));
		free(*out);
		*out = NULL;
		return TOTP_E_ARG;
	}
	return r;
}

enum totp_result
totp_qr_svg(const char *uri, char **svg)
{
	struct sbuf	 b = { NULL, 0, 0, 0 };
	QRcode		*qr;
	int		 x, y, run, size;

	*svg = NULL;
	if (uri == NULL || *uri == '\0' || strlen(uri) > TOTP_URI_MAX)
		return TOTP_E_ARG;
	/* Level M survives a smudged or partly reflective phone screen. */
	if ((qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1))
	    == NULL)
		return errno == ENOMEM ? TOTP_E_NOMEM : TOTP_E_CRYPTO;
	size = (qr->width + 2 * QR_QUIET) * QR_SCALE;
	sbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	    "shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>",
	    size, size, size, size, size, size);
	/* One rect per horizontal run of dark modules (bit 0 is dark). */
	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x += run) {
			run = 1;
			if (!(qr->data[y * qr->width + x] & 1))
				continue;
			while (x + run < qr->width &&
			    (qr->data[y * qr->width + x + run] & 1))
				run++;
			sbuf_printf(&b, "<rect x=\"%d\" y=\"%d\" "
			    "width=\"%d\" height=\"%d\"/>",
			    (x + QR_QUIET) * QR_SCALE,
			    (y + QR_QUIET) * QR_SCALE,
			    run * QR_SCALE, QR_SCALE);
		}
	}
	sbuf_printf(&b, "</svg>\n");
	QRcode_free(qr);
	return sbuf_finish(&b, svg);
}

/* Associated data: the format version and the user the secret belongs to. */
static int
seal_aad(EVP_CIPHER_CTX *ctx, const char *user)
{
	unsigned char	 version = TOTP_SEAL_VERSION;
	int		 n;

	if (EVP_CipherUpdate(ctx, NULL, &n, &version, 1) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)user,
	    (int)strlen(user)) != 1)
		return -1;
	return 0;
}

static int
user_ok(const char *user)
{
	size_t	 n;

	if (user == NULL)
		return 0;
	n = strlen(user);
	return n > 0 && n <= TOTP_USER_MAX;
}

enum totp_result
totp_seal(const unsigned char key[TOTP_KEY_LEN], const char *user,
    const unsigned char *secret, size_t len, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	EVP_CIPHER_CTX		*ctx = NULL;
	enum totp_result	 r = TOTP_E_CRYPTO;
	unsigned char		*nonce = out + 1;
	unsigned char		*ct = out + 1 + TOTP_NONCE_LEN;
	int			 n;

	*outlen = 0;
	if (key == NULL || !user_ok(user) || secret == NULL ||
	    len < TOTP_SECRET_MIN || len > TOTP_SECRET_MAX)
		return TOTP_E_ARG;
	if (out == NULL || outsz < TOTP_SEAL_OVERHEAD + len)
		return TOTP_E_SPACE;
	out[0] = TOTP_SEAL_VERSION;
	/* Random 96-bit nonces are safe for far more than 2^20 seals a key. */
	if (RAND_bytes(nonce, TOTP_NONCE_LEN) != 1)
		return TOTP_E_RANDOM;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return TOTP_E_NOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    seal_aad(ctx, user) != 0 ||
	    EVP_EncryptUpdate(ctx, ct, &n, secret, (int)len) != 1 ||
	    (size_t)n != len ||
	    EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TOTP_TAG_LEN,
	    ct + len) != 1)
		goto out;
	*outlen = TOTP_SEAL_OVERHEAD + len;
	r = TOTP_OK;
out:
	if (r != TOTP_OK)
		OPENSSL_cleanse(out, outsz);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

enum totp_result
totp_open(const unsigned char key[TOTP_KEY_LEN], const char *user,
    const unsigned char *sealed, size_t sealedlen, unsigned char *secret,
    size_t secretsz, size_t *secretlen)
{
	EVP_CIPHER_CTX		*ctx = NULL;
	enum totp_result	 r = TOTP_E_CRYPTO;
	const unsigned char	*nonce, *ct, *tag;
	size_t			 ctlen;
	int			 n;

	*secretlen = 0;
	if (key == NULL || !user_ok(user) || sealed == NULL || secret == NULL)
		return TOTP_E_ARG;
	if (sealedlen < TOTP_SEAL_OVERHEAD + TOTP_SECRET_MIN ||
	    sealedlen > TOTP_SEALED_MAX)
		return TOTP_E_SHORT;
	if (sealed[0] != TOTP_SEAL_VERSION)
		return TOTP_E_VERSION;
	nonce = sealed + 1;
	ct = nonce + TOTP_NONCE_LEN;
	ctlen = sealedlen - TOTP_SEAL_OVERHEAD;
	tag = ct + ctlen;
	if (secretsz < ctlen)
		return TOTP_E_SPACE;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return TOTP_E_NOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    seal_aad(ctx, user) != 0 ||
	    EVP_DecryptUpdate(ctx, secret, &n, ct, (int)ctlen) != 1 ||
	    (size_t)n != ctlen ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TOTP_TAG_LEN,
	    (void *)(uintptr_t)tag) != 1)
		goto out;
	/* The tag is checked here: only now is the plaintext trustworthy. */
	if (EVP_DecryptFinal_ex(ctx, secret + ctlen, &n) != 1) {
		r = TOTP_E_AUTH;
		goto out;
	}
	*secretlen = ctlen;
	r = TOTP_OK;
out:
	if (r != TOTP_OK)
		OPENSSL_cleanse(secret, secretsz);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
totp_code_wellformed(const char *code)
{
	int	 i;

	if (code == NULL)
		return 0;
	for (i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;	/* also stops at an early NUL */
	return code[TOTP_DIGITS] == '\0';
}

/* liboath's comparison hook: constant time, as the code is a secret. */
static int
code_cmp(void *handle, const char *candidate)
{
	return CRYPTO_memcmp(handle, candidate, TOTP_DIGITS) != 0;
}

enum totp_result
totp_verify(const unsigned char *secret, size_t len, const char *code,
    time_t now, int64_t last_step, int64_t *matched_step)
{
	uint64_t	 counter = 0;
	int		 pos, rc;

	*matched_step = 0;
	/*
	 * Before liboath: it would take the code's length from the string
	 * (a 7-digit code with 7-digit math, or an empty one).
	 */
	if (!totp_code_wellformed(code))
		return TOTP_E_MALFORMED;
	if (secret == NULL || len < TOTP_SECRET_MIN || len > TOTP_SECRET_MAX ||
	    now < 0 || last_step < 0)
		return TOTP_E_ARG;
	if (!oath_ready())
		return TOTP_E_CRYPTO;
	/* validate3 with explicit digits (never strlen) and SHA1 (flags 0). */
	rc = oath_totp_validate3_callback((const char *)secret, len, now,
	    TOTP_STEP, OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS, TOTP_WINDOW,
	    &pos, &counter, code_cmp, (void *)(uintptr_t)code);
	if (rc == OATH_INVALID_OTP)
		return TOTP_E_WRONG;
	if (rc < 0 || counter > INT64_MAX)
		return TOTP_E_CRYPTO;
	*matched_step = (int64_t)counter;
	if ((int64_t)counter <= last_step)
		return TOTP_E_REPLAY;
	return TOTP_OK;
}
