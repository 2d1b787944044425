/* notify.h: tell systemd (Type=notify) that a daemon is ready or stopping,
 * and that its main loop is alive (WatchdogSec=). */
#ifndef SPIDERPIG_NOTIFY_H
#define SPIDERPIG_NOTIFY_H

/* READY=1; also reads the watchdog interval (sd_watchdog_enabled). */
void	notify_ready(void);
void	notify_stopping(void);

/*
 * WATCHDOG=1 when half the watchdog interval has passed since the last
 * one; nothing (one branch) without a watchdog. Call it from the loop that
 * does the daemon's work, on the thread that runs it, never from a helper
 * thread: a ping says that loop still turns. A call that blocks the loop
 * for longer than the interval (a hung database call) stops the pings, and
 * systemd restarts the daemon.
 */
void	notify_watchdog(void);

/* ms, cut down to when the next ping is due, for a poll() timeout in such
 * a loop (ms < 0, "forever", too). Without a watchdog: ms unchanged. */
int	notify_watchdog_cap(int ms);

#endif
