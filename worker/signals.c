/* signals.c: a self-pipe for SIGTERM, SIGINT and SIGCHLD. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "signals.h"
#include "util.h"

static int	sigpipe_wr = -1;

static void
on_signal(int sig)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)sig;

	(void)!write(sigpipe_wr, &c, 1);
	errno = saved;
}

int
signals_init(struct signals *s)
{
	struct sigaction	sa;
	int			p[2];

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	s->fd = p[0];
	sigpipe_wr = p[1];
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGCHLD, &sa, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void
signals_drain(struct signals *s)
{
	unsigned char	buf[64];
	ssize_t		n, i;

	while ((n = read(s->fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == SIGCHLD) {
				s->child_exited = 1;
				continue;
			}
			if (++s->terms == 1)
				log_info("%s: finishing the current stage, "
				    "then exiting", strsignal(buf[i]));
			else if (s->terms == 2)
				log_info("%s again: killing the running "
				    "command and exiting", strsignal(buf[i]));
		}
}
