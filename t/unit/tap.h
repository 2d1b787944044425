/* tap.h: the TAP output every C unit test shares (header-only: each test
 * is one program). */
#ifndef SPIDERPIG_TAP_H
#define SPIDERPIG_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

/* One test line; returns cond so a caller can add a diagnostic. */
static int	ok(int cond, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3), unused));

static int
ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static __attribute__((unused)) int
tap_ok(int cond, const char *name)
{
	return ok(cond, "%s", name);
}

static __attribute__((unused)) void
tap_is_int(long long got, long long want, const char *name)
{
	if (!ok(got == want, "%s", name))
		printf("#   got %lld, want %lld\n", got, want);
}

static __attribute__((unused)) void
tap_is_str(const char *got, const char *want, const char *name)
{
	if (!ok(got != NULL && strcmp(got, want) == 0, "%s", name))
		printf("#   got \"%s\"\n#  want \"%s\"\n",
		    got == NULL ? "(null)" : got, want);
}

/* Stop the whole test program: the setup it needs failed. */
static __attribute__((unused, noreturn)) void
tap_bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(1);
}

/* The plan line; the exit status for main(). */
static __attribute__((unused)) int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
