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
	int		 charset = 1, port = 0;
	char		 addr[16];

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

	{
		unsigned char	*dec;
		char		 enc[16];
		size_t		 dlen = 0;

		ok(util_b64url_encode("\xfb\xff", 2, enc, sizeof(enc)) == 0 &&
		    strcmp(enc, "-_8") == 0, "base64url uses - and _, no padding");
		ok(util_b64url_encode("abcdefghijk", 11, enc, 16) == 0 &&
		    util_b64url_encode("abcdefghijkl", 12, enc, 16) == -1,
		    "encoding checks the room for the NUL");
		dec = util_b64url_decode("-_8", 3, &dlen);
		ok(dec != NULL && dlen == 2 && memcmp(dec, "\xfb\xff", 2) == 0,
		    "base64url round trip");
		free(dec);
		ok(util_b64url_decode("-_9", 3, &dlen) == NULL,
		    "non-zero unused bits refused (one spelling per string)");
		ok(util_b64url_decode("ab=", 3, &dlen) == NULL &&
		    util_b64url_decode("a", 1, &dlen) == NULL &&
		    util_b64url_decode("a+b/", 4, &dlen) == NULL,
		    "padding, a lone character and +/ are refused");
		ok(util_b64url_ok("abcd", 4) && !util_b64url_ok("ab=d", 4) &&
		    !util_b64url_ok("abcde", 5), "util_b64url_ok");
	}
	ok(util_secret_equal("s3cret", "s3cret") &&
	    !util_secret_equal("s3cret", "s3creT") &&
	    !util_secret_equal("s3cret", "s3cre") &&
	    !util_secret_equal(NULL, "x") && !util_secret_equal("x", NULL),
	    "constant-time secret comparison");
	ok(util_url_ok("https://idp.example.org/x", 0) &&
	    !util_url_ok("http://127.0.0.1:1/x", 0) &&
	    util_url_ok("http://127.0.0.1:1/x", UTIL_URL_LOOPBACK_HTTP) &&
	    !util_url_ok("http://127.0.0.1.evil/x", UTIL_URL_LOOPBACK_HTTP) &&
	    !util_url_ok("https://user@idp/", 0) &&
	    !util_url_ok("https://idp/#frag", 0), "outside URL checks");

	ok(util_listen_tcp("/run/spiderpig/fcgi.sock", addr, &port) == 0,
	    "an absolute path is a unix socket");
	ok(util_listen_tcp("10.0.1.11:9000", addr, &port) == 1 &&
	    strcmp(addr, "10.0.1.11") == 0 && port == 9000,
	    "IPV4-ADDRESS:PORT is TCP");
	ok(util_listen_tcp("fcgi.sock", addr, &port) == -1, "a relative path is refused");
	ok(util_listen_tcp(":9000", addr, &port) == -1, "no address: refused (not all interfaces)");
	ok(util_listen_tcp("localhost:9000", addr, &port) == -1, "a host name is refused");
	ok(util_listen_tcp("10.0.1.11:0", addr, &port) == -1 &&
	    util_listen_tcp("10.0.1.11:65536", addr, &port) == -1 &&
	    util_listen_tcp("10.0.1.11:", addr, &port) == -1, "a port outside 1..65535 is refused");
	ok(util_listen_tcp("10.0.1.256:9000", addr, &port) == -1 &&
	    util_listen_tcp("1000.0.1.1111111:9000", addr, &port) == -1,
	    "a malformed address is refused");
	return tap_done();
}
