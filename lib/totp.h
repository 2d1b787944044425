/* totp.h: the TOTP second factor (RFC 6238): secrets, enrolment URI and QR
 * code, sealing at rest, and code verification with a replay guard. */
#ifndef SPIDERPIG_TOTP_H
#define SPIDERPIG_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Parameters every authenticator app understands: HMAC-SHA1, 6 digits,
 * 30-second steps, one step of clock drift either way.
 */
#define TOTP_DIGITS		6
#define TOTP_STEP		30
#define TOTP_WINDOW		1

#define TOTP_SECRET_LEN		20	/* new secrets: 160 bits */
#define TOTP_SECRET_MIN		20	/* accepted when opened */
#define TOTP_SECRET_MAX		64
#define TOTP_KEY_LEN		32	/* AES-256 */
#define TOTP_KEY_HEXLEN		64

/* Sealed format: version || 12-byte nonce || ciphertext || 16-byte tag. */
#define TOTP_SEAL_VERSION	1
#define TOTP_NONCE_LEN		12
#define TOTP_TAG_LEN		16
#define TOTP_SEAL_OVERHEAD	(1 + TOTP_NONCE_LEN + TOTP_TAG_LEN)
#define TOTP_SEALED_MAX		(TOTP_SEAL_OVERHEAD + TOTP_SECRET_MAX)

#define TOTP_USER_MAX		128	/* as users.name in SQL */
#define TOTP_ISSUER_MAX		64
#define TOTP_URI_MAX		1024	/* longest URI for a QR code */

/* Every result of this module; totp_strerror() says it in words. */
enum totp_result {
	TOTP_OK = 0,
	TOTP_E_MALFORMED,	/* code is not exactly 6 ASCII digits */
	TOTP_E_WRONG,		/* code matches no step in the window */
	TOTP_E_REPLAY,		/* step not newer than the last used */
	TOTP_E_ARG,		/* NULL, empty, too long or forbidden */
	TOTP_E_KEY,		/* key is not 64 hex digits */
	TOTP_E_SHORT,		/* sealed blob of an impossible length */
	TOTP_E_VERSION,		/* sealed blob of an unknown version */
	TOTP_E_AUTH,		/* sealed blob does not authenticate:
				   tampered, other key or other user */
	TOTP_E_SPACE,		/* output buffer too small */
	TOTP_E_RANDOM,		/* the CSPRNG failed */
	TOTP_E_CRYPTO,		/* OpenSSL, liboath or libqrencode */
	TOTP_E_NOMEM
};

const char	*totp_strerror(enum totp_result);

/* Parse the config's 64 hex digit sealing key. TOTP_OK or TOTP_E_KEY. */
enum totp_result totp_key_parse(const char *hex,
		    unsigned char key[TOTP_KEY_LEN]);

/* TOTP_SECRET_LEN fresh bytes from the OpenSSL CSPRNG. */
enum totp_result totp_secret_new(unsigned char secret[TOTP_SECRET_LEN]);

/*
 * Base32 (RFC 4648, no padding) of a secret into a malloc'd string that the
 * caller frees with free(). This is what a user types in by hand.
 */
enum totp_result totp_base32(const unsigned char *secret, size_t len,
		    char **out);

/*
 * The enrolment URI, malloc'd (caller frees):
 *   otpauth://totp/Issuer:user?secret=B32&issuer=Issuer
 *   &algorithm=SHA1&digits=6&period=30   (one line)
 * Issuer and user are percent-encoded; both must be non-empty, within
 * TOTP_ISSUER_MAX / TOTP_USER_MAX bytes and free of ':' (the label's
 * separator), else TOTP_E_ARG.
 */
enum totp_result totp_uri(const char *issuer, const char *user,
		    const unsigned char *secret, size_t len, char **out);

/*
 * A standalone SVG document (starts with "<svg", only <rect> elements, no
 * script or style) of the QR code for uri, malloc'd (caller frees). uri is
 * at most TOTP_URI_MAX bytes.
 */
enum totp_result totp_qr_svg(const char *uri, char **svg);

/*
 * Seal a secret for storage with AES-256-GCM under key; user is bound as
 * associated data so the blob opens only for that user. Writes
 * TOTP_SEAL_OVERHEAD + len bytes to out (outsz at least that) and sets
 * *outlen.
 */
enum totp_result totp_seal(const unsigned char key[TOTP_KEY_LEN],
		    const char *user, const unsigned char *secret, size_t len,
		    unsigned char *out, size_t outsz, size_t *outlen);

/*
 * Open a blob made by totp_seal for user. On success the secret is in
 * secret[0 .. *secretlen) (secretsz at least TOTP_SECRET_MAX is always
 * enough); on failure nothing is left in secret. The caller wipes the
 * secret with OPENSSL_cleanse() when done.
 */
enum totp_result totp_open(const unsigned char key[TOTP_KEY_LEN],
		    const char *user, const unsigned char *sealed,
		    size_t sealedlen, unsigned char *secret, size_t secretsz,
		    size_t *secretlen);

/* 1 when code is exactly TOTP_DIGITS ASCII digits, else 0. No I/O. */
int		 totp_code_wellformed(const char *code);

/*
 * Check code against secret at time now, one step either way. last_step is
 * the step of the last accepted code (0 when none): a code whose step is not
 * newer is TOTP_E_REPLAY. On TOTP_OK and TOTP_E_REPLAY *matched_step is the
 * code's step; on TOTP_OK the caller must store it with the SQL function
 * totp_accept(), which refuses the step if another request stored it first.
 */
enum totp_result totp_verify(const unsigned char *secret, size_t len,
		    const char *code, time_t now, int64_t last_step,
		    int64_t *matched_step);

#endif
