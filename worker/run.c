/* run.c: run one stage or rollback command: fork + execve in its own process
 * group, capture its output into the log, renew the lease, enforce the
 * timeout. A struct run holds one command in flight; run_command() walks it
 * through its steps: open (spawn), pump (read output, renew the lease,
 * enforce the timeout) until the command and its output are done, close
 * (wait), report, and for a stage the log check (its lines stored). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "lines.h"
#include "mask.h"
#include "notify.h"
#include "run.h"
#include "stageuser.h"
#include "util.h"

/* How long output may stay open after the command exited before the
 * processes still holding it (in its group) are killed. */
#define RUN_DRAIN_MS	2000
#define RUN_EXTRA_ENV_MAX	8
#define RUN_ENV_MAX	(3 + CFG_MAX_ENV + 5 + RUN_EXTRA_ENV_MAX + 1)
#define RUN_ENV_STORE	8
/* What the kernel sends the guard when the worker dies (spawn_guard); how
 * long it leaves the command alone with its own death signal, then how long
 * the group has between SIGTERM and SIGKILL: 2 s in all, well below any
 * lease, so the group is gone before the next worker can roll back. */
#define GUARD_DEATHSIG	SIGRTMAX
#define GUARD_WAIT_MS	500
#define GUARD_GRACE_MS	1500

/* Why the command was stopped, if it was. */
enum run_why {
	WHY_NONE,
	WHY_TIMEOUT,
	WHY_LOST,
	WHY_KILLED,
	WHY_LOG,		/* its log cannot be stored */
	WHY_STOPPED,		/* the record filter asked */
};

/* One of the command's output pipes: bytes -> lines -> masked lines ->
 * the log. A line longer than LINES_MAX is stored in pieces; the split_*
 * fields follow the one being cut, for the marker after its last piece. */
struct run_stream {
	int			 fd;
	enum logw_stream	 stream;
	struct lines		 lines;
	struct mask_stream	*ms;
	struct logw_sink	*sink;
	const struct run_records *rec;	/* stdout's filter, or NULL */
	int			 cut;	/* the current line was cut */
	int			 force_sensitive;
	int			 stop;	/* the filter asked to stop */
	size_t			 split_pieces;
	uint64_t		 split_bytes;
	int64_t			 split_first;	/* seq of its first piece */
	int64_t			 last_seq;	/* seq of the last row stored */
};

/* One command in flight. Times are util_now_ms() values. */
struct run {
	const struct run_spec	*sp;
	pid_t			 pid;
	pid_t			 guard;		/* spawn_guard(), or -1 */
	int			 status;	/* wait status, once exited */
	int			 exited;
	int64_t			 exit_at;
	int64_t			 deadline;	/* the timeout */
	int64_t			 kill_at;	/* SIGKILL due; 0: none */
	int			 hard;		/* SIGKILL was sent */
	enum run_why		 why;
	uint64_t		 dropped;	/* logw_dropped() at the start */
	int			 lease_fd;	/* renewal in flight, or -1 */
	int64_t			 next_lease;
	struct run_stream	 s[2];
	int			 stdin_w;	/* kept stdin, or -1 */
	int			 wake_fd;	/* lease.wake's fd, or -1 */
	char			*env[RUN_ENV_MAX];
	char			*store[RUN_ENV_STORE];	/* env strings we own */
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
env_build(const struct run_spec *sp, char **env, char **store)
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
	for (i = 0; i < sp->nenv; i++)
		env_set(env, &n, sp->env[i]);
	if (asprintf(&store[ns], "SPIDERPIG_DEPLOYMENT_ID=%lld",
	    (long long)sp->log->deployment) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_STAGE=%s", sp->stage) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_ACTION=%s", sp->action) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_PATCHES=%s", sp->patches) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	if (asprintf(&store[ns], "SPIDERPIG_REQUESTER=%s",
	    sp->requester) == -1)
		return -1;
	env_set(env, &n, store[ns++]);
	for (i = 0; i < sp->nextra_env && i < RUN_EXTRA_ENV_MAX; i++)
		env_set(env, &n, sp->extra_env[i]);
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
 * Fork and exec argv with stdin from in (/dev/null, or the read end of the
 * kept stdin pipe) and stdout/stderr into the write ends of the pipes, in a
 * new process group, as the stage user (stageuser.c), with no other fds
 * open, and a death signal tied to the worker. Returns the pid or -1.
 */
