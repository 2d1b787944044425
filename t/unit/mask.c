/* t/unit/mask.c: lib/mask.c behaviours, as TAP: patterns, literals chosen
 * from the environment, and the stream rules that look across lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "tap.h"

static int
match(struct mask *m, const char *s)
{
	return mask_match(m, s, strlen(s));
}

/* What a stream emitted: "S:text" or "-:text" per line, joined by '|'. */
struct out {
	char	 buf[4096];
	size_t	 len;
	int	 n;
};

static void
collect(void *arg, const char *line, size_t len, int sensitive)
{
	struct out	*o = arg;

	o->n++;
	o->len += (size_t)snprintf(o->buf + o->len, sizeof(o->buf) - o->len,
	    "%s%c:%.*s", o->len ? "|" : "", sensitive ? 'S' : '-', (int)len,
	    line);
}

/* Feed pieces to a fresh stream over m; a piece ending in '+' is cut
 * there (more = 1, the '+' dropped). */
static const char *
stream(struct mask *m, size_t maxlen, const char *const *pieces)
{
	static struct out	 o;
	struct mask_stream	*ms = mask_stream_new(m, maxlen);
	size_t			 len;

	memset(&o, 0, sizeof(o));
	for (; *pieces != NULL; pieces++) {
		len = strlen(*pieces);
		if (len > 0 && (*pieces)[len - 1] == '+')
			mask_stream_put(ms, *pieces, len - 1, 1, collect, &o);
		else
			mask_stream_put(ms, *pieces, len, 0, collect, &o);
	}
	mask_stream_end(ms, collect, &o);
	mask_stream_free(ms);
	return o.buf;
}

static void
stream_is(struct mask *m, size_t maxlen, const char *const *pieces,
    const char *want, const char *what)
{
	const char	*got = stream(m, maxlen, pieces);

	if (!ok(strcmp(got, want) == 0, "%s", what))
		printf("# got  %s\n# want %s\n", got, want);
}

/* The stream rules: the cut (1 KiB pieces here, like the worker's 64 KiB),
 * the value on the next line, literals. */
static void
test_stream(void)
{
	char		*pats[] = { "(password|secret|token)[=:]" };
	char		*env[] = { "DEPLOY_TOKEN=Tok3nValue", "HOME_DIR=/srv/x" };
	char		 err[256];
	char		*a = malloc(2000);
	struct mask	*m = mask_compile(pats, 1, err, sizeof(err));
	struct out	 o;

	ok(mask_add_env(m, env, 2) == 0, "environment literals added");
	stream_is(m, 64, (const char *[]){ "plain", "token=x", "after", NULL },
	    "-:plain|S:token=x|-:after", "a value on its line: only that line");
	stream_is(m, 64, (const char *[]){ "password:", "hunter2", "after", NULL },
	    "S:password:|S:hunter2|-:after", "password: alone: the next line too");
	stream_is(m, 64, (const char *[]){ "Enter TOKEN: \t", "", "  ", "hunter2",
	    "after", NULL }, "S:Enter TOKEN: \t|S:|S:  |S:hunter2|-:after",
	    "trailing blanks, then blank lines: carried to the first real line");
	stream_is(m, 64, (const char *[]){ "token=a secret: ", "v", NULL },
	    "S:token=a secret: |S:v", "any match with nothing after it counts");
	stream_is(m, 8, (const char *[]){ "xxxxpass+", "word=abc+", "defgh+", "ij",
	    "next", NULL }, "S:xxxxpass|S:word=abc|S:defgh|S:ij|-:next",
	    "cut inside the keyword: the piece before and every piece after");
	stream_is(m, 8, (const char *[]){ "aaaaaaaa+", "password+", "=abc", NULL },
	    "-:aaaaaaaa|S:password|S:=abc",
	    "pieces before the keyword stay readable");
	stream_is(m, 64, (const char *[]){ "password:+", "", "v", NULL },
	    "S:password:|S:|S:v", "a cut line ending in password: carries too");
	stream_is(m, 64, (const char *[]){ "password:", "long+", "value", "after",
	    NULL }, "S:password:|S:long|S:value|-:after",
	    "the carried line is sensitive in all its pieces");
	stream_is(m, 64, (const char *[]){ "using Tok3nValue now", "ok", NULL },
	    "S:using ********** now|-:ok", "a literal is starred and its line sensitive");
	stream_is(m, 8, (const char *[]){ "zzzzzTok+", "3nValue!", NULL },
	    "S:zzzzz***|S:*******!", "a literal cut in two is starred on both sides");
	stream_is(m, 64, (const char *[]){ "home /srv/x", NULL }, "-:home /srv/x",
	    "a value of an ordinary key is left alone");
	stream_is(m, 64, (const char *[]){ "a+", NULL }, "-:a",
	    "a piece held at the end of the stream is emitted");

	/* A 1000-byte piece whose keyword is cut by the split. */
	memset(a, 'a', 996);
	memcpy(a + 996, "pass", 4);
	a[1000] = '\0';
	memset(&o, 0, sizeof(o));
	{
		struct mask_stream *ms = mask_stream_new(m, 1000);

		mask_stream_put(ms, a, 1000, 1, collect, &o);
		mask_stream_put(ms, "word=hunter2", 12, 0, collect, &o);
		mask_stream_end(ms, collect, &o);
		mask_stream_free(ms);
	}
	ok(o.n == 2 && strncmp(o.buf, "S:", 2) == 0 &&
	    strstr(o.buf, "|S:word=hunter2") != NULL,
	    "a 1000-byte piece ending in half a keyword is sensitive, and so is the rest");
	free(a);
	mask_free(m);
}

