/* gerrit_json.h: Gerrit REST answers (ChangeInfo, MergeableInfo) parsed
 * into fixed-size structs. Pure: no I/O, so the fuzz harness
 * (fuzz/gerrit_json.c) runs the same code the worker does. */
#ifndef SPIDERPIG_GERRIT_JSON_H
#define SPIDERPIG_GERRIT_JSON_H

#include <stddef.h>

/* Hard caps on what we keep from an answer. */
#define GERRIT_BODY_MAX		(1024 * 1024)	/* bytes of one answer */
#define GERRIT_VOTES_MAX	32		/* Code-Review votes kept */

struct gerrit_vote {
	char	 who[128];
	int	 value;
};

/* What a deployment needs to know about one change. */
struct gerrit_change {
	long long	 number;
	char		 project[256];
	char		 branch[256];
	char		 subject[1001];
	char		 owner[256];
	char		 status[16];		/* NEW, MERGED or ABANDONED */
	int		 patchset;		/* of revision */
	char		 revision[41];		/* the pinned or current one */
	int		 current_patchset;
	char		 current_revision[41];
	struct gerrit_vote cr[GERRIT_VOTES_MAX];
	size_t		 ncr;
	int		 cr_min, cr_max;	/* 0 when nobody voted */
	char		 cr_min_who[128];	/* who gave cr_min */
	int		 verified_set;		/* 0: no CI verdict yet */
	int		 verified;		/* the lowest Verified vote */
};

/*
 * Parse a GET /changes/{id}?o=CURRENT_REVISION&o=ALL_REVISIONS&
 * o=DETAILED_LABELS&o=DETAILED_ACCOUNTS answer (body[0..len), which must
 * start with Gerrit's ")]}'" line). pin > 0 picks that patchset's revision
 * instead of the current one. Returns 0, or -1 with a one-line reason in
 * err (never quoting the body at length).
 */
int	 gerrit_change_parse(const char *body, size_t len, int pin,
	    struct gerrit_change *out, char *err, size_t errsz);

/* Parse a GET .../revisions/{rev}/mergeable answer (MergeableInfo) into
 * *mergeable (0 or 1). Returns 0, or -1 with err. */
int	 gerrit_mergeable_parse(const char *body, size_t len, int *mergeable,
	    char *err, size_t errsz);

/* The change as the JSON change_record() takes; mergeable < 0: unknown.
 * A new string (free()) or NULL when out of memory. */
char	*gerrit_change_json(const struct gerrit_change *, int mergeable);

/* "CR +2 -1, Verified +1" into buf. */
void	 gerrit_votes_text(const struct gerrit_change *, char *buf,
	    size_t bufsz);

#endif
