/* mask.c: sensitive-line detection with POSIX ERE (regcomp/regexec), literal
 * secrets starred out, and the per-stream rules that look across lines. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mask.h"

struct mask_literal {
	char	*s;
	size_t	 len;
};

struct mask {
	regex_t			*re;
	size_t			 n;
	struct mask_literal	*lit;
	size_t			 nlit;
	size_t			 litmax;	/* longest literal */
	char			*scratch;	/* NUL-terminated line for regexec */
	size_t			 scratchsz;
};

struct mask_stream {
	struct mask	*m;
	size_t		 max;
	char		*cur;		/* the piece being looked at (redacted) */
	char		*held;		/* a piece waiting for the next one */
	size_t		 heldlen;
	int		 holding;
	char		*win;		/* text across a cut (see _new) */
	char		 tail[MASK_WINDOW];	/* end of the last piece emitted */
	size_t		 taillen;
	int		 in_line;	/* a cut line is going on */
	int		 sticky;	/* ... and has been sensitive */
	int		 carry;		/* the next line is sensitive */
};

/* The bytes a NUL is stored as (lines.c: copy_escape). */
static const char	mask_nul[] = "\xEF\xBF\xBD";

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
		/* No REG_NOSUB: mask_open_end() needs where a match ends. */
		rc = regcomp(&m->re[i], patterns[i], REG_EXTENDED | REG_ICASE);
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
mask_add_literal(struct mask *m, const char *s, size_t len)
{
	struct mask_literal	*p;
	size_t			 i;

	if (len < MASK_LITERAL_MIN)
		return 0;
	for (i = 0; i < m->nlit; i++)
		if (m->lit[i].len == len && memcmp(m->lit[i].s, s, len) == 0)
			return 0;
	if ((p = realloc(m->lit, (m->nlit + 1) * sizeof(*p))) == NULL)
		return -1;
	m->lit = p;
	if ((p[m->nlit].s = malloc(len)) == NULL)
		return -1;
	memcpy(p[m->nlit].s, s, len);
	p[m->nlit].len = len;
	m->nlit++;
	if (len > m->litmax)
		m->litmax = len;
	return 0;
}

/* 1 when the environment key (klen bytes) names a secret. */
static int
mask_key_is_secret(const char *key, size_t klen)
{
	static const char *const words[] = { "PASS", "SECRET", "TOKEN", "KEY",
	    "AUTH", "CRED", "PRIVATE", "COOKIE", "SESSION" };
	size_t	 i, w, off;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		w = strlen(words[i]);
		for (off = 0; off + w <= klen; off++)
			if (strncasecmp(key + off, words[i], w) == 0)
				return 1;
	}
	return 0;
}

/* The password of a "scheme://user:password@host" URL in v, as a
 * literal. */
static int
mask_add_userinfo(struct mask *m, const char *v)
{
	const char	*p = strstr(v, "://"), *at, *colon;
	size_t		 auth;

	if (p == NULL)
		return 0;
	p += 3;
	auth = strcspn(p, "/?#");
	if ((at = memchr(p, '@', auth)) == NULL ||
	    (colon = memchr(p, ':', (size_t)(at - p))) == NULL)
		return 0;
	return mask_add_literal(m, colon + 1, (size_t)(at - colon - 1));
}

int
mask_add_env(struct mask *m, char *const *env, size_t n)
{
	const char	*eq;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if ((eq = strchr(env[i], '=')) == NULL)
			continue;
		if (mask_key_is_secret(env[i], (size_t)(eq - env[i])) &&
		    mask_add_literal(m, eq + 1, strlen(eq + 1)) == -1)
			return -1;
		if (mask_add_userinfo(m, eq + 1) == -1)
			return -1;
	}
	return 0;
}

/* 1 when s[0..len) holds only blanks. */
static int
mask_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* 1 when some match of re in s (len bytes, NUL-terminated) has only blanks
 * after it. Matches are tried left to right without overlap. */
