/* mask.h: decide which log lines are sensitive (secrets to hide in the UI),
 * and star out the literal secrets the worker itself hands to stages. */
#ifndef SPIDERPIG_MASK_H
#define SPIDERPIG_MASK_H

#include <stddef.h>

struct mask;

/* Literals shorter than this are not masked: they would star out ordinary
 * words everywhere. */
#define MASK_LITERAL_MIN	4

/* How far past a cut of a long line a pattern match is looked for (see
 * mask_stream_put). */
#define MASK_WINDOW		1024

/*
 * Compile n POSIX extended regular expressions, matched case-insensitively
 * anywhere in a line. Returns a mask (n may be 0: it matches nothing) or
 * NULL with a one-line reason ("mask 2: \"(oops\": parentheses not
 * balanced") in err. Free with mask_free().
 */
struct mask	*mask_compile(char *const *patterns, size_t n, char *err,
		    size_t errsz);

/* Add one literal secret (copied; ignored when shorter than
 * MASK_LITERAL_MIN). Returns 0, or -1 when out of memory. */
int		 mask_add_literal(struct mask *, const char *s, size_t len);

/*
 * Add the secrets among n "KEY=VALUE" environment entries as literals: the
 * value of every key that names a secret (it contains PASS, SECRET, TOKEN,
 * KEY, AUTH, CRED, PRIVATE, COOKIE or SESSION, in any case), and the
 * password of a URL's "user:password@" in any value. Returns 0, or -1 when
 * out of memory.
 */
int		 mask_add_env(struct mask *, char *const *env, size_t n);

/*
 * 1 when any pattern matches the first len bytes of line or a literal
 * occurs in them, else 0 (1 too when memory runs out: err on the side of
 * hiding). line need not be NUL-terminated; a NUL inside it is looked at as
 * the U+FFFD it is stored as, so it hides nothing that follows it.
 * One thread at a time per mask (the scratch buffer is shared).
 */
int		 mask_match(struct mask *, const char *line, size_t len);

/* Overwrite every occurrence of a literal in line with '*' (the length
 * stays). Returns the number of bytes overwritten. */
size_t		 mask_redact(struct mask *, char *line, size_t len);

/* One line on its own (the worker's own messages): mask_redact, then
 * whether it is sensitive (a literal was there, or mask_match). */
int		 mask_line(struct mask *, char *line, size_t len);

/* Free a mask; NULL is fine. */
void		 mask_free(struct mask *);

/*
 * A stream of lines (one per output pipe), masked with what the lines
 * around each one say:
 * - a line whose pattern match has only blanks after it ("password:")
 *   makes the next line sensitive (blank lines in between pass it on);
 * - a line cut in pieces (more = 1 on every piece but the last) is looked
 *   at across each cut: a piece is held back until the next one comes, so
 *   a literal cut in two is starred out on both sides and a match that
 *   starts in a piece and ends up to MASK_WINDOW bytes into the next one
 *   counts for it; once a piece is sensitive, every later piece of the same
 *   line is too.
 * emit gets each line or piece, redacted, in order, with its verdict; the
 * text is valid only during the call.
 */
typedef void	(*mask_emit_fn)(void *arg, const char *line, size_t len,
		    int sensitive);
struct mask_stream;

/* A stream over m (not owned; its literals all added) whose pieces are
 * at most maxlen bytes. NULL when out of memory. */
struct mask_stream *mask_stream_new(struct mask *m, size_t maxlen);
/* One line (more = 0) or piece of one (more = 1); len is capped at maxlen. */
void		 mask_stream_put(struct mask_stream *, const char *line,
		    size_t len, int more, mask_emit_fn, void *arg);
/* End of stream: emit a piece still held back. */
void		 mask_stream_end(struct mask_stream *, mask_emit_fn, void *arg);
/* NULL is fine. */
void		 mask_stream_free(struct mask_stream *);

#endif
