/* gitsrc.c: cherry-pick changes from a remote's refs/changes onto the
 * deploy branch (stage kind git-cherry-pick). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitsrc.h"
#include "notify.h"
#include "stageuser.h"
#include "util.h"
#include "worker.h"

#define GITSRC_LS_MAX		(64 * 1024)	/* ls-remote output kept */
#define GITSRC_LS_TIMEOUT_MS	30000

int
gitsrc_newest_patchset(const char *ls, long long change)
{
	char		 prefix[64];
	const char	*p, *line, *errstr;
	long long	 ps;
	size_t		 plen, n;
	char		 num[8];
	int		 best = 0;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "\trefs/changes/%02lld/"
	    "%lld/", change % 100, change);
	for (line = ls; line != NULL && *line != '\0'; line = p) {
		p = strchr(line, '\n');
		n = p != NULL ? (size_t)(p - line) : strlen(line);
		if (p != NULL)
			p++;
		if (n < 41 + plen || memcmp(line + 40, prefix, plen) != 0)
			continue;
		if (n - 40 - plen >= sizeof(num))
			continue;
		memcpy(num, line + 40 + plen, n - 40 - plen);
		num[n - 40 - plen] = '\0';
		if (util_strtonum(num, 1, 99999, &ps, &errstr) == 0 &&
		    ps > best)
			best = (int)ps;
	}
	return best;
}

/*
 * Run argv (git ls-remote) as the stage user with its stdout captured
 * into out (NUL terminated, at most outsz - 1 bytes), stderr and stdin on
 * /dev/null, for at most GITSRC_LS_TIMEOUT_MS. Returns 0 when it exited 0,
 * else -1.
 */
