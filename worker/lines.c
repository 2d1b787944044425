/* lines.c: line splitting and COPY text escaping for captured output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lines.h"

int
lines_init(struct lines *l)
{
	l->len = 0;
	l->buf = malloc(LINES_MAX);
	return l->buf == NULL ? -1 : 0;
}

void
lines_free(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = 0;
}

static void
lines_emit_line(const char *line, size_t len, lines_emit_fn emit, void *arg)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	emit(arg, line, len, 0);
}

/*
 * Where to cut a full buffer when next (the first byte after it) continues
 * the same line: before the lead byte of a character that next continues,
 * so a piece does not end in half a character. Always cuts at least
 * LINES_MAX - 3 bytes.
 */
size_t
lines_cut(const char *buf, size_t len, unsigned char next)
{
	size_t	j;

	if ((next & 0xC0) != 0x80)
		return len;
	for (j = len; j > 0 && j + 3 >= len; j--) {
		unsigned char c = (unsigned char)buf[j - 1];

		if ((c & 0xC0) == 0xC0)
			return j - 1 > 0 ? j - 1 : len;
		if ((c & 0xC0) != 0x80)
			break;
	}
	return len;
}

void
lines_feed(struct lines *l, const char *data, size_t n, lines_emit_fn emit,
    void *arg)
{
	const char	*nl;
	size_t		 seg, take, cut;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		seg = nl != NULL ? (size_t)(nl - data) : n;
		if (l->len == 0 && nl != NULL && seg <= LINES_MAX) {
			lines_emit_line(data, seg, emit, arg);
			data += seg + 1;
			n -= seg + 1;
			continue;
		}
		take = seg < LINES_MAX - l->len ? seg : LINES_MAX - l->len;
		memcpy(l->buf + l->len, data, take);
		l->len += take;
		data += take;
		n -= take;
		seg -= take;
		if (seg == 0 && nl != NULL) {
			lines_emit_line(l->buf, l->len, emit, arg);
			l->len = 0;
			data++;
			n--;
			continue;
		}
		if (l->len == LINES_MAX && n > 0) {
			/* The line goes on past the cap: emit a piece. */
			cut = lines_cut(l->buf, l->len, (unsigned char)data[0]);
			emit(arg, l->buf, cut, 1);
			memmove(l->buf, l->buf + cut, l->len - cut);
			l->len -= cut;
		}
	}
}

void
lines_finish(struct lines *l, lines_emit_fn emit, void *arg)
{
	if (l->len > 0)
		emit(arg, l->buf, l->len, 0);
	l->len = 0;
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one (RFC 3629: no overlongs, surrogates or code
 * points past U+10FFFF).
 */
size_t
utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xBF;
	size_t		need, i;

	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return need;
}

/* copy_escape, and copy_clean when escape is 0. */
static size_t
copy_field(char *dst, const char *src, size_t n, int escape)
{
	const unsigned char	*s = (const unsigned char *)src;
	char			*d = dst;
	size_t			 i = 0, k;

	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			if ((k = utf8_valid_len(s + i, n - i)) == 0) {
				memcpy(d, "\xEF\xBF\xBD", 3);
				d += 3;
				i++;
			} else {
				memcpy(d, s + i, k);
				d += k;
				i += k;
			}
			continue;
		}
		if (c == '\0') {
			memcpy(d, "\xEF\xBF\xBD", 3);
			d += 3;
		} else if (!escape)
			*d++ = (char)c;
		else if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
			*d++ = '\\';
			*d++ = c == '\\' ? '\\' : c == '\t' ? 't' :
			    c == '\n' ? 'n' : 'r';
		} else
			*d++ = (char)c;
		i++;
	}
	return (size_t)(d - dst);
}

size_t
copy_escape(char *dst, const char *src, size_t n)
{
	return copy_field(dst, src, n, 1);
}

size_t
copy_clean(char *dst, const char *src, size_t n)
{
	return copy_field(dst, src, n, 0);
}

size_t
copy_format_time(char *out, int64_t epoch_usec)
{
	time_t		 secs;
	long		 usec;
	struct tm	 tm;
	int		 len;

	secs = (time_t)(epoch_usec / 1000000);
	usec = (long)(epoch_usec % 1000000);
	if (usec < 0) {
		usec += 1000000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	len = snprintf(out, 40, "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, usec);
	return len < 0 ? 0 : (size_t)len;
}