static pid_t
spawn(char *const *argv, char *const *env, int in, int out, int err)
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
		if (dup2(in, 0) == -1 || dup2(out, 1) == -1 ||
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

/*
 * The guard: a second child of the worker, the stage user, in the
 * command's process group, with every signal blocked and no fds. It waits
 * for its death signal (GUARD_DEATHSIG, sent by the kernel when the worker
 * dies), gives the command GUARD_WAIT_MS with its own death signal, then
 * sends the whole group SIGTERM, and SIGKILL GUARD_GRACE_MS later: the
 * command's own death signal (SIGTERM) reaches only the
 * command, so without the guard a command that ignores it, or what it
 * forked, would run on while the next worker rolls the stage back. Only
 * async-signal-safe calls: we are the child of a threaded process. The
 * worker kills it once the command is done (run_close). Returns its pid,
 * or -1 (then there is none; the command runs anyway).
 */
static pid_t
spawn_guard(pid_t pgid)
{
	struct timespec	wait_ts = { GUARD_WAIT_MS / 1000,
			    (GUARD_WAIT_MS % 1000) * 1000000L };
	struct timespec	grace = { GUARD_GRACE_MS / 1000,
			    (GUARD_GRACE_MS % 1000) * 1000000L };
	pid_t		pid, parent = getpid();
	sigset_t	all, wait;
	siginfo_t	si;

	if ((pid = fork()) != 0)
		return pid;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (setpgid(0, pgid) == -1 || stageuser_enter() == -1 ||
	    prctl(PR_SET_PDEATHSIG, GUARD_DEATHSIG) == -1 ||
	    getppid() != parent)
		_exit(125);
	close_range(0, ~0U, 0);
	sigemptyset(&wait);
	sigaddset(&wait, GUARD_DEATHSIG);
	while (sigwaitinfo(&wait, &si) == -1 || getppid() == parent)
		;
	/* Our own signals stay blocked: only SIGKILL ends us. */
	while (nanosleep(&wait_ts, &wait_ts) == -1 && errno == EINTR)
		;
	kill(0, SIGTERM);
	while (nanosleep(&grace, &grace) == -1 && errno == EINTR)
		;
	kill(0, SIGKILL);
	_exit(125);
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

/* Queue one masked line (or piece of a long one) of a stream. */
static void
run_store(void *arg, const char *line, size_t len, int sensitive)
{
	struct run_stream	*s = arg;
	struct logw_sink	*log = s->sink;

	logw_put(log->logw, log->deployment, ++log->seq, logw_now_usec(),
	    s->stream, sensitive || s->force_sensitive, line, len);
	if (s->split_pieces > 0 && s->split_first == 0)
		s->split_first = log->seq;
	s->last_seq = log->seq;
}

/* After the last piece of a line that was cut, a system line says so:
 * nothing else tells the rows of a cut line apart from lines. */
static void
run_split_marker(struct run_stream *s)
{
	static const char *names[] = { "stdout", "stderr", "system" };

	logw_say(s->sink, "the %s line above was %llu bytes: stored in %zu "
	    "pieces (seq %lld-%lld)", names[s->stream],
	    (unsigned long long)s->split_bytes, s->split_pieces,
	    (long long)s->split_first, (long long)s->last_seq);
	s->split_pieces = 0;
	s->split_bytes = 0;
	s->split_first = 0;
}

/* A line (or piece) of a stream goes through the record filter, when the
 * stream has one and the line is whole, then through the stream's mask;
 * a cut line ends with its marker. */
static void
run_emit(void *arg, const char *line, size_t len, int more)
{
	struct run_stream	*s = arg;
	const char		*text = NULL;
	size_t			 tlen = 0;
	int			 sensitive = 0;

	if (s->rec != NULL && s->rec->line != NULL && !more && !s->cut) {
		switch (s->rec->line(s->rec->arg, line, len, &text, &tlen,
		    &sensitive)) {
		case RUN_REC_PLAIN:
			break;
		case RUN_REC_LOG:
			s->force_sensitive = sensitive;
			mask_stream_put(s->ms, text, tlen, 0, run_store, s);
			s->force_sensitive = 0;
			return;
		case RUN_REC_STOP:
			s->stop = 1;
			return;
		case RUN_REC_DROP:
			return;
		}
	}
	s->cut = more;
	if (more || s->split_pieces > 0) {
		s->split_pieces++;
		s->split_bytes += len;
	}
	mask_stream_put(s->ms, line, len, more, run_store, s);
	if (!more && s->split_pieces > 0)
		run_split_marker(s);
}

/* End of a stream: its unterminated last line, and a piece the mask still
 * holds back. */
static void
run_stream_end(struct run_stream *s)
{
	lines_finish(&s->lines, run_emit, s);
	mask_stream_end(s->ms, run_store, s);
}

/* Read what one pipe has; at EOF emit the last partial line and close. */
static void
run_read(struct run_stream *s)
{
	char	 buf[65536];
	ssize_t	 n;

	n = read(s->fd, buf, sizeof(buf));
	if (n > 0) {
		lines_feed(&s->lines, buf, (size_t)n, run_emit, s);
		return;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	run_stream_end(s);
	close(s->fd);
	s->fd = -1;
}

/*
 * Step 1: the environment, the pipes and the child. Returns 0, or -1 with
 * the reason in detail (nothing was started).
 */
static int
run_open(struct run *r, char *detail, size_t detailsz)
{
	int	 pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int	 pin[2] = { -1, -1 }, devnull, i;

	if (env_build(r->sp, r->env, r->store) == -1 ||
	    lines_init(&r->s[0].lines) == -1 ||
	    lines_init(&r->s[1].lines) == -1 ||
	    (r->s[0].ms = mask_stream_new(r->sp->log->mask, LINES_MAX)) == NULL ||
	    (r->s[1].ms = mask_stream_new(r->sp->log->mask, LINES_MAX)) == NULL) {
		snprintf(detail, detailsz, "out of memory");
		return -1;
	}
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    pipe2(pout, O_CLOEXEC) == -1 || pipe2(perr, O_CLOEXEC) == -1 ||
	    (r->sp->stdin_fd != NULL && pipe2(pin, O_CLOEXEC) == -1)) {
		snprintf(detail, detailsz, "cannot start: %s", strerror(errno));
		goto fail;
	}
	if ((r->pid = spawn(r->sp->argv, r->env, pin[0] != -1 ? pin[0] :
	    devnull, pout[1], perr[1])) == -1) {
		snprintf(detail, detailsz, "cannot start: fork: %s",
		    strerror(errno));
		goto fail;
	}
	close(devnull);
	close(pout[1]);
	close(perr[1]);
	r->s[0].fd = pout[0];
	r->s[1].fd = perr[0];
	for (i = 0; i < 2; i++)
		fcntl(r->s[i].fd, F_SETFL, fcntl(r->s[i].fd, F_GETFL) |
		    O_NONBLOCK);
	if (pin[0] != -1) {
		close(pin[0]);
		fcntl(pin[1], F_SETFL, fcntl(pin[1], F_GETFL) | O_NONBLOCK);
		r->stdin_w = *r->sp->stdin_fd = pin[1];
	}
	if ((r->guard = spawn_guard(r->pid)) == -1)
		log_warn("cannot start the guard of the command's group: %s",
		    strerror(errno));
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (pout[i] != -1)
			close(pout[i]);
		if (perr[i] != -1)
			close(perr[i]);
		if (pin[i] != -1)
			close(pin[i]);
	}
	if (devnull != -1)
		close(devnull);
	return -1;
}

/* The signal that asks the command to stop, and how long it has before
 * SIGKILL: the spec's, or SIGTERM and RUN_KILL_GRACE_MS. */
static int
run_stop_signal(const struct run *r)
{
	return r->sp->stop_signal != 0 ? r->sp->stop_signal : SIGTERM;
}

static int
run_grace_ms(const struct run *r)
{
	return r->sp->grace_ms != 0 ? r->sp->grace_ms : RUN_KILL_GRACE_MS;
}

/* Stop the command for why: sig to its process group now, SIGKILL
 * grace_ms later (0: sig was the last word). */
static void
run_stop(struct run *r, enum run_why why, int sig, int grace_ms, int64_t now)
{
	r->why = why;
	kill(-r->pid, sig);
	if (sig == SIGKILL) {
		r->kill_at = 0;
		r->hard = 1;
	} else
		r->kill_at = now + grace_ms;
}

/*
 * Step 2a: reap the command and apply the kill policy. Returns 1 when the
 * run is over (the command is gone and its output closed, or only
 * leftovers of a killed group could still hold the pipes), else 0.
 */
static int
run_enforce(struct run *r, int64_t now)
{
	struct logw_sink	*log = r->sp->log;
	int			 sig = run_stop_signal(r);
	int			 grace = run_grace_ms(r);

	if (!r->exited && waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
		r->exited = 1;
		r->exit_at = now;
	}
	if (r->exited && r->s[0].fd == -1 && r->s[1].fd == -1)
		return 1;
	if (r->exited && r->why == WHY_NONE && now >= r->exit_at +
	    RUN_DRAIN_MS) {
		logw_say(log, "output still open %d s after the command "
		    "exited: killing what is left of its process group",
		    RUN_DRAIN_MS / 1000);
		kill(-r->pid, SIGKILL);
		return 1;
	}
	if (r->why == WHY_NONE && r->sp->log_required &&
	    logw_dropped(log->logw, NULL, 0) != r->dropped) {
		logw_say(log, "the log cannot be stored: stopping the command");
		run_stop(r, WHY_LOG, sig, grace, now);
	} else if (r->why == WHY_NONE && r->sp->sig->terms >= 2) {
		logw_say(log, "second SIGTERM: killing the command");
		run_stop(r, WHY_KILLED, SIGKILL, 0, now);
	} else if (r->why == WHY_NONE && !r->exited && now >= r->deadline) {
		logw_say(log, "timed out after %d s: sending SIG%s to the "
		    "process group", r->sp->timeout_s, sigabbrev_np(sig));
		run_stop(r, WHY_TIMEOUT, sig, grace, now);
	} else if (r->why == WHY_NONE && !r->exited && r->s[0].stop) {
		logw_say(log, "stopping the command: sending SIG%s to the "
		    "process group", sigabbrev_np(sig));
		run_stop(r, WHY_STOPPED, sig, grace, now);
	}
	if (r->why != WHY_NONE && r->kill_at != 0 && now >= r->kill_at)
		run_stop(r, r->why, SIGKILL, 0, now);
	return r->exited && r->hard;
}

/* Step 2b: start a lease renewal when one is due. */
static void
run_lease_tick(struct run *r, int64_t now)
{
	const struct run_lease	*l = &r->sp->lease;

	if (r->lease_fd != -1 || r->why != WHY_NONE || now < r->next_lease)
		return;
	r->lease_fd = l->send(l->arg);
	r->next_lease = now + l->interval_ms;
}

/* The lease fd is readable: stop the command when the lease is lost. */
static void
run_lease_read(struct run *r)
{
	const struct run_lease	*l = &r->sp->lease;
	enum run_lease_answer	 a = l->read(l->arg);

	if (a == RUN_LEASE_PENDING)
		return;
	r->lease_fd = -1;
	if (a == RUN_LEASE_LOST && r->why == WHY_NONE) {
		logw_say(r->sp->log, "lease lost or deployment moved on: "
		    "stopping the command");
		run_stop(r, WHY_LOST, run_stop_signal(r), run_grace_ms(r),
		    util_now_ms());
	}
}

/* When the next step is due: the timeout, the drain limit, the SIGKILL,
 * the next renewal, and at most 200 ms while the command runs (SIGCHLD can
 * race the poll). */
static int64_t
run_wake(const struct run *r, int64_t now)
{
	int64_t	 wake = r->why == WHY_NONE && !r->exited ? r->deadline :
		    now + 100;

	if (r->exited && r->why == WHY_NONE && r->exit_at + RUN_DRAIN_MS < wake)
		wake = r->exit_at + RUN_DRAIN_MS;
	if (r->kill_at != 0 && r->kill_at < wake)
		wake = r->kill_at;
	if (r->lease_fd == -1 && r->why == WHY_NONE && r->next_lease < wake)
		wake = r->next_lease;
	if (!r->exited && now + 200 < wake)
		wake = now + 200;
	return wake;
}

/*
 * Step 2c: wait until the output, the lease answer or a signal needs us or
 * the next step is due, and handle what came. While the log writer is
 * full the pipes are left unread (back-pressure) and we look again every
 * 10 ms.
 */
static void
run_pump(struct run *r, int64_t now)
{
	const struct run_lease	*l = &r->sp->lease;
	struct pollfd	 pfd[5];
	int64_t		 wake = run_wake(r, now);
	int		 nfd = 0, i;

	pfd[nfd].fd = r->sp->sig->fd;
	pfd[nfd++].events = POLLIN;
	if (r->wake_fd >= 0) {
		pfd[nfd].fd = r->wake_fd;
		pfd[nfd++].events = POLLIN;
	}
	if (r->lease_fd != -1) {
		pfd[nfd].fd = r->lease_fd;
		pfd[nfd++].events = POLLIN;
	}
	if (logw_full(r->sp->log->logw)) {
		if (now + 10 < wake)
			wake = now + 10;
	} else
		for (i = 0; i < 2; i++)
			if (r->s[i].fd != -1) {
				pfd[nfd].fd = r->s[i].fd;
				pfd[nfd++].events = POLLIN;
			}
	if (poll(pfd, (nfds_t)nfd, (int)(wake > now ? wake - now : 0)) == -1 &&
	    errno != EINTR)
		log_warn("poll: %s", strerror(errno));
	/* This loop turns at least every 200 ms while a command runs: a
	 * stage that takes an hour is the worker alive and watching it. */
	notify_watchdog();
	for (i = 1; i < nfd; i++) {
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (pfd[i].fd == r->wake_fd) {
			switch (l->wake(l->arg)) {
			case -1:
				r->wake_fd = -1;
				break;
			case 0:
				break;
			default:
				if (r->why == WHY_NONE)
					r->next_lease = now;
			}
		} else if (pfd[i].fd == r->lease_fd)
			run_lease_read(r);
		else if (pfd[i].fd == r->s[0].fd)
			run_read(&r->s[0]);
		else if (pfd[i].fd == r->s[1].fd)
			run_read(&r->s[1]);
	}
}

/* Step 3: settle the renewal in flight, reap the command if still needed,
 * and store the partial last lines. */
static void
run_close(struct run *r)
{
	const struct run_lease	*l = &r->sp->lease;
	int			 i;

	if (r->lease_fd != -1) {
		l->settle(l->arg);
		r->lease_fd = -1;
	}
	if (!r->exited && waitpid(r->pid, &r->status, 0) == r->pid)
		r->exited = 1;
	if (r->guard > 0) {
		kill(r->guard, SIGKILL);
		(void)waitpid(r->guard, NULL, 0);
		r->guard = -1;
	}
	for (i = 0; i < 2; i++)
		if (r->s[i].lines.buf != NULL && r->s[i].ms != NULL)
			run_stream_end(&r->s[i]);
}

/* The refusal that made the log fail, in detail and the log. */
static void
run_log_failed(const struct run *r, char *detail, size_t detailsz)
{
	char	 why[256];

	(void)logw_dropped(r->sp->log->logw, why, sizeof(why));
	snprintf(detail, detailsz, "the log could not be stored: %s", why);
	logw_say(r->sp->log, "%s", detail);
}

/* Step 5 (log_required): a command that ended on its own counts only once
 * its lines, the report's included, are stored; a refused batch fails it. */
static void
run_log_check(const struct run *r, int *ok, char *detail, size_t detailsz)
{
	struct logw	*lw = r->sp->log->logw;

	if (!r->sp->log_required || r->why != WHY_NONE)
		return;
	if (logw_flush(lw, RUN_LOG_FLUSH_MS) == -1)
		log_warn("deployment %lld: log lines still queued after %d s; "
		    "they are kept and retried", (long long)r->sp->log->deployment,
		    RUN_LOG_FLUSH_MS / 1000);
	if (logw_dropped(lw, NULL, 0) != r->dropped) {
		*ok = 0;
		run_log_failed(r, detail, detailsz);
	}
}

/* Step 4: what the run amounts to, in *ok, detail and the log. */
static enum run_status
run_report(const struct run *r, int *ok, char *detail, size_t detailsz)
{
	switch (r->why) {
	case WHY_LOG:
		run_log_failed(r, detail, detailsz);
		return RUN_DONE;
	case WHY_TIMEOUT:
		snprintf(detail, detailsz, "timed out after %d s",
		    r->sp->timeout_s);
		logw_say(r->sp->log, "timed out");
		return RUN_DONE;
	case WHY_LOST:
		snprintf(detail, detailsz, "lease lost");
		return RUN_LOST;
	case WHY_KILLED:
		snprintf(detail, detailsz, "killed: worker exiting");
		return RUN_KILLED;
	case WHY_STOPPED:
		snprintf(detail, detailsz, "stopped by the worker");
		logw_say(r->sp->log, "stopped");
		return RUN_DONE;
	case WHY_NONE:
		break;
	}
	format_status(r->status, ok, detail, detailsz);
	logw_say(r->sp->log, "%s", detail);
	return RUN_DONE;
}

/* Close the pipes and free what the run holds. */
static void
run_free(struct run *r)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (r->s[i].fd != -1)
			close(r->s[i].fd);
		lines_free(&r->s[i].lines);
		mask_stream_free(r->s[i].ms);
	}
	if (r->stdin_w != -1) {
		close(r->stdin_w);
		*r->sp->stdin_fd = -1;
	}
	for (i = 0; i < RUN_ENV_STORE; i++)
		free(r->store[i]);
}

