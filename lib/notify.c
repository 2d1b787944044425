/* notify.c: the daemons' readiness and watchdog messages to systemd,
 * through sd_notify. */
#include <stdint.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

/*
 * The watchdog: the interval systemd asked for (WatchdogSec=, passed as
 * WATCHDOG_USEC) in ms, 0 when there is none, and when the next ping is
 * due. One thread per process pings (its main loop), so no lock.
 */
static int64_t	wd_interval_ms;
static int64_t	wd_due_ms;

static int64_t
notify_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * READY=1 once a daemon serves (its sockets listen, its threads run).
 * Outside systemd NOTIFY_SOCKET is unset and sd_notify does nothing; a
 * failure to send is no reason to stop serving, so the result is ignored.
 * It also reads the watchdog interval, and sends the first ping with it.
 */
void
notify_ready(void)
{
	uint64_t	usec = 0;

	wd_interval_ms = 0;
	wd_due_ms = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
		wd_interval_ms = (int64_t)(usec / 1000);
	(void)sd_notify(0, "READY=1");
	notify_watchdog();
}

/* STOPPING=1 when shutdown begins, so systemd shows the unit deactivating. */
void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

void
notify_watchdog(void)
{
	int64_t	now;

	if (wd_interval_ms == 0 || (now = notify_now_ms()) < wd_due_ms)
		return;
	wd_due_ms = now + wd_interval_ms / 2;
	(void)sd_notify(0, "WATCHDOG=1");
}

int
notify_watchdog_cap(int ms)
{
	int64_t	left;

	if (wd_interval_ms == 0)
		return ms;
	left = wd_due_ms - notify_now_ms();
	if (left < 1)
		left = 1;
	return ms < 0 || ms > left ? (int)left : ms;
}
