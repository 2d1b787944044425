/* util.c: number parsing, bytea hex, hashing and random tokens. */
#include <string.h>

#include "util.h"
#include "tap.h"

static int
num(const char *s, long long min, long long max, long long *v, const char **why)
{
	return util_strtonum(s, min, max, v, why);
}

int
main(void)
{
	long long	 v = 0;
	const char	*why = NULL;
	unsigned char	 bytes[4] = { 0x00, 0x7f, 0xa5, 0xff }, back[8];
	char		 hex[16], hash[68], t1[64], t2[64];
	size_t		 len = 0, i;
	int		 charset = 1;

	ok(num("42", 1, 100, &v, &why) == 0 && v == 42, "a number in range");
	ok(num("0", 0, 1, &v, &why) == 0 && v == 0, "zero alone is a number");
	ok(num("007", 0, 100, &v, &why) == -1, "leading zeros are refused");
	ok(num("+5", 0, 100, &v, &why) == -1, "a plus sign is refused");
	ok(num("-5", 0, 100, &v, &why) == -1, "a minus sign is refused when min >= 0");
	ok(num("-5", -10, 10, &v, &why) == 0 && v == -5, "a negative number when allowed");
	ok(num("12a", 0, 100, &v, &why) == -1 && strcmp(why, "invalid") == 0, "trailing garbage is invalid");
	ok(num("", 0, 100, &v, &why) == -1, "empty is invalid");
	ok(num(" 1", 0, 100, &v, &why) == -1, "leading space is invalid");
	ok(num("101", 0, 100, &v, &why) == -1 && strcmp(why, "too large") == 0, "above max is too large");
	ok(num("99999999999999999999", 0, 100, &v, &why) == -1 && strcmp(why, "too large") == 0, "overflow is too large");
	ok(num("3", 5, 100, &v, &why) == -1 && strcmp(why, "too small") == 0, "below min is too small");

	ok(util_hexval('0') == 0 && util_hexval('9') == 9 && util_hexval('a') == 10 &&
	    util_hexval('F') == 15 && util_hexval('g') == -1 && util_hexval('x') == -1, "hex digits");
	util_bytea_encode(bytes, sizeof(bytes), hex);
	ok(strcmp(hex, "\\x007fa5ff") == 0, "bytea encoding");
	ok(util_bytea_decode(hex, back, sizeof(back), &len) == 0 && len == 4 &&
	    memcmp(back, bytes, 4) == 0, "bytea round trip");
	ok(util_bytea_decode("\\x0", back, sizeof(back), &len) == -1, "odd length refused");
	ok(util_bytea_decode("\\xzz", back, sizeof(back), &len) == -1, "non-hex refused");
	ok(util_bytea_decode("00", back, sizeof(back), &len) == -1, "missing \\x refused");
	ok(util_bytea_decode("\\x000000000000000000", back, sizeof(back), &len) == -1, "too long for the buffer refused");

	util_sha256_bytea("abc", 3, hash);
	ok(strcmp(hash, "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	    "sha256(abc) matches FIPS 180-2");

	ok(util_random_token(32, t1, sizeof(t1)) == 0 && strlen(t1) == 43, "32 random bytes are 43 base64url characters");
	for (i = 0; t1[i] != '\0'; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", t1[i]) == NULL)
			charset = 0;
	ok(charset, "token uses the base64url alphabet only");
	ok(util_random_token(32, t2, sizeof(t2)) == 0 && strcmp(t1, t2) != 0, "two tokens differ");
	ok(util_random_token(32, t2, 10) == -1, "a too small buffer is refused");
	return tap_done();
}
