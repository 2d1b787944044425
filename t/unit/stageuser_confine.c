/* stageuser_confine: after stageuser_init() the worker and its children
 * may change their uid and gid to the stage user's and to nothing else,
 * even with CAP_SETUID and CAP_SETGID (run as root: root holds both). */
#include <sys/fsuid.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stageuser.h"
#include "tap.h"

/* The exit status of a child running fn: 0 if fn returned 0. */
static int
in_child(int (*fn)(void))
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		_exit(fn() == 0 ? 0 : 1);
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static uid_t stage_uid;
static gid_t stage_gid;

/* Each returns 0 when the call was refused with EPERM. */
static int to_root_uid(void) { return setuid(0) == -1 && errno == EPERM ? 0 : 1; }
static int to_root_gid(void) { return setgid(0) == -1 && errno == EPERM ? 0 : 1; }
static int to_daemon(void) { return setresuid(1, 1, 1) == -1 && errno == EPERM ? 0 : 1; }
static int keep_root_saved(void)
{
	return setresuid(stage_uid, stage_uid, 0) == -1 && errno == EPERM ? 0 : 1;
}
static int unchanged_minus_one(void)
{
	return setreuid((uid_t)-1, 0) == -1 && errno == EPERM ? 0 : 1;
}
/* The filesystem uid, from /proc (setfsuid cannot be asked: the filter
 * refuses its "no change" argument too). */
static long
fsuid_now(void)
{
	FILE	*f;
	char	 line[256];
	long	 r = -1, u[4];

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %ld %ld %ld %ld", &u[0], &u[1], &u[2],
		    &u[3]) == 4)
			r = u[3];
	fclose(f);
	return r;
}

static int fsuid_root(void)
{
	setfsuid(1);
	return fsuid_now() == 0 ? 0 : 1;
}

/* Returns 0 when the child became the stage user the way stage commands
 * do. */
static int
enter(void)
{
	if (stageuser_enter() == -1)
		return 1;
	return getuid() == stage_uid && geteuid() == stage_uid &&
	    getgid() == stage_gid ? 0 : 1;
}

/* Returns 0 when a program executed after fork cannot switch users either
 * (the filter survives exec). */
static int
exec_setpriv(void)
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == -1)
		return 1;
	if (pid == 0) {
		execl("/usr/bin/setpriv", "setpriv", "--reuid=1", "--regid=1",
		    "--clear-groups", "/bin/true", (char *)NULL);
		_exit(200);
	}
	if (waitpid(pid, &st, 0) == -1)
		return 1;
	/* setpriv exits 127 when it cannot change ids; 200: no exec. */
	return WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
	    WEXITSTATUS(st) != 200 ? 0 : 1;
}

int
main(void)
{
	struct passwd	*pw;
	char		 err[256];

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (CAP_SETUID) to show the filter at work\n");
		return 0;
	}
	if ((pw = getpwnam("nobody")) == NULL) {
		printf("1..0 # SKIP no user nobody\n");
		return 0;
	}
	stage_uid = pw->pw_uid;
	stage_gid = pw->pw_gid;

	/* Without the filter root may do what is refused below. */
	tap_is_int(in_child(to_daemon), 1, "before: root may become daemon");

	err[0] = '\0';
	if (!ok(stageuser_init("nobody", err, sizeof(err)) == 0,
	    "stageuser_init(nobody)"))
		printf("#   %s\n", err);
	tap_is_int(in_child(to_root_uid), 0, "setuid(0): EPERM");
	tap_is_int(in_child(to_root_gid), 0, "setgid(0): EPERM");
	tap_is_int(in_child(to_daemon), 0, "setresuid to another user: EPERM");
	tap_is_int(in_child(keep_root_saved), 0,
	    "setresuid keeping root as the saved uid: EPERM");
	tap_is_int(in_child(unchanged_minus_one), 0,
	    "setreuid(-1, 0): EPERM");
	tap_is_int(in_child(fsuid_root), 0, "setfsuid(1): not taken");
	tap_is_int(in_child(exec_setpriv), 0,
	    "an executed program cannot switch users either");
	tap_is_int(in_child(enter), 0,
	    "becoming the stage user (groups, gid, uid) still works");
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