enum run_status
run_command(const struct run_spec *sp, int *ok, char *detail,
    size_t detailsz)
{
	struct run	 r;
	char		 cmdline[1024];
	enum run_status	 rs = RUN_DONE;
	int64_t		 now;

	memset(&r, 0, sizeof(r));
	r.sp = sp;
	r.pid = -1;
	r.guard = -1;
	r.lease_fd = -1;
	r.s[0].fd = r.s[1].fd = -1;
	r.stdin_w = -1;
	r.wake_fd = sp->lease.wake != NULL ? sp->lease.wake_fd : -1;
	r.s[0].rec = &sp->records;
	r.s[0].stream = LOGW_STDOUT;
	r.s[1].stream = LOGW_STDERR;
	r.s[0].sink = r.s[1].sink = sp->log;
	*ok = 0;
	argv_join(sp->argv, cmdline, sizeof(cmdline));
	logw_say(sp->log, "starting %s %s: %s", strcmp(sp->action, "run") == 0 ?
	    "stage" : "rollback of", sp->stage, cmdline);
	if (run_open(&r, detail, detailsz) == -1) {
		logw_say(sp->log, "%s", detail);
		goto out;
	}
	r.dropped = logw_dropped(sp->log->logw, NULL, 0);
	now = util_now_ms();
	r.deadline = now + (int64_t)sp->timeout_s * 1000;
	r.next_lease = now + sp->lease.interval_ms;
	for (;;) {
		signals_drain(sp->sig);
		now = util_now_ms();
		if (run_enforce(&r, now))
			break;
		run_lease_tick(&r, now);
		run_pump(&r, now);
	}
	run_close(&r);
	rs = run_report(&r, ok, detail, detailsz);
	run_log_check(&r, ok, detail, detailsz);
out:
	run_free(&r);
	return rs;
}
