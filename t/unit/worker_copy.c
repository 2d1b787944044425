/* t/unit/worker_copy.c: the worker's line splitter, COPY text escaping and
 * the binary format's cleaning (worker/lines.c, from
 * build/libspiderpig-worker.a). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "tap.h"

static int
esc_is(const char *in, size_t n, const char *want, const char *what)
{
	char	out[256];
	size_t	len = copy_escape(out, in, n);
	int	good = len == strlen(want) && memcmp(out, want, len) == 0;

	ok(good, "%s", what);
	if (!good)
		printf("# got \"%.*s\"\n", (int)len, out);
	return good;
}

static int
clean_is(const char *in, size_t n, const char *want, size_t wantlen,
    const char *what)
{
	char	out[256];
	size_t	len = copy_clean(out, in, n);
	int	good = len == wantlen && memcmp(out, want, len) == 0;

	ok(good, "copy_clean: %s", what);
	return good;
}

/* Collected lines, joined with '|' and their lengths. */
struct got {
	char	 buf[1 << 20];
	size_t	 len;
	size_t	 n;
	size_t	 lens[64];
	int	 mores[64];
};

static void
collect(void *arg, const char *line, size_t len, int more)
{
	struct got	*g = arg;

	if (g->n < 64) {
		g->lens[g->n] = len;
		g->mores[g->n] = more;
	}
	g->n++;
	if (g->len + len + 1 < sizeof(g->buf)) {
		memcpy(g->buf + g->len, line, len);
		g->len += len;
		g->buf[g->len++] = '|';
		g->buf[g->len] = '\0';
	}
}

static void
split(struct got *g, const char *const *chunks)
{
	struct lines	l;

	memset(g, 0, sizeof(*g));
	if (lines_init(&l) == -1)
		abort();
	for (; *chunks != NULL; chunks++)
		lines_feed(&l, *chunks, strlen(*chunks), collect, g);
	lines_finish(&l, collect, g);
	lines_free(&l);
}

int
main(void)
{
	struct got	*g = malloc(sizeof(*g));
	struct lines	 l;
	char		*big, ts[40];
	size_t		 i, total;

	esc_is("plain text", 10, "plain text", "plain text is unchanged");
	esc_is("a\tb", 3, "a\\tb", "tab becomes \\t");
	esc_is("a\nb", 3, "a\\nb", "newline becomes \\n");
	esc_is("a\rb", 3, "a\\rb", "CR becomes \\r");
	esc_is("C:\\dir\\", 7, "C:\\\\dir\\\\", "backslash is doubled");
	esc_is("\\.", 2, "\\\\.", "an end-of-data marker cannot be forged");
	esc_is("a\0b", 3, "a\xEF\xBF\xBD" "b", "NUL becomes U+FFFD");
	esc_is("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x9A\x80", 14,
	    "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x9A\x80", "valid UTF-8 is kept");
	esc_is("\xFF" "x", 2, "\xEF\xBF\xBD" "x", "an invalid byte becomes U+FFFD");
	esc_is("\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", "an overlong is replaced");
	esc_is("\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
	    "a surrogate is replaced");
	esc_is("\xE2\x9C", 2, "\xEF\xBF\xBD\xEF\xBF\xBD", "a truncated character is replaced");
	esc_is("\x01\x7f", 2, "\x01\x7f", "other control bytes pass (valid in text)");

	copy_format_time(ts, 1700000000123456LL);
	ok(strcmp(ts, "2023-11-14 22:13:20.123456+00") == 0, "timestamps are UTC with microseconds");
	copy_format_time(ts, 0);
	ok(strcmp(ts, "1970-01-01 00:00:00.000000+00") == 0, "the epoch formats");

	split(g, (const char *[]){ "one\ntwo\n", NULL });
	ok(strcmp(g->buf, "one|two|") == 0, "two lines in one read");
	split(g, (const char *[]){ "on", "e\ntw", "o", NULL });
	ok(strcmp(g->buf, "one|two|") == 0, "lines across reads; last line without newline");
	split(g, (const char *[]){ "a\r\nb\rc\n\n", NULL });
	ok(strcmp(g->buf, "a|b\rc||") == 0, "CRLF drops the CR; lone CR kept; empty line kept");
	split(g, (const char *[]){ "", NULL });
	ok(g->n == 0, "no input, no lines");

	/* A line longer than the cap is split into capped pieces. */
	total = 3 * LINES_MAX + 10;
	big = malloc(total + 2);
	memset(big, 'x', total);
	big[total] = '\n';
	big[total + 1] = '\0';
	split(g, (const char *[]){ big, "tail\n", NULL });
	ok(g->n == 5 && g->lens[0] == LINES_MAX && g->lens[1] == LINES_MAX &&
	    g->lens[2] == LINES_MAX && g->lens[3] == 10 && g->lens[4] == 4,
	    "a long line is cut into 64 KiB pieces");
	ok(g->mores[0] && g->mores[1] && g->mores[2] && !g->mores[3] &&
	    !g->mores[4], "every piece but the last says the line goes on");
	/* Exactly the cap, fed byte by byte, stays one line. */
	memset(g, 0, sizeof(*g));
	lines_init(&l);
	for (i = 0; i < LINES_MAX; i++)
		lines_feed(&l, "y", 1, collect, g);
	lines_feed(&l, "\n", 1, collect, g);
	lines_finish(&l, collect, g);
	lines_free(&l);
	ok(g->n == 1 && g->lens[0] == LINES_MAX && !g->mores[0],
	    "a line of exactly 64 KiB stays whole");
	/* A cut does not split a UTF-8 character. */
	memset(big, 'x', LINES_MAX - 1);
	memcpy(big + LINES_MAX - 1, "\xC3\xA9z\n", 5);
	split(g, (const char *[]){ big, NULL });
	ok(g->n == 2 && g->lens[0] == LINES_MAX - 1 && g->lens[1] == 3,
	    "a cut moves before a multi-byte character");
	free(big);
	free(g);

	clean_is("a\tb\\c\nd\re", 9, "a\tb\\c\nd\re", 9,
	    "tab, backslash, newline and CR stay as they are");
	clean_is("x\0y", 3, "x\xEF\xBF\xBDy", 5, "NUL becomes U+FFFD");
	clean_is("\xC3\xA9\xFF", 3, "\xC3\xA9\xEF\xBF\xBD", 5,
	    "valid UTF-8 stays, an invalid byte becomes U+FFFD");
	clean_is("\x1b[31m", 5, "\x1b[31m", 5,
	    "other control characters are stored (the readers escape them)");

	return tap_done();
}
