/*
 * fuzz/mask_lines.c: libFuzzer harness for the worker's output handling:
 * the line splitter (checked against a byte-at-a-time model of its
 * contract, with the input cut into reads at fuzzer-chosen places), COPY
 * escaping (no raw separators, valid UTF-8 out, reversible for valid
 * input) and mask matching of every line.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -DLINES_MAX=16 -Ilib \
 *     fuzz/mask_lines.c lib/mask.c -o build/fuzz/mask_lines
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "mask.h"

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

static void
collect(void *arg, const char *line, size_t len)
{
	struct got	*g = arg;

	if (len > LINES_MAX || memchr(line, '\n', len) != NULL)
		abort();
	memcpy(g->buf + g->len, line, len);
	g->len += len;
	g->buf[g->len++] = '\n';
	g->n++;
	check_escape(line, len);
	(void)mask_match(fz_mask, line, len);
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
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct got	 got, want;
	struct lines	 l;
	size_t		 off = 0, step;
	uint8_t		 seed;
	char		 err[128];
	char		*pats[] = { "(password|secret|token)[=:]", "^[a-z]+$" };

	if (fz_mask == NULL && (fz_mask = mask_compile(pats, 2, err,
	    sizeof(err))) == NULL)
		abort();
	if (size < 1)
		return 0;
	seed = data[0];		/* chooses the read sizes */
	data++;
	size--;
	/* Worst case: a separator after every byte. */
	got.buf = malloc(2 * size + 2);
	want.buf = malloc(2 * size + 2);
	got.len = got.n = want.len = want.n = 0;
	if (lines_init(&l) == -1)
		abort();
	while (off < size) {
		step = (size_t)(seed % 7) + 1;
		seed = (uint8_t)(seed * 37 + 11);
		if (step > size - off)
			step = size - off;
		lines_feed(&l, (const char *)data + off, step, collect, &got);
		off += step;
	}
	lines_finish(&l, collect, &got);
	lines_free(&l);
	model(data, size, &want);
	if (got.n != want.n || got.len != want.len ||
	    memcmp(got.buf, want.buf, got.len) != 0)
		abort();
	free(got.buf);
	free(want.buf);
	return 0;
}
