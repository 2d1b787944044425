/* run.c: run one stage or rollback command: fork + execve in its own process
 * group, capture its output into the log, renew the lease, enforce the
 * timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "lines.h"
#include "stageuser.h"
#include "util.h"
#include "worker.h"

/* How long output may stay open after the command exited before the
 * processes still holding it (in its group) are killed. */
#define RUN_DRAIN_MS	2000
#define RUN_ENV_MAX	(3 + CFG_MAX_ENV + 5 + 1)

struct run_stream {
	int			 fd;
	enum logw_stream	 stream;
	struct lines		 lines;
};

struct run_emit_ctx {
	struct worker		*w;
	struct job		*j;
	enum logw_stream	 stream;
	int64_t			 at;
};

/* Set "KEY=VALUE" in env (n entries), replacing an entry with the same key.
 * env holds pointers the caller owns. */
static void
env_set(char **env, size_t *n, char *kv)
{
	size_t	 i, klen = strcspn(kv, "=");

	for (i = 0; i < *n; i++)
		if (strncmp(env[i], kv, klen + 1) == 0) {
			env[i] = kv;
			return;
		}
	if (*n + 1 < RUN_ENV_MAX)
		env[(*n)++] = kv;
}

/*
 * The child's whole environment: PATH, HOME and LANG from ours (or
 * defaults), then the config's env entries, then the SPIDERPIG_* variables,
 * later ones winning. The strings live in store (freed by the caller with
 * env_free); env is NULL-terminated.
 */
static int
env_build(struct worker *w, struct job *j, const char *stage,
    const char *action, char **env, char **store)
{
	const struct { const char *key, *dflt; } base[] = {
		{ "PATH", "/usr/local/bin:/usr/bin:/bin" },
		{ "HOME", "/" },
		{ "LANG", "C.UTF-8" },
	};
	size_t	 n = 0, ns = 0, i;
	const char *v;

	for (i = 0; i < 3; i++) {
		if ((v = getenv(base[i].key)) == NULL)
			v = base[i].dflt;
		if (asprintf(&store[ns], "%s=%s", base[i].key, v) == -1)
			return -1;
		env_set(env, &n, store[ns++]);
	}
	for (i = 0; i < w->cfg->nenv; i++)
		env_set(env, &n, w->cfg->env[i]);
	if (asprintf(&store[ns], "SPIDERPIG_DEPLOYMENT_ID=%s", j->idstr) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_STAGE=%s", stage) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_ACTION=%s", action) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_PATCHES=%s", j->patches) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_REQUESTER=%s", j->requester) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	env[n] = NULL;
	return 0;
}

/* Write "spiderpig-worker: cannot execute PATH (errno N)" with only
 * async-signal-safe calls (we are between fork and exec of a threaded
 * process). */
static void
child_exec_failed(const char *path, int err)
{
	char	 num[16];
	int	 i = (int)sizeof(num);

	do {
		num[--i] = (char)('0' + err % 10);
		err /= 10;
	} while (err > 0 && i > 0);
	(void)!write(2, "spiderpig-worker: cannot execute ", 33);
	(void)!write(2, path, strlen(path));
	(void)!write(2, " (errno ", 8);
	(void)!write(2, num + i, sizeof(num) - (size_t)i);
	(void)!write(2, ")\n", 2);
}

/*
 * Fork and exec argv with stdin from /dev/null and stdout/stderr into the
 * write ends of the pipes, in a new process group, as the stage user
 * (stageuser.c), with no other fds open, and a death signal tied to the
 * worker. Returns the pid or -1.
 */
static pid_t
spawn(char *const *argv, char *const *env, int devnull, int out, int err)
{
	pid_t		pid, parent = getpid();
	sigset_t	none;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		/* The stage user first: changing uid clears the death
		 * signal below. */
		if (stageuser_enter() == -1)
			_exit(124);
		/*
		 * If the worker dies (kill -9), the command gets SIGTERM: its
		 * stage is rolled back by the next worker anyway.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(125);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(devnull, 0) == -1 || dup2(out, 1) == -1 ||
		    dup2(err, 2) == -1)
			_exit(126);
		close_range(3, ~0U, 0);
		execve(argv[0], argv, env);
		child_exec_failed(argv[0], errno);
		_exit(127);
	}
	/* Also in the parent, so kill(-pid) works before the child runs. */
	setpgid(pid, pid);
	return pid;
}

static void
run_emit(void *arg, const char *line, size_t len)
{
	struct run_emit_ctx	*c = arg;

	logw_put(c->w->logw, c->j->id, ++c->j->seq, c->at, c->stream, line,
	    len);
}

