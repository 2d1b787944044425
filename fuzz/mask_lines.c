/*
 * fuzz/mask_lines.c: libFuzzer harness for the worker's output handling:
 * the line splitter (checked against a byte-at-a-time model of its
 * contract, with the input cut into reads at fuzzer-chosen places), COPY
 * escaping (no raw separators, valid UTF-8 out, reversible for valid
 * input) and the masking of what it emits, with planted secrets.
 *
 * Planting: the input (after its first byte, which picks the read sizes)
 * is the stage's output, except that a 0xFF byte followed by a selector
 * plants a secret there, one of the ways masking used to be bypassed:
 *   0: the literal "~Lit~Sec~" (a secret from the stage environment);
 *   1: "password=`Kw`"; 2: "\0password=`Nul`" (a NUL before it);
 *   3: "password:\n`Next`" (the value on the next line);
 *   4, then a byte n: LINES_MAX - n filler bytes, so that a short input
 *      reaches the 64 KiB cut and can put a secret across it (three times
 *      per input at most; after that 4 plants the literal).
 * Every other '~' and '`' is replaced, so these bytes come only from
 * plants. The oracle: no '~' is ever emitted (literals are starred out,
 * across cuts too), and every emitted piece holding a '`' is sensitive.
 *
 * Run by tools/fuzz, which links lib/ and worker/ (without main.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "mask.h"

static const char	*const fz_plants[] = {
	"~Lit~Sec~",
	"password=`Kw`",
	"\0password=`Nul`",
	"password:\n`Next`",
};
#define FZ_LITERAL	"~Lit~Sec~"

struct got {
	char	*buf;		/* lines, each followed by '\n' */
	size_t	 len;
	size_t	 n;
};

static struct mask	*fz_mask;

static void
check_escape(const char *line, size_t len)
{
	char	*out = malloc(COPY_ESCAPE_MAX(len) + 1), *back;
	size_t	 n = copy_escape(out, line, len), i, k, b = 0;
	int	 clean = 1;

	for (i = 0; i < n; ) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\t' || c == '\n' || c == '\r' || c == '\0')
			abort();	/* raw separator or NUL in COPY text */
		if (c >= 0x80) {
			if ((k = utf8_valid_len((const unsigned char *)out + i,
			    n - i)) == 0)
				abort();	/* invalid UTF-8 went out */
			i += k;
		} else
			i++;
	}
	/* Valid, NUL-free input must come back unchanged. */
	for (i = 0; i < len; ) {
		unsigned char c = (unsigned char)line[i];

		if (c == 0) {
			clean = 0;
			break;
		}
		if (c >= 0x80) {
			if ((k = utf8_valid_len((const unsigned char *)line + i,
			    len - i)) == 0) {
				clean = 0;
				break;
			}
			i += k;
		} else
			i++;
	}
	if (clean) {
		back = malloc(n + 1);
		for (i = 0; i < n; i++) {
			if (out[i] != '\\') {
				back[b++] = out[i];
				continue;
			}
			switch (out[++i]) {
			case '\\': back[b++] = '\\'; break;
			case 't': back[b++] = '\t'; break;
			case 'n': back[b++] = '\n'; break;
			case 'r': back[b++] = '\r'; break;
			default: abort();
			}
		}
		if (b != len || memcmp(back, line, len) != 0)
			abort();
		free(back);
	}
	free(out);
}

/* The masked output: the oracle. */
static void
check_masked(void *arg, const char *line, size_t len, int sensitive)
{
	(void)arg;
	if (len > LINES_MAX)
		abort();
	if (memchr(line, '~', len) != NULL)
		abort();	/* a literal secret survived */
	if (!sensitive && memchr(line, '`', len) != NULL)
		abort();	/* a planted secret is shown unmasked */
}

struct split {
	struct got		*got;
	struct mask_stream	*ms;
};

static void
collect(void *arg, const char *line, size_t len, int more)
{
	struct split	*sp = arg;
	struct got	*g = sp->got;

	if (len > LINES_MAX || memchr(line, '\n', len) != NULL)
		abort();
	memcpy(g->buf + g->len, line, len);
	g->len += len;
	g->buf[g->len++] = '\n';
	g->n++;
	check_escape(line, len);
	mask_stream_put(sp->ms, line, len, more, check_masked, NULL);
}

