/* mask.c: sensitive-line detection with POSIX ERE (regcomp/regexec). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"

struct mask {
	regex_t	*re;
	size_t	 n;
	char	*scratch;	/* NUL-terminated copy of the line */
	size_t	 scratchsz;
};

struct mask *
mask_compile(char *const *patterns, size_t n, char *err, size_t errsz)
{
	struct mask	*m;
	size_t		 i;
	int		 rc;
	char		 why[128];

	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto oom;
	if (n > 0 && (m->re = calloc(n, sizeof(*m->re))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		rc = regcomp(&m->re[i], patterns[i],
		    REG_EXTENDED | REG_ICASE | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &m->re[i], why, sizeof(why));
			snprintf(err, errsz, "mask %zu: \"%s\": %s", i + 1,
			    patterns[i], why);
			mask_free(m);
			return NULL;
		}
		m->n = i + 1;
	}
	return m;
oom:
	snprintf(err, errsz, "out of memory");
	mask_free(m);
	return NULL;
}

int
mask_match(struct mask *m, const char *line, size_t len)
{
	size_t	i;
	char	*p;

	if (m == NULL || m->n == 0)
		return 0;
	if (len + 1 > m->scratchsz) {
		if ((p = realloc(m->scratch, len + 1)) == NULL)
			return 1;	/* cannot tell: err on the side of hiding */
		m->scratch = p;
		m->scratchsz = len + 1;
	}
	memcpy(m->scratch, line, len);
	m->scratch[len] = '\0';
	for (i = 0; i < m->n; i++)
		if (regexec(&m->re[i], m->scratch, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

void
mask_free(struct mask *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		regfree(&m->re[i]);
	free(m->re);
	free(m->scratch);
	free(m);
}
