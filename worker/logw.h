/* logw.h: the log writer: a thread with its own connection that stores
 * captured lines with COPY, so reading a child's pipes never waits on the
 * database. */
#ifndef SPIDERPIG_LOGW_H
#define SPIDERPIG_LOGW_H

#include <stddef.h>
#include <stdint.h>

struct mask;
struct logw;

enum logw_stream {
	LOGW_STDOUT,
	LOGW_STDERR,
	LOGW_SYSTEM,
};

/*
 * Memory bound: past this many queued bytes logw_full() says so and the
 * caller stops reading the child's pipes (the child then blocks in write()
 * until the writer catches up). Lines are never dropped for being fast.
 */
#define LOGW_MAX_BYTES	(64u * 1024 * 1024)

/*
 * Start the writer thread. It connects with conninfo on its own and
 * reconnects with backoff while the database is away. A batch is written
 * when batch_lines are queued or flush_ms after its first line, whichever
 * comes first. Returns NULL when the thread cannot be started.
 */
struct logw	*logw_start(const char *conninfo, int batch_lines,
		    int flush_ms);

/*
 * Queue one line (copied; len is capped at LINES_MAX) as it is to be
 * stored: masking was decided by the caller. at is microseconds since the
 * epoch. Never blocks on the database. Returns 0 or -1 when out of memory
 * (the line is lost).
 */
int		 logw_put(struct logw *, int64_t deployment, int64_t seq,
		    int64_t at, enum logw_stream, int sensitive,
		    const char *line, size_t len);

/* One deployment's log as its producers (job.c, run.c) see it. Used on one
 * thread only (mask is not thread-safe). */
struct logw_sink {
	struct logw	*logw;
	struct mask	*mask;		/* for the worker's own lines */
	int64_t		 deployment;
	int64_t		 seq;		/* last seq used */
};

/*
 * Queue a 'system' line (printf-style, cut at 4 KiB) with the next seq,
 * masked like command output (mask_line), and say it in the daemon's own
 * log too.
 */
void		 logw_say(struct logw_sink *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * How many lines were ever given up on (the server refused their batch,
 * e.g. a full disk, or it was unreachable at exit); the reason of the last
 * time goes into why (whysz bytes; NULL is fine). A caller compares the
 * count before and after a command to see whether its log was lost.
 */
uint64_t	 logw_dropped(struct logw *, char *why, size_t whysz);

/* 1 while more than LOGW_MAX_BYTES are queued or being written. */
int		 logw_full(struct logw *);

/*
 * Wait until every line queued so far has been written (or given up on) or
 * timeout_ms pass. Returns 0 when flushed, -1 on timeout.
 */
int		 logw_flush(struct logw *, int timeout_ms);

/* Flush (waiting at most timeout_ms), stop the thread and free everything.
 * NULL is fine. */
void		 logw_stop(struct logw *, int timeout_ms);

/* Wall-clock microseconds since the epoch, for logw_put(). */
int64_t		 logw_now_usec(void);

#endif
