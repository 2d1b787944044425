/* totp_open: fuzz opening a sealed secret read back from the database:
 * arbitrary bytes never open, never crash, and a secret sealed from the
 * input opens to the same bytes for the same user only. */
#include <stdlib.h>
#include <string.h>

#include "totp.h"
#include "totp_fuzz.h"

static const unsigned char key[TOTP_KEY_LEN] = "0123456789abcdef0123456789abcdef";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		 out[TOTP_SECRET_MAX], sealed[TOTP_SEALED_MAX];
	size_t			 outlen, n;
	enum totp_result	 r;

	r = totp_open(key, "alice", data, size, out, sizeof(out), &outlen);
	if (r == TOTP_OK || outlen != 0)
		abort();	/* a forgery: 2^-128 by chance */
	if (size > TOTP_SEALED_MAX || size < TOTP_SEAL_OVERHEAD + TOTP_SECRET_MIN) {
		if (r != TOTP_E_SHORT)
			abort();
	} else if (data[0] != TOTP_SEAL_VERSION ? r != TOTP_E_VERSION :
	    r != TOTP_E_AUTH)
		abort();

	if (size >= TOTP_SECRET_MIN && size <= TOTP_SECRET_MAX) {
		if (totp_seal(key, "alice", data, size, sealed, sizeof(sealed),
		    &n) != TOTP_OK ||
		    totp_open(key, "alice", sealed, n, out, sizeof(out),
		    &outlen) != TOTP_OK ||
		    outlen != size || memcmp(out, data, size) != 0 ||
		    totp_open(key, "alicf", sealed, n, out, sizeof(out),
		    &outlen) != TOTP_E_AUTH)
			abort();
	}
	return 0;
}
