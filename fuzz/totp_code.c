/* totp_code: fuzz the checks on a code typed by a user (and the config's
 * hex key): a code is accepted for verification iff it is exactly six ASCII
 * digits, and verification never reads past the string. */
#include <stdlib.h>
#include <string.h>

#include "totp.h"
#include "totp_fuzz.h"

static const unsigned char secret[TOTP_SECRET_LEN] = "12345678901234567890";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		 key[TOTP_KEY_LEN];
	char			*s;
	size_t			 i, len;
	int			 want;
	int64_t			 step;
	enum totp_result	 r;

	if (size > 4096)
		return 0;
	/* Exactly the input's bytes: an embedded NUL ends the string. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);

	want = len == TOTP_DIGITS;
	for (i = 0; want && i < len; i++)
		want = s[i] >= '0' && s[i] <= '9';
	if (totp_code_wellformed(s) != want)
		abort();

	r = totp_verify(secret, sizeof(secret), s, 1234567890, 0, &step);
	if (!want && r != TOTP_E_MALFORMED)
		abort();
	if (want && r != TOTP_OK && r != TOTP_E_WRONG)
		abort();
	if (r == TOTP_OK && (step < 1234567890 / TOTP_STEP - TOTP_WINDOW ||
	    step > 1234567890 / TOTP_STEP + TOTP_WINDOW))
		abort();
	if (r == TOTP_OK && totp_verify(secret, sizeof(secret), s, 1234567890,
	    step, &step) != TOTP_E_REPLAY)
		abort();

	r = totp_key_parse(s, key);
	if (r == TOTP_OK && len != TOTP_KEY_HEXLEN)
		abort();
	free(s);
	return 0;
}