static int
gitsrc_capture(char *const *argv, char *out, size_t outsz)
{
	char *const	 env[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
			    "HOME=/", "LANG=C.UTF-8", NULL };
	struct pollfd	 pfd;
	int64_t		 until = util_now_ms() + GITSRC_LS_TIMEOUT_MS;
	size_t		 len = 0;
	ssize_t		 r;
	pid_t		 pid;
	int		 fds[2], devnull, status, timeout, left;

	out[0] = '\0';
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		close(devnull);
		return -1;
	}
	if ((pid = fork()) == -1) {
		close(devnull);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		/* As the stage user, like every git command of the stage: the
		 * repositories are its own. */
		if (stageuser_enter() == -1)
			_exit(125);
		if (dup2(devnull, 0) == -1 || dup2(fds[1], 1) == -1 ||
		    dup2(devnull, 2) == -1)
			_exit(126);
		close_range(3, ~0U, 0);
		execve(argv[0], argv, env);
		_exit(127);
	}
	setpgid(pid, pid);
	close(devnull);
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	timeout = 0;
	for (;;) {
		notify_watchdog();
		if ((left = (int)(until - util_now_ms())) <= 0) {
			timeout = 1;
			break;
		}
		if (poll(&pfd, 1, notify_watchdog_cap(left)) <= 0)
			continue;
		if ((r = read(fds[0], out + len, outsz - 1 - len)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
		if (len == outsz - 1)
			break;		/* enough: the rest is dropped */
	}
	out[len] = '\0';
	close(fds[0]);
	if (timeout)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return !timeout && WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
	    0 : -1;
}

/*
 * Run git with the arguments after "-C dir" through job_command (output
 * into the log, lease renewed). argv is NULL-terminated. Returns as
 * run_command().
 */
static enum run_status
gitsrc_git(struct worker *w, struct job *j, int timeout_s, int *ok,
    char *detail, size_t detailsz, const char *const *args)
{
	char		*argv[16];
	size_t		 n = 0;

	argv[n++] = w->cfg->git_program;
	argv[n++] = "-C";
	argv[n++] = w->cfg->git_dir;
	while (*args != NULL && n < 15)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	return job_command(w, j, "merge", "run", argv, timeout_s, j->state, ok,
	    detail, detailsz);
}

/* The ref of c: pinned, or the newest the remote has. 0 or -1 with
 * detail (logged). */
static int
gitsrc_ref(struct worker *w, struct job *j, const struct gitsrc_change *c,
    char *ref, size_t refsz, char *detail, size_t detailsz)
{
	char	 pattern[96], *ls;
	char	*argv[] = { w->cfg->git_program, "ls-remote", "--",
		    w->cfg->git_remote, pattern, NULL };
	int	 ps = c->pinned;

	if (ps == 0) {
		snprintf(pattern, sizeof(pattern), "refs/changes/%02lld/%lld/*",
		    c->change % 100, c->change);
		if ((ls = malloc(GITSRC_LS_MAX)) == NULL)
			return -1;
		if (gitsrc_capture(argv, ls, GITSRC_LS_MAX) == -1)
			snprintf(detail, detailsz, "git ls-remote %s failed",
			    w->cfg->git_remote);
		else if ((ps = gitsrc_newest_patchset(ls, c->change)) == 0)
			snprintf(detail, detailsz, "change %lld has no patchset "
			    "on %s", c->change, w->cfg->git_remote);
		free(ls);
		if (ps == 0) {
			logw_say(&j->log, "%s", detail);
			return -1;
		}
	}
	snprintf(ref, refsz, "refs/changes/%02lld/%lld/%d", c->change % 100,
	    c->change, ps);
	return 0;
}

enum run_status
gitsrc_cherry_pick(struct worker *w, struct job *j,
    const struct gitsrc_change *c, size_t n, int timeout_s, int *ok,
    char *detail, size_t detailsz)
{
	const char	*checkout[] = { "checkout", "-q", w->cfg->git_branch,
			    "--", NULL };
	const char	*abort_pick[] = { "cherry-pick", "--abort", NULL };
	char		 ref[96], why[256], head[4096];
	const char	*fetch[] = { "fetch", "-q", "--", w->cfg->git_remote,
			    ref, NULL };
	const char	*pick[] = { "cherry-pick", "-x", "FETCH_HEAD", NULL };
	enum run_status	 rs;
	size_t		 i;
	int		 aborted;

	*ok = 0;
	logw_say(&j->log, "cherry-picking %zu change%s from %s onto %s in %s",
	    n, n == 1 ? "" : "s", w->cfg->git_remote, w->cfg->git_branch,
	    w->cfg->git_dir);
	/* A pick cut short (a worker killed mid-stage) is undone first. */
	if ((size_t)snprintf(head, sizeof(head), "%s/.git/CHERRY_PICK_HEAD",
	    w->cfg->git_dir) < sizeof(head) && access(head, F_OK) == 0) {
		logw_say(&j->log, "a cherry-pick was left unfinished: aborting it");
		if ((rs = gitsrc_git(w, j, timeout_s, &aborted, why,
		    sizeof(why), abort_pick)) != RUN_DONE)
			return rs;
	}
	if ((rs = gitsrc_git(w, j, timeout_s, ok, detail, detailsz,
	    checkout)) != RUN_DONE || !*ok) {
		if (rs == RUN_DONE)
			snprintf(detail, detailsz, "cannot check out %s",
			    w->cfg->git_branch);
		return rs;
	}
	for (i = 0; i < n; i++) {
		*ok = 0;
		if (gitsrc_ref(w, j, &c[i], ref, sizeof(ref), detail,
		    detailsz) == -1)
			return RUN_DONE;
		logw_say(&j->log, "change %lld: %s", c[i].change, ref);
		if ((rs = gitsrc_git(w, j, timeout_s, ok, detail, detailsz,
		    fetch)) != RUN_DONE)
			return rs;
		if (!*ok) {
			snprintf(detail, detailsz, "cannot fetch %s from %s", ref,
			    w->cfg->git_remote);
			logw_say(&j->log, "%s", detail);
			return RUN_DONE;
		}
		if ((rs = gitsrc_git(w, j, timeout_s, ok, detail, detailsz,
		    pick)) != RUN_DONE)
			return rs;
		if (!*ok) {
			snprintf(detail, detailsz, "change %lld (%s) does not "
			    "apply on %s", c[i].change, ref, w->cfg->git_branch);
			logw_say(&j->log, "%s; aborting the cherry-pick", detail);
			if ((rs = gitsrc_git(w, j, timeout_s, &aborted, why,
			    sizeof(why), abort_pick)) != RUN_DONE)
				return rs;
			return RUN_DONE;
		}
	}
	*ok = 1;
	snprintf(detail, detailsz, "cherry-picked %zu change%s onto %s", n,
	    n == 1 ? "" : "s", w->cfg->git_branch);
	logw_say(&j->log, "%s", detail);
	return RUN_DONE;
}
