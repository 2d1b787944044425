/* gitsrc.h: the git patch source: changes under refs/changes/NN/CHANGE/PS
 * on a remote, cherry-picked onto the deploy branch of a work tree ([git]
 * in the config; stage kind git-cherry-pick). */
#ifndef SPIDERPIG_GITSRC_H
#define SPIDERPIG_GITSRC_H

#include <stddef.h>

#include "run.h"

struct worker;
struct job;

/* One change to pick: its number and the patchset a URL pinned (0: the
 * newest on the remote). */
struct gitsrc_change {
	long long	 change;
	int		 pinned;
};

/*
 * Check out [git] branch in [git] dir, then for each change fetch its ref
 * from [git] remote and cherry-pick it (-x); a pick that does not apply is
 * aborted and fails the stage. Every git command runs through execve (no
 * shell) with its output in the deployment's log. Returns as
 * run_command() does.
 */
enum run_status	 gitsrc_cherry_pick(struct worker *, struct job *,
		    const struct gitsrc_change *, size_t n, int timeout_s,
		    int *ok, char *detail, size_t detailsz);

/*
 * The newest patchset of change in `git ls-remote` output (lines of
 * "<sha>\trefs/changes/NN/CHANGE/PS"), or 0 when none. Pure (unit-tested).
 */
int		 gitsrc_newest_patchset(const char *lsremote, long long change);

#endif
