/* lines.h: pure helpers for log capture: split a byte stream into lines and
 * escape a line for COPY ... FROM STDIN (text format). No I/O, no globals:
 * unit-tested in t/unit/worker_copy.c and fuzzed by fuzz/mask_lines.c. */
#ifndef SPIDERPIG_LINES_H
#define SPIDERPIG_LINES_H

#include <stddef.h>
#include <stdint.h>

/* Longest line kept whole; longer ones are split into pieces this long.
 * (The fuzz build makes it small to reach the cuts with short inputs.) */
#ifndef LINES_MAX
#define LINES_MAX	(64 * 1024)
#endif

/* Called for each complete line (no "\n"), or piece of a line cut at
 * LINES_MAX with more = 1 (the line goes on in the next call); line is
 * valid only during the call. */
typedef void (*lines_emit_fn)(void *arg, const char *line, size_t len,
    int more);

/* The partial line carried between reads of one stream. */
struct lines {
	char	*buf;		/* LINES_MAX bytes */
	size_t	 len;
};

/* Allocate the carry buffer. Returns 0 or -1 (out of memory). */
int	 lines_init(struct lines *);
/* Free the carry buffer (safe on a zeroed or freed struct). */
void	 lines_free(struct lines *);

/*
 * Feed n bytes of a stream. Each "\n" ends a line (one "\r" right before it
 * is dropped, so CRLF output reads the same). A line reaching LINES_MAX bytes
 * is emitted in pieces of at most LINES_MAX bytes, cut before a UTF-8
 * character when possible. Lines fully inside data are emitted without a
 * copy.
 */
void	 lines_feed(struct lines *, const char *data, size_t n,
	    lines_emit_fn, void *arg);

/* End of stream: emit the unterminated last line, if any. */
void	 lines_finish(struct lines *, lines_emit_fn, void *arg);

/* Where to cut a too-long line of len bytes in buf (next: the byte after
 * it) so no UTF-8 character is split; at least LINES_MAX - 3. */
size_t	 lines_cut(const char *buf, size_t len, unsigned char next);
/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
size_t	 utf8_valid_len(const unsigned char *s, size_t n);

/*
 * Write src as a COPY text-format field into dst: backslash, tab, newline
 * and CR become \\ \t \n \r; NUL bytes and byte sequences that are not
 * valid UTF-8 (PostgreSQL rejects both) become U+FFFD. dst must hold
 * COPY_ESCAPE_MAX(n) bytes. Returns the bytes written (no NUL added).
 */
#define COPY_ESCAPE_MAX(n)	(3 * (n))
size_t	 copy_escape(char *dst, const char *src, size_t n);

/*
 * The same value for a COPY binary-format field: what copy_escape's field
 * stores once COPY has read it (NUL and invalid UTF-8 as U+FFFD, every
 * other byte as it is). dst must hold COPY_ESCAPE_MAX(n) bytes. Returns
 * the bytes written.
 */
size_t	 copy_clean(char *dst, const char *src, size_t n);

/*
 * Format a timestamp (microseconds since the Unix epoch) as a timestamptz
 * literal in UTC, "2024-05-01 12:00:00.123456+00". out must hold 40 bytes.
 * Returns the length.
 */
size_t	 copy_format_time(char *out, int64_t epoch_usec);

#endif