/* Which environment values become literals. */
static void
test_env(void)
{
	char		*env[] = { "DB_PASSWORD=pw-one", "api_key=key-two",
	    "GITHUB_TOKEN=tok-three", "MY_SECRET=abc", "PLAIN=not-secret-at-all",
	    "MIRROR=https://deploy:url-pass@mirror.example/x", "NOEQUALS",
	    "SESSION_COOKIE=c00kie" };
	char		 err[64], line[256];
	struct mask	*m = mask_compile(NULL, 0, err, sizeof(err));

	ok(mask_add_env(m, env, 8) == 0, "env entries added");
	ok(match(m, "x pw-one y") && match(m, "key-two") && match(m, "tok-three") &&
	    match(m, "c00kie"), "values of secret-looking keys are literals");
	ok(!match(m, "abc"), "values shorter than MASK_LITERAL_MIN are not");
	ok(!match(m, "not-secret-at-all"), "values of other keys are not");
	ok(match(m, "fetching with url-pass") && !match(m, "deploy@mirror.example"),
	    "a URL's password is, its user and host are not");
	snprintf(line, sizeof(line), "pw-one and pw-one, key-two");
	ok(mask_redact(m, line, strlen(line)) == 19 &&
	    strcmp(line, "****** and ******, *******") == 0,
	    "mask_redact stars every occurrence");
	snprintf(line, sizeof(line), "starting: --pw=pw-one");
	ok(mask_line(m, line, strlen(line)) == 1 &&
	    strcmp(line, "starting: --pw=******") == 0,
	    "mask_line redacts and calls the line sensitive");
	ok(mask_add_literal(m, "pw-one", 6) == 0, "adding a literal twice is fine");
	mask_free(m);
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
	ok(mask_match(m, nul, sizeof(nul) - 1), "a NUL does not hide what follows it");
	ok(!mask_match(m, "pass\0word=x", 11), "a NUL is a character, not nothing");
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
	mask_stream_free(NULL);
	ok(1, "mask_free(NULL), mask_stream_free(NULL) are fine");

	test_env();
	test_stream();

	return tap_done();
}
