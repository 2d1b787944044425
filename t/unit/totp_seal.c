/* totp_seal: secrets sealed with AES-256-GCM open only with the same key
 * for the same user, and any change to the blob is caught. */
#include <stdio.h>
#include <string.h>

#include "totp.h"
#include "tap.h"

static const char hexkey[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";

int
main(void)
{
	unsigned char	 key[TOTP_KEY_LEN], key2[TOTP_KEY_LEN];
	unsigned char	 secret[TOTP_SECRET_LEN], other[TOTP_SECRET_LEN];
	unsigned char	 sealed[TOTP_SEALED_MAX], sealed2[TOTP_SEALED_MAX];
	unsigned char	 opened[TOTP_SECRET_MAX];
	size_t		 n, n2, olen, i;
	char		 name[96], badkey[TOTP_KEY_HEXLEN + 2];

	tap_is_int(totp_key_parse(hexkey, key), TOTP_OK,
	    "a 64 hex digit key parses (either case)");
	tap_ok(key[0] == 0 && key[10] == 10 && key[31] == 0x1f,
	    "to the right bytes");
	tap_is_int(totp_key_parse("abcd", key2), TOTP_E_KEY, "a short key is refused");
	memcpy(badkey, hexkey, sizeof(hexkey));
	badkey[63] = 'g';
	tap_is_int(totp_key_parse(badkey, key2), TOTP_E_KEY,
	    "a non-hex key is refused");
	memcpy(badkey, hexkey, sizeof(hexkey));
	badkey[64] = '0';
	badkey[65] = '\0';
	tap_is_int(totp_key_parse(badkey, key2), TOTP_E_KEY,
	    "a 65 digit key is refused");
	tap_is_int(totp_key_parse(NULL, key2), TOTP_E_KEY, "no key is refused");

	tap_is_int(totp_secret_new(secret), TOTP_OK, "a new secret");
	tap_ok(TOTP_SECRET_LEN >= 20, "of at least 160 bits");
	tap_is_int(totp_secret_new(other), TOTP_OK, "another new secret");
	tap_ok(memcmp(secret, other, sizeof(secret)) != 0, "they differ");

	tap_is_int(totp_seal(key, "alice", secret, sizeof(secret), sealed,
	    sizeof(sealed), &n), TOTP_OK, "seal");
	tap_is_int((long long)n, TOTP_SEAL_OVERHEAD + TOTP_SECRET_LEN,
	    "version, nonce, ciphertext and tag");
	tap_is_int(sealed[0], TOTP_SEAL_VERSION, "version byte first");
	tap_ok(memmem(sealed, n, secret, sizeof(secret)) == NULL,
	    "the secret is not in the blob");
	tap_is_int(totp_open(key, "alice", sealed, n, opened, sizeof(opened),
	    &olen), TOTP_OK, "open");
	tap_ok(olen == sizeof(secret) && memcmp(opened, secret, olen) == 0,
	    "round trip gives the secret back");
	tap_is_int(totp_seal(key, "alice", secret, sizeof(secret), sealed2,
	    sizeof(sealed2), &n2), TOTP_OK, "seal again");
	tap_ok(memcmp(sealed, sealed2, n) != 0, "with a fresh nonce");

	tap_is_int(totp_open(key, "bob", sealed, n, opened, sizeof(opened),
	    &olen), TOTP_E_AUTH, "another user's row does not open");
	tap_is_int((long long)olen, 0, "and yields nothing");
	tap_is_int(totp_open(key, "alic", sealed, n, opened, sizeof(opened),
	    &olen), TOTP_E_AUTH, "nor does a prefix of the user");
	memcpy(key2, key, sizeof(key));
	key2[5] ^= 1;
	tap_is_int(totp_open(key2, "alice", sealed, n, opened, sizeof(opened),
	    &olen), TOTP_E_AUTH, "another key does not open it");

	for (i = 1; i < n; i++) {
		sealed[i] ^= 0x80;
		snprintf(name, sizeof(name), "flipping a bit of byte %zu (%s)", i,
		    i < 1 + TOTP_NONCE_LEN ? "nonce" : i < n - TOTP_TAG_LEN ?
		    "ciphertext" : "tag");
		tap_is_int(totp_open(key, "alice", sealed, n, opened,
		    sizeof(opened), &olen), TOTP_E_AUTH, name);
		sealed[i] ^= 0x80;
	}
	sealed[0] = 2;
	tap_is_int(totp_open(key, "alice", sealed, n, opened, sizeof(opened),
	    &olen), TOTP_E_VERSION, "an unknown version is named as such");
	sealed[0] = TOTP_SEAL_VERSION;
	tap_is_int(totp_open(key, "alice", sealed, n - 1, opened,
	    sizeof(opened), &olen), TOTP_E_SHORT, "a truncated blob is too short");
	tap_is_int(totp_open(key, "alice", sealed, TOTP_SEAL_OVERHEAD, opened,
	    sizeof(opened), &olen), TOTP_E_SHORT, "a blob without a secret");
	tap_is_int(totp_open(key, "alice", sealed, 0, opened, sizeof(opened),
	    &olen), TOTP_E_SHORT, "an empty blob");
	tap_is_int(totp_open(key, "alice", sealed, TOTP_SEALED_MAX + 1, opened,
	    sizeof(opened), &olen), TOTP_E_SHORT, "an oversized blob");
	tap_is_int(totp_open(key, "alice", sealed, n, opened, 10, &olen),
	    TOTP_E_SPACE, "a small output buffer");
	tap_is_int(totp_open(key, "alice", sealed, n, opened, sizeof(opened),
	    &olen), TOTP_OK, "the untouched blob still opens");

	tap_is_int(totp_seal(key, "", secret, sizeof(secret), sealed2,
	    sizeof(sealed2), &n2), TOTP_E_ARG, "an empty user is refused");
	tap_is_int(totp_seal(key, "alice", secret, 10, sealed2,
	    sizeof(sealed2), &n2), TOTP_E_ARG, "an 80-bit secret is refused");
	tap_is_int(totp_seal(key, "alice", secret, sizeof(secret), sealed2,
	    20, &n2), TOTP_E_SPACE, "a small output buffer is refused");
	return tap_done();
}