/*
 * The stage output the input stands for: plants expanded, '~' and '`'
 * only from plants. With out NULL only counts. Returns its length.
 */
static size_t
plant(const uint8_t *data, size_t size, char *out)
{
	size_t		 i, n = 0, k, fill, fills = 0;
	const char	*p;

	for (i = 0; i < size; i++) {
		if (data[i] == 0xFF && i + 1 < size) {
			k = data[++i] % 5;
			/* At most 3 fillers: a few cuts, not 100 MB inputs. */
			if (k == 4 && fills++ < 3) {
				fill = LINES_MAX - (i + 1 < size ? data[++i] : 0);
				if (out != NULL)
					memset(out + n, 'f', fill);
				n += fill;
				continue;
			}
			p = fz_plants[k % 4];
			if (out == NULL) {
				n += k % 4 == 2 ? 1 + strlen(p + 1) : strlen(p);
				continue;
			}
			/* Plant 2 starts with a NUL: strlen would stop there. */
			if (k % 4 == 2) {
				out[n++] = '\0';
				p++;
			}
			memcpy(out + n, p, strlen(p));
			n += strlen(p);
			continue;
		}
		if (out != NULL)
			out[n] = data[i] == '~' || data[i] == '`' ? '.' :
			    (char)data[i];
		n++;
	}
	return n;
}

/* The contract, one byte at a time. */
static void
model(const uint8_t *data, size_t size, struct got *g)
{
	char	buf[LINES_MAX];
	size_t	len = 0, i, cut;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n') {
			size_t l = len && buf[len - 1] == '\r' ? len - 1 : len;

			memcpy(g->buf + g->len, buf, l);
			g->len += l;
			g->buf[g->len++] = '\n';
			g->n++;
			len = 0;
			continue;
		}
		if (len == LINES_MAX) {
			cut = lines_cut(buf, len, data[i]);
			memcpy(g->buf + g->len, buf, cut);
			g->len += cut;
			g->buf[g->len++] = '\n';
			g->n++;
			memmove(buf, buf + cut, len - cut);
			len -= cut;
		}
		buf[len++] = (char)data[i];
	}
	if (len > 0) {
		memcpy(g->buf + g->len, buf, len);
		g->len += len;
		g->buf[g->len++] = '\n';
		g->n++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t rawsize)
{
	struct got	 got, want;
	struct split	 sp;
	struct lines	 l;
	size_t		 off = 0, step, size;
	uint8_t		 seed;
	char		 err[128], *data;
	char		*pats[] = { "(password|secret|token)[=:]", "^[a-z]+$" };

	if (fz_mask == NULL && ((fz_mask = mask_compile(pats, 2, err,
	    sizeof(err))) == NULL || mask_add_literal(fz_mask, FZ_LITERAL,
	    strlen(FZ_LITERAL)) == -1))
		abort();
	if (rawsize < 1)
		return 0;
	seed = raw[0];		/* chooses the read sizes */
	size = plant(raw + 1, rawsize - 1, NULL);
	if ((data = malloc(size + 1)) == NULL)
		abort();
	(void)plant(raw + 1, rawsize - 1, data);
	/* Worst case: a separator after every byte. */
	got.buf = malloc(2 * size + 2);
	want.buf = malloc(2 * size + 2);
	got.len = got.n = want.len = want.n = 0;
	sp.got = &got;
	if (lines_init(&l) == -1 ||
	    (sp.ms = mask_stream_new(fz_mask, LINES_MAX)) == NULL)
		abort();
	while (off < size) {
		step = (size_t)(seed % 7) + 1;
		seed = (uint8_t)(seed * 37 + 11);
		if (step > size - off)
			step = size - off;
		lines_feed(&l, data + off, step, collect, &sp);
		off += step;
	}
	lines_finish(&l, collect, &sp);
	mask_stream_end(sp.ms, check_masked, NULL);
	mask_stream_free(sp.ms);
	lines_free(&l);
	model((const uint8_t *)data, size, &want);
	if (got.n != want.n || got.len != want.len ||
	    memcmp(got.buf, want.buf, got.len) != 0)
		abort();
	free(got.buf);
	free(want.buf);
	free(data);
	return 0;
}
