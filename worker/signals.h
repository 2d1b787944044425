/* signals.h: the worker's signals (SIGTERM, SIGINT, SIGCHLD), turned into
 * counters through a self-pipe so the loops can poll for them. */
#ifndef SPIDERPIG_SIGNALS_H
#define SPIDERPIG_SIGNALS_H

struct signals {
	int	 fd;		/* read end of the self-pipe: poll for POLLIN */
	int	 terms;		/* SIGTERM/SIGINT received so far */
	int	 child_exited;	/* SIGCHLD seen (set here, cleared by users) */
};

/*
 * Install the handlers and ignore SIGPIPE (a child's or libpq's closed pipe
 * must not kill the worker). One per process: the handler writes to a
 * single pipe. Returns 0, or -1 with errno set.
 */
int	 signals_init(struct signals *);

/* Read what the self-pipe holds into the counters, logging the first and
 * second SIGTERM. Never blocks. */
void	 signals_drain(struct signals *);

#endif