static int
mask_open_end(const regex_t *re, const char *s, size_t len)
{
	regmatch_t	pm;
	size_t		off = 0;

	while (off <= len &&
	    regexec(re, s + off, 1, &pm, off > 0 ? REG_NOTBOL : 0) == 0) {
		if (mask_blank(s + off + pm.rm_eo, len - off - (size_t)pm.rm_eo))
			return 1;
		off += pm.rm_eo > pm.rm_so ? (size_t)pm.rm_eo :
		    (size_t)pm.rm_so + 1;
	}
	return 0;
}

/* Copy line into the scratch buffer, each NUL as U+FFFD, NUL-terminated.
 * Returns the copy's length, or (size_t)-1 when out of memory. */
static size_t
mask_scratch(struct mask *m, const char *line, size_t len)
{
	size_t	 i, k = 0, need = 3 * len + 1;
	char	*p;

	if (need > m->scratchsz) {
		if ((p = realloc(m->scratch, need)) == NULL)
			return (size_t)-1;
		m->scratch = p;
		m->scratchsz = need;
	}
	for (i = 0; i < len; i++) {
		if (line[i] == '\0') {
			memcpy(m->scratch + k, mask_nul, 3);
			k += 3;
		} else
			m->scratch[k++] = line[i];
	}
	m->scratch[k] = '\0';
	return k;
}

/*
 * Whether line is sensitive; with open_end, also whether a match has only
 * blanks after it (the value is on the next line).
 */
static int
mask_scan(struct mask *m, const char *line, size_t len, int *open_end)
{
	size_t	 i, k;
	int	 hit = 0;

	if (open_end != NULL)
		*open_end = 0;
	if (m == NULL)
		return 0;
	for (i = 0; i < m->nlit; i++)
		if (memmem(line, len, m->lit[i].s, m->lit[i].len) != NULL)
			return 1;
	if (m->n == 0)
		return 0;
	if ((k = mask_scratch(m, line, len)) == (size_t)-1)
		return 1;
	for (i = 0; i < m->n; i++) {
		if (regexec(&m->re[i], m->scratch, 0, NULL, 0) != 0)
			continue;
		hit = 1;
		if (open_end == NULL)
			break;
		if (mask_open_end(&m->re[i], m->scratch, k)) {
			*open_end = 1;
			break;
		}
	}
	return hit;
}

int
mask_match(struct mask *m, const char *line, size_t len)
{
	return mask_scan(m, line, len, NULL);
}

size_t
mask_redact(struct mask *m, char *line, size_t len)
{
	size_t	 i, n = 0;
	char	*p, *end = line + len;

	if (m == NULL)
		return 0;
	for (i = 0; i < m->nlit; i++)
		for (p = line; (p = memmem(p, (size_t)(end - p), m->lit[i].s,
		    m->lit[i].len)) != NULL; p += m->lit[i].len) {
			memset(p, '*', m->lit[i].len);
			n += m->lit[i].len;
		}
	return n;
}

int
mask_line(struct mask *m, char *line, size_t len)
{
	int	redacted = mask_redact(m, line, len) > 0;

	return mask_match(m, line, len) || redacted;
}

void
mask_free(struct mask *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		regfree(&m->re[i]);
	for (i = 0; i < m->nlit; i++)
		free(m->lit[i].s);
	free(m->lit);
	free(m->re);
	free(m->scratch);
	free(m);
}

struct mask_stream *
mask_stream_new(struct mask *m, size_t maxlen)
{
	struct mask_stream	*ms;

	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return NULL;
	ms->m = m;
	ms->max = maxlen;
	if ((ms->cur = malloc(maxlen + 1)) == NULL ||
	    (ms->held = malloc(maxlen + 1)) == NULL ||
	    (ms->win = malloc(maxlen + MASK_WINDOW +
	    (m != NULL ? 2 * m->litmax : 0))) == NULL) {
		mask_stream_free(ms);
		return NULL;
	}
	return ms;
}

void
mask_stream_free(struct mask_stream *ms)
{
	if (ms == NULL)
		return;
	free(ms->cur);
	free(ms->held);
	free(ms->win);
	free(ms);
}

/*
 * Star out literals that run across the cut between the held piece and
 * cur (len bytes). Returns 1 when one did.
 */
