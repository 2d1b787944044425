/* mask.h: decide which log lines are sensitive (secrets to hide in the UI). */
#ifndef SPIDERPIG_MASK_H
#define SPIDERPIG_MASK_H

#include <stddef.h>

struct mask;

/*
 * Compile n POSIX extended regular expressions, matched case-insensitively
 * anywhere in a line. Returns a mask (n may be 0: it matches nothing) or
 * NULL with a one-line reason ("mask 2: \"(oops\": parentheses not
 * balanced") in err. Free with mask_free().
 */
struct mask	*mask_compile(char *const *patterns, size_t n, char *err,
		    size_t errsz);

/*
 * 1 when any pattern matches the first len bytes of line, else 0. line need
 * not be NUL-terminated; bytes after a NUL inside it are not looked at.
 * Safe to call from one thread at a time per mask (regexec is reentrant, the
 * scratch buffer is not).
 */
int		 mask_match(struct mask *, const char *line, size_t len);

/* Free a mask; NULL is fine. */
void		 mask_free(struct mask *);

#endif
