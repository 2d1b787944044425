/* totp_verify: RFC 6238 vectors, the one-step window, the replay guard and
 * malformed codes refused before liboath sees them. */
#include <stdint.h>
#include <stdio.h>

#include "totp.h"
#include "tap.h"

/* RFC 6238 appendix B, SHA1 rows; the 6-digit code is the last 6 digits. */
static const struct {
	time_t		 t;
	const char	*code8;
} vectors[] = {
	{ 59,		"94287082" },
	{ 1111111109,	"07081804" },
	{ 1111111111,	"14050471" },
	{ 1234567890,	"89005924" },
	{ 2000000000,	"69279037" },
	{ 20000000000,	"65353130" },
};

static const unsigned char rfc_secret[] = "12345678901234567890";

static enum totp_result
check(const char *code, time_t now, int64_t last, int64_t *step)
{
	return totp_verify(rfc_secret, 20, code, now, last, step);
}

int
main(void)
{
	char		 name[128];
	int64_t		 step, want;
	size_t		 i;
	const char	*code = "005924";	/* t = 1234567890 */
	const time_t	 t = 1234567890;
	const char	*bad[] = { "", "12345", "1234567", "12345a", " 05924",
	    "005924 ", "+05924", "-05924", "00592\n", "0x5924", "00 924",
	    "\xd9\xa0\xd9\xa1\x30\x35\x39\x32" /* Arabic-Indic 0, 1 */ };

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		want = (int64_t)(vectors[i].t / TOTP_STEP);
		snprintf(name, sizeof(name), "RFC 6238 vector t=%lld",
		    (long long)vectors[i].t);
		tap_is_int(check(vectors[i].code8 + 2, vectors[i].t, 0, &step),
		    TOTP_OK, name);
		snprintf(name, sizeof(name), "t=%lld matched step %lld",
		    (long long)vectors[i].t, (long long)want);
		tap_is_int(step, want, name);
	}

	want = t / TOTP_STEP;
	tap_is_int(check(code, t + TOTP_STEP, 0, &step), TOTP_OK,
	    "a code one step old is accepted");
	tap_is_int(step, want, "and matches its own step, not the current one");
	tap_is_int(check(code, t - TOTP_STEP, 0, &step), TOTP_OK,
	    "a code one step ahead is accepted");
	tap_is_int(check(code, t + 2 * TOTP_STEP, 0, &step), TOTP_E_WRONG,
	    "a code two steps old is refused");
	tap_is_int(check(code, t - 2 * TOTP_STEP, 0, &step), TOTP_E_WRONG,
	    "a code two steps ahead is refused");
	tap_is_int(check("005925", t, 0, &step), TOTP_E_WRONG,
	    "a wrong code is refused");
	tap_is_int(step, 0, "and matches no step");

	tap_is_int(check(code, t, want, &step), TOTP_E_REPLAY,
	    "the same step again is a replay");
	tap_is_int(step, want, "a replay reports the step it matched");
	tap_is_int(check(code, t, want + 1, &step), TOTP_E_REPLAY,
	    "a step older than the last accepted is a replay");
	tap_is_int(check(code, t + TOTP_STEP, want, &step), TOTP_E_REPLAY,
	    "the previous step's code after it was used is a replay");
	tap_is_int(check(code, t, want - 1, &step), TOTP_OK,
	    "a step newer than the last accepted is accepted");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "malformed code #%zu refused", i);
		tap_is_int(check(bad[i], t, 0, &step), TOTP_E_MALFORMED, name);
		tap_is_int(totp_code_wellformed(bad[i]), 0,
		    "and not wellformed");
	}
	tap_is_int(check(NULL, t, 0, &step), TOTP_E_MALFORMED,
	    "a NULL code is malformed");
	/* Without a secret liboath would fail: the shape is checked first. */
	tap_is_int(totp_verify(NULL, 0, "1234567", t, 0, &step),
	    TOTP_E_MALFORMED, "the shape is checked before anything else");
	tap_is_int(totp_verify(NULL, 0, code, t, 0, &step), TOTP_E_ARG,
	    "a missing secret is an argument error");
	tap_is_int(totp_verify(rfc_secret, 10, code, t, 0, &step), TOTP_E_ARG,
	    "an 80-bit secret is refused");
	tap_ok(totp_code_wellformed("000000"), "000000 is wellformed");
	tap_ok(totp_code_wellformed("999999"), "999999 is wellformed");
	tap_ok(totp_strerror(TOTP_E_REPLAY) != NULL &&
	    strcmp(totp_strerror(TOTP_E_REPLAY), totp_strerror(TOTP_E_WRONG))
	    != 0, "a replay reads differently from a wrong code");
	return tap_done();
}