static int
mask_stream_redact_cut(struct mask_stream *ms, size_t len)
{
	size_t	 k, a, b;

	if (ms->m == NULL || ms->m->litmax < 2)
		return 0;
	k = ms->m->litmax - 1;
	a = ms->heldlen < k ? ms->heldlen : k;
	b = len < k ? len : k;
	memcpy(ms->win, ms->held + ms->heldlen - a, a);
	memcpy(ms->win + a, ms->cur, b);
	if (mask_redact(ms->m, ms->win, a + b) == 0)
		return 0;
	memcpy(ms->held + ms->heldlen - a, ms->win, a);
	memcpy(ms->cur, ms->win + a, b);
	return 1;
}

/* Remember the last MASK_WINDOW bytes of an emitted piece, so the next
 * one is looked at with what came just before it. */
static void
mask_stream_keep_tail(struct mask_stream *ms, const char *s, size_t len)
{
	size_t	 k = len < MASK_WINDOW ? len : MASK_WINDOW;

	memcpy(ms->tail, s + len - k, k);
	ms->taillen = k;
}

/*
 * Emit the held piece, looked at together with the first MASK_WINDOW
 * bytes of cur (len bytes; none at the end of the stream).
 */
static void
mask_stream_emit_held(struct mask_stream *ms, size_t len, int cut_redacted,
    mask_emit_fn emit, void *arg)
{
	size_t	 b = len < MASK_WINDOW ? len : MASK_WINDOW;
	int	 sens;

	memcpy(ms->win, ms->held, ms->heldlen);
	memcpy(ms->win + ms->heldlen, ms->cur, b);
	sens = ms->sticky || cut_redacted ||
	    mask_scan(ms->m, ms->win, ms->heldlen + b, NULL);
	emit(arg, ms->held, ms->heldlen, sens);
	if (sens)
		ms->sticky = 1;
	mask_stream_keep_tail(ms, ms->held, ms->heldlen);
	ms->holding = 0;
}

/*
 * The last piece of a line (or a whole line) in cur: its verdict, with the
 * tail of the piece before it for a match across the cut and for an open
 * end ("password:" here, the value on the next line).
 */
static void
mask_stream_emit_last(struct mask_stream *ms, size_t len, int redacted,
    mask_emit_fn emit, void *arg)
{
	int	 sens, open;

	memcpy(ms->win, ms->tail, ms->taillen);
	memcpy(ms->win + ms->taillen, ms->cur, len);
	sens = mask_scan(ms->m, ms->win, ms->taillen + len, &open);
	emit(arg, ms->cur, len, sens || redacted || ms->sticky);
	if (open)
		ms->carry = 1;
	ms->in_line = 0;
	ms->sticky = 0;
	ms->taillen = 0;
}

void
mask_stream_put(struct mask_stream *ms, const char *line, size_t len, int more,
    mask_emit_fn emit, void *arg)
{
	char	*t;
	int	 redacted, cut_redacted = 0;

	if (len > ms->max)
		len = ms->max;
	memcpy(ms->cur, line, len);
	redacted = mask_redact(ms->m, ms->cur, len) > 0;
	if (!ms->in_line) {
		/* A new line: the one before may have asked for it. */
		ms->in_line = 1;
		if (ms->carry) {
			ms->sticky = 1;
			if (more || !mask_blank(ms->cur, len))
				ms->carry = 0;
		}
	}
	if (ms->holding) {
		cut_redacted = mask_stream_redact_cut(ms, len);
		mask_stream_emit_held(ms, len, cut_redacted, emit, arg);
	}
	if (more) {
		t = ms->held;
		ms->held = ms->cur;
		ms->cur = t;
		ms->heldlen = len;
		ms->holding = 1;
		if (redacted || cut_redacted)
			ms->sticky = 1;
		return;
	}
	mask_stream_emit_last(ms, len, redacted || cut_redacted, emit, arg);
}

void
mask_stream_end(struct mask_stream *ms, mask_emit_fn emit, void *arg)
{
	if (ms->holding) {
		mask_stream_emit_held(ms, 0, 0, emit, arg);
		ms->in_line = 0;
		ms->sticky = 0;
		ms->taillen = 0;
	}
}
