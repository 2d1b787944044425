/* gerrit.h: the worker's Gerrit REST client ([gerrit] in the config), on
 * top of lib/httpc (the one HTTP client). */
#ifndef SPIDERPIG_GERRIT_H
#define SPIDERPIG_GERRIT_H

#include <stddef.h>

#include "cfg.h"
#include "gerrit_json.h"

/* Seconds one request may take at most (and at most half the lease). */
#define GERRIT_TIMEOUT_S	10

/* Call once at startup, before anything else uses libcurl (httpc_init).
 * 0 or -1. */
int	 gerrit_init(void);

/*
 * GET the change (pin > 0: that patchset's revision) into *out. Returns 0,
 * or -1 with a one-line reason in err naming what went wrong (HTTP status,
 * transport error, malformed answer), never a secret.
 */
int	 gerrit_fetch(const struct cfg *, long long change, int pin,
	    struct gerrit_change *out, char *err, size_t errsz);

/* GET .../revisions/{rev}/mergeable into *mergeable (0 or 1). 0 or -1. */
int	 gerrit_mergeable(const struct cfg *, long long change,
	    const char *revision, int *mergeable, char *err, size_t errsz);

/* POST .../revisions/{rev}/review with Code-Review +2, as [gerrit] user
 * with the password read from password_file. 0 or -1. */
int	 gerrit_approve(const struct cfg *, long long change,
	    const char *revision, char *err, size_t errsz);

#endif
