/* stageuser.c: stage commands run as a user of their own (the operator's
 * stage user), so code a deployer controls cannot read the worker's files,
 * use its database role or signal it. The worker holds CAP_SETUID,
 * CAP_SETGID (to switch) and CAP_KILL (to stop the command's process group
 * afterwards) and nothing else; the commands hold none. A seccomp filter
 * pins the switch: the worker, and everything it starts, may change its
 * user and group ids to the stage user's only, so CAP_SETUID in a worker
 * taken over by a bad Gerrit answer or YAML file does not reach root or any
 * other user. */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/capability.h>

#include <seccomp.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stageuser.h"

#define STAGEUSER_MAX_GROUPS	64

/* Set once by stageuser_init() before any fork; read-only afterwards. */
static struct {
	int	 set;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	 groups[STAGEUSER_MAX_GROUPS];
	int	 ngroups;
} stage;

static int
caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capget, &h, d);
}

static int
caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capset, &h, d);
}

static int
cap_has(const struct __user_cap_data_struct d[2], int cap)
{
	return (d[cap / 32].effective & (1U << (cap % 32))) != 0 &&
	    (d[cap / 32].permitted & (1U << (cap % 32))) != 0;
}

/*
 * Let the id-changing system calls through only with the stage user's uid
 * or gid in every argument; any other value fails with EPERM. For all the
 * threads of the process (TSYNC) and whatever it forks and executes
 * (filters are inherited and cannot be removed). A rule fires on any
 * argument unequal to the id, so "unchanged" (-1) is refused as well.
 * setgroups passes a pointer, which seccomp cannot read: the supplementary
 * groups are the one thing the filter does not pin (stageuser_enter sets
 * the stage user's own). Returns 0, or -1 with a reason in err.
 */
static int
confine_ids(uid_t uid, gid_t gid, char *err, size_t errsz)
{
	static const struct {
		int	 nr;
		int	 nargs;
		int	 isgid;
	} calls[] = {
		{ SCMP_SYS(setuid), 1, 0 }, { SCMP_SYS(setreuid), 2, 0 },
		{ SCMP_SYS(setresuid), 3, 0 }, { SCMP_SYS(setfsuid), 1, 0 },
		{ SCMP_SYS(setgid), 1, 1 }, { SCMP_SYS(setregid), 2, 1 },
		{ SCMP_SYS(setresgid), 3, 1 }, { SCMP_SYS(setfsgid), 1, 1 },
	};
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 a, rc;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0)
		goto fail;
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		for (a = 0; a < calls[i].nargs; a++) {
			struct scmp_arg_cmp cmp = {
				.arg = (unsigned)a,
				.op = SCMP_CMP_NE,
				.datum_a = calls[i].isgid ? gid : uid,
				.datum_b = 0,
			};

			if ((rc = seccomp_rule_add_array(ctx,
			    SCMP_ACT_ERRNO(EPERM), calls[i].nr, 1, &cmp)) != 0)
				goto fail;
		}
	if ((rc = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	snprintf(err, errsz, "seccomp filter for the stage user: %s",
	    strerror(-rc));
	seccomp_release(ctx);
	return -1;
}

int
stageuser_init(const char *name, char *err, size_t errsz)
{
	struct __user_cap_data_struct	 d[2];
	struct passwd			*pw;
	int				 i, any = 0;

	if (caps_get(d) == -1) {
		snprintf(err, errsz, "capget: %s", strerror(errno));
		return -1;
	}
	/* Nothing the worker holds may reach a command through exec. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL) {
		snprintf(err, errsz, "clearing ambient capabilities: %s",
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		d[i].inheritable = 0;
		any |= d[i].permitted != 0;
	}
	if (caps_set(d) == -1) {
		snprintf(err, errsz, "capset: %s", strerror(errno));
		return -1;
	}
	if (name == NULL) {
		if (any) {
			snprintf(err, errsz, "the worker holds capabilities "
			    "but [worker] stage_user is not set: stage "
			    "commands would run as the worker");
			return -1;
		}
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errsz, "[worker] stage_user %s: no such user",
		    name);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errsz, "[worker] stage_user %s is root", name);
		return -1;
	}
	if (pw->pw_uid == getuid()) {
		snprintf(err, errsz, "[worker] stage_user %s is the worker's "
		    "own user: stage commands would reach its database role",
		    name);
		return -1;
	}
	if (!cap_has(d, CAP_SETUID) || !cap_has(d, CAP_SETGID) ||
	    !cap_has(d, CAP_KILL)) {
		snprintf(err, errsz, "[worker] stage_user %s: the worker needs "
		    "CAP_SETUID, CAP_SETGID and CAP_KILL (e.g. setpriv "
		    "--ambient-caps=+setuid,+setgid,+kill)", name);
		return -1;
	}
	stage.uid = pw->pw_uid;
	stage.gid = pw->pw_gid;
	stage.ngroups = STAGEUSER_MAX_GROUPS;
	if (getgrouplist(name, pw->pw_gid, stage.groups, &stage.ngroups) ==
	    -1) {
		snprintf(err, errsz, "[worker] stage_user %s: more than %d "
		    "groups", name, STAGEUSER_MAX_GROUPS);
		return -1;
	}
	if (confine_ids(stage.uid, stage.gid, err, errsz) == -1)
		return -1;
	stage.set = 1;
	return 0;
}

int
stageuser_enter(void)
{
	struct __user_cap_data_struct	d[2];

	if (stage.set) {
		if (setgroups((size_t)stage.ngroups, stage.groups) == -1 ||
		    setresgid(stage.gid, stage.gid, stage.gid) == -1 ||
		    setresuid(stage.uid, stage.uid, stage.uid) == -1)
			return -1;
		/* From one non-root uid to another the permitted set stays
		 * until exec: empty it now. */
		memset(d, 0, sizeof(d));
		if (caps_set(d) == -1)
			return -1;
		if (getuid() != stage.uid || geteuid() != stage.uid)
			return -1;
	}
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
