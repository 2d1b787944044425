/* notify.c: the watchdog helpers read WatchdogSec= from the environment
 * the way systemd passes it, and cost nothing without it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "notify.h"
#include "tap.h"

int
main(void)
{
	char	pid[24];
	int	ms;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	notify_ready();
	ok(notify_watchdog_cap(-1) == -1, "no watchdog: a poll may wait forever");
	ok(notify_watchdog_cap(250) == 250, "no watchdog: a timeout is left alone");

	setenv("WATCHDOG_USEC", "2000000", 1);
	notify_ready();
	ms = notify_watchdog_cap(-1);
	ok(ms >= 1 && ms <= 1000, "WatchdogSec=2s: the next ping is due within 1 s (%d ms)", ms);
	ok(notify_watchdog_cap(10) == 10, "a shorter timeout is left alone");
	ok(notify_watchdog_cap(5000) <= 1000, "a longer one is cut to the next ping");
	notify_watchdog();
	ok(notify_watchdog_cap(-1) >= 1, "a ping before it is due changes nothing");

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_ready();
	ok(notify_watchdog_cap(-1) >= 1, "WATCHDOG_PID naming us: the watchdog is ours");

	setenv("WATCHDOG_PID", "1", 1);
	notify_ready();
	ok(notify_watchdog_cap(-1) == -1, "WATCHDOG_PID naming another process: none");

	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "soon", 1);
	notify_ready();
	ok(notify_watchdog_cap(-1) == -1, "a WATCHDOG_USEC that is not a number: none");
	return tap_done();
}