/* Read what one pipe has; at EOF emit the last partial line and close. */
static void
run_read(struct worker *w, struct job *j, struct run_stream *s)
{
	char			 buf[65536];
	ssize_t			 n;
	struct run_emit_ctx	 c = { w, j, s->stream, logw_now_usec() };

	n = read(s->fd, buf, sizeof(buf));
	if (n > 0) {
		lines_feed(&s->lines, buf, (size_t)n, run_emit, &c);
		return;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	lines_finish(&s->lines, run_emit, &c);
	close(s->fd);
	s->fd = -1;
}

/* Send the heartbeat without waiting for its answer. 0, or -1 when the
 * database is unreachable (the next interval tries again). A reconnect here
 * blocks for up to connect_timeout; on a local socket that is immediate. */
static int
heartbeat_send(struct worker *w, struct job *j)
{
	const char	*params[3] = { w->id, j->idstr, w->lease };

	w->db = db_ensure(w->db, w->cfg->db_worker, "spiderpig-worker");
	if (w->db == NULL)
		return -1;
	if (!PQsendQueryParams(w->db, "select spiderpig.heartbeat($1, $2, "
	    "$3::interval)", 3, NULL, params, NULL, NULL, 0))
		return -1;
	return 0;
}

/*
 * Collect a finished heartbeat. Returns 1 while the row is still ours in
 * expect_state, 0 when the lease is lost or the state moved on, -1 when we
 * cannot tell (database error: keep going, try again next interval).
 */
static int
heartbeat_result(struct worker *w, const char *expect_state)
{
	PGresult	*res;
	int		 rc = -1;

	while ((res = PQgetResult(w->db)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1) {
			if (PQgetisnull(res, 0, 0))
				rc = 0;
			else
				rc = strcmp(PQgetvalue(res, 0, 0),
				    expect_state) == 0;
		} else
			log_warn("heartbeat: %s", PQerrorMessage(w->db));
		PQclear(res);
	}
	return rc;
}

static void
format_status(int status, int *ok, char *detail, size_t detailsz)
{
	if (WIFEXITED(status)) {
		*ok = WEXITSTATUS(status) == 0;
		snprintf(detail, detailsz, "exit status %d",
		    WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		*ok = 0;
		snprintf(detail, detailsz, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else {
		*ok = 0;
		snprintf(detail, detailsz, "ended with wait status %d", status);
	}
}

static void
argv_join(char *const *argv, char *buf, size_t bufsz)
{
	size_t	 len = 0;
	int	 n;

	buf[0] = '\0';
	for (; *argv != NULL && len < bufsz; argv++) {
		n = snprintf(buf + len, bufsz - len, "%s%s", len ? " " : "",
		    *argv);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

enum run_status
run_command(struct worker *w, struct job *j, const char *stage,
    const char *action, char *const *argv, int timeout_s,
    const char *expect_state, int *ok, char *detail, size_t detailsz)
{
	struct run_stream	 s[2] = { { -1, LOGW_STDOUT, { NULL, 0 } },
				    { -1, LOGW_STDERR, { NULL, 0 } } };
	char			*env[RUN_ENV_MAX], *store[8] = { NULL };
	int			 pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int			 devnull = -1, status = 0, i, nfd, hb_busy = 0;
	int			 exited = 0, why = 0, hb, hard = 0;
	pid_t			 pid = -1;
	int64_t			 now, deadline, next_hb, kill_at = 0;
	int64_t			 exit_at = 0, wake;
	enum run_status		 rs = RUN_DONE;
	struct pollfd		 pfd[4];
	char			 cmdline[1024];
	enum { WHY_NONE, WHY_TIMEOUT, WHY_LOST, WHY_KILLED };

	*ok = 0;
	snprintf(detail, detailsz, "internal error");
	argv_join(argv, cmdline, sizeof(cmdline));
	job_log(w, j, "starting %s %s: %s", strcmp(action, "run") == 0 ?
	    "stage" : "rollback of", stage, cmdline);
	if (env_build(w, j, stage, action, env, store) == -1 ||
	    lines_init(&s[0].lines) == -1 || lines_init(&s[1].lines) == -1) {
		snprintf(detail, detailsz, "out of memory");
		goto out;
	}
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    pipe2(pout, O_CLOEXEC) == -1 || pipe2(perr, O_CLOEXEC) == -1) {
		snprintf(detail, detailsz, "cannot start: %s", strerror(errno));
		goto out;
	}
	if ((pid = spawn(argv, env, devnull, pout[1], perr[1])) == -1) {
		snprintf(detail, detailsz, "cannot start: fork: %s",
		    strerror(errno));
		goto out;
	}
	close(pout[1]);
	close(perr[1]);
	pout[1] = perr[1] = -1;
	s[0].fd = pout[0];
	s[1].fd = perr[0];
	pout[0] = perr[0] = -1;
	for (i = 0; i < 2; i++)
		fcntl(s[i].fd, F_SETFL, fcntl(s[i].fd, F_GETFL) | O_NONBLOCK);

	now = util_now_ms();
	deadline = now + (int64_t)timeout_s * 1000;
	next_hb = now + (int64_t)w->cfg->heartbeat_interval * 1000;
	for (;;) {
		worker_signals(w);
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			exit_at = util_now_ms();
		}
		now = util_now_ms();
		if (exited && s[0].fd == -1 && s[1].fd == -1)
			break;
		if (exited && why == WHY_NONE && now >= exit_at + RUN_DRAIN_MS) {
			job_log(w, j, "output still open %d s after the "
			    "command exited: killing what is left of its "
			    "process group", RUN_DRAIN_MS / 1000);
			kill(-pid, SIGKILL);
			break;
		}
		if (why == WHY_NONE && w->terms >= 2) {
			why = WHY_KILLED;
			job_log(w, j, "second SIGTERM: killing the command");
			kill(-pid, SIGKILL);
			kill_at = now;
		} else if (why == WHY_NONE && !exited && now >= deadline) {
			why = WHY_TIMEOUT;
			job_log(w, j, "timed out after %d s: sending SIGTERM "
			    "to the process group", timeout_s);
			kill(-pid, SIGTERM);
			kill_at = now + WORKER_KILL_GRACE_MS;
		}
		if (why != WHY_NONE && kill_at != 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
			hard = 1;
		}
		if (exited && hard)
			break;	/* only leftovers could hold the pipes now */
		if (!hb_busy && why == WHY_NONE && now >= next_hb) {
			hb_busy = heartbeat_send(w, j) == 0;
			next_hb = now + (int64_t)w->cfg->heartbeat_interval * 1000;
		}

		nfd = 0;
		pfd[nfd].fd = w->sigfd;
		pfd[nfd++].events = POLLIN;
		wake = why == WHY_NONE && !exited ? deadline : now + 100;
		if (exited && why == WHY_NONE && exit_at + RUN_DRAIN_MS < wake)
			wake = exit_at + RUN_DRAIN_MS;
		if (kill_at != 0 && kill_at < wake)
			wake = kill_at;
		if (!hb_busy && why == WHY_NONE && next_hb < wake)
			wake = next_hb;
		if (hb_busy) {
			pfd[nfd].fd = PQsocket(w->db);
			pfd[nfd++].events = POLLIN;
		}
		if (logw_full(w->logw)) {
			/* Back-pressure: leave the output in the pipes. */
			if (now + 10 < wake)
				wake = now + 10;
		} else {
			for (i = 0; i < 2; i++)
				if (s[i].fd != -1) {
					pfd[nfd].fd = s[i].fd;
					pfd[nfd++].events = POLLIN;
				}
		}
		if (!exited && now + 200 < wake)
			wake = now + 200;	/* SIGCHLD can race the poll */
		if (poll(pfd, (nfds_t)nfd, (int)(wake > now ? wake - now : 0))
		    == -1 && errno != EINTR)
			log_warn("poll: %s", strerror(errno));
		for (i = 1; i < nfd; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (hb_busy && pfd[i].fd == PQsocket(w->db)) {
				if (!PQconsumeInput(w->db) || !PQisBusy(w->db)) {
					hb = heartbeat_result(w, expect_state);
					hb_busy = 0;
					if (hb == 0 && why == WHY_NONE) {
						why = WHY_LOST;
						job_log(w, j, "lease lost or "
						    "deployment moved on: "
						    "stopping the command");
						kill(-pid, SIGTERM);
						kill_at = util_now_ms() +
						    WORKER_KILL_GRACE_MS;
					}
				}
				continue;
			}
			if (pfd[i].fd == s[0].fd)
				run_read(w, j, &s[0]);
			else if (pfd[i].fd == s[1].fd)
				run_read(w, j, &s[1]);
		}
	}
	/* Leave the connection idle: db_ensure() drops a busy one. */
	if (hb_busy)
		heartbeat_result(w, expect_state);
	if (!exited && waitpid(pid, &status, 0) == pid)
		exited = 1;
	for (i = 0; i < 2; i++) {
		struct run_emit_ctx c = { w, j, s[i].stream, logw_now_usec() };

		if (s[i].lines.buf != NULL)
			lines_finish(&s[i].lines, run_emit, &c);
	}
	switch (why) {
	case WHY_TIMEOUT:
		snprintf(detail, detailsz, "timed out after %d s", timeout_s);
		job_log(w, j, "timed out");
		break;
	case WHY_LOST:
		rs = RUN_LOST;
		snprintf(detail, detailsz, "lease lost");
		break;
	case WHY_KILLED:
		rs = RUN_KILLED;
		snprintf(detail, detailsz, "killed: worker exiting");
		break;
	default:
		format_status(status, ok, detail, detailsz);
		job_log(w, j, "%s", detail);
	}
out:
	for (i = 0; i < 2; i++) {
		if (s[i].fd != -1)
			close(s[i].fd);
		lines_free(&s[i].lines);
	}
	if (pout[0] != -1) close(pout[0]);
	if (pout[1] != -1) close(pout[1]);
	if (perr[0] != -1) close(perr[0]);
	if (perr[1] != -1) close(perr[1]);
	if (devnull != -1)
		close(devnull);
	for (i = 0; i < 8; i++)
		free(store[i]);
	if (pid == -1)
		job_log(w, j, "%s", detail);
	return rs;
}
