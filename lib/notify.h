/* notify.h: tell systemd (Type=notify) that a daemon is ready or stopping. */
#ifndef SPIDERPIG_NOTIFY_H
#define SPIDERPIG_NOTIFY_H

void	notify_ready(void);
void	notify_stopping(void);

#endif
