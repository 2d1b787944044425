/* notify.c: the daemons' readiness messages to systemd, through sd_notify. */
#include <systemd/sd-daemon.h>

#include "notify.h"

/*
 * READY=1 once a daemon serves (its sockets listen, its threads run).
 * Outside systemd NOTIFY_SOCKET is unset and sd_notify does nothing; a
 * failure to send is no reason to stop serving, so the result is ignored.
 */
void
notify_ready(void)
{
	(void)sd_notify(0, "READY=1");
}

/* STOPPING=1 when shutdown begins, so systemd shows the unit deactivating. */
void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}
