/* totp_tap.h: the few TAP helpers the totp unit tests share. */
#ifndef SPIDERPIG_TOTP_TAP_H
#define SPIDERPIG_TOTP_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* One TAP line; returns cond so a caller can add a diagnostic. */
static inline int
tap_ok(int cond, const char *name)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	return cond;
}

static inline void
tap_is_int(long long got, long long want, const char *name)
{
	if (!tap_ok(got == want, name))
		printf("#   got %lld, want %lld\n", got, want);
}

static inline void
tap_is_str(const char *got, const char *want, const char *name)
{
	if (!tap_ok(got != NULL && strcmp(got, want) == 0, name))
		printf("#   got \"%s\"\n#  want \"%s\"\n",
		    got == NULL ? "(null)" : got, want);
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
