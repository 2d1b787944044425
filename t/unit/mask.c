/* t/unit/mask.c: mask_compile/mask_match/mask_free behaviours, as TAP. */
#include <stdio.h>
#include <string.h>

#include "mask.h"
#include "tap.h"

static int
match(struct mask *m, const char *s)
{
	return mask_match(m, s, strlen(s));
}

int
main(void)
{
	char		*pats[] = { "(password|secret|token)[=:]", "^AKIA[0-9A-Z]{16}" };
	char		*bad[] = { "fine", "(unbalanced" };
	char		 err[256] = "";
	struct mask	*m;
	const char	 nul[] = "abc\0password=x";

	m = mask_compile(pats, 2, err, sizeof(err));
	ok(m != NULL, "two patterns compile");
	ok(match(m, "db password=hunter2"), "first pattern matches inside a line");
	ok(match(m, "PASSWORD: x"), "matching ignores case");
	ok(match(m, "Token=abc"), "alternation matches");
	ok(match(m, "AKIAABCDEFGHIJKLMNOP key"), "second pattern matches");
	ok(!match(m, "x AKIAABCDEFGHIJKLMNOP"), "anchors apply to the line");
	ok(!match(m, "deploying 12345 to canaries"), "an ordinary line does not match");
	ok(!match(m, ""), "an empty line does not match");
	ok(!match(m, "password"), "the pattern needs its = or :");
	ok(mask_match(m, "password=x trailing", 10), "only len bytes are looked at (match)");
	ok(!mask_match(m, "password=x", 8), "only len bytes are looked at (no match)");
	ok(!mask_match(m, nul, sizeof(nul) - 1), "bytes after a NUL are not looked at");
	mask_free(m);

	m = mask_compile(NULL, 0, err, sizeof(err));
	ok(m != NULL && !match(m, "password=x"), "no patterns: nothing matches");
	mask_free(m);

	err[0] = '\0';
	m = mask_compile(bad, 2, err, sizeof(err));
	ok(m == NULL, "a bad regex is refused");
	ok(strstr(err, "mask 2") != NULL && strstr(err, "(unbalanced") != NULL,
	    "the error names the pattern");
	printf("# %s\n", err);
	mask_free(NULL);
	ok(1, "mask_free(NULL) is fine");

	return tap_done();
}
