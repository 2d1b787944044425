/* log_escape.c: the daemons' log lines carry no raw control characters. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "tap.h"

/* What log_warn/log_info wrote to stderr for one call, into out. */
static void
capture(int warn, const char *arg, char *out, size_t outsz)
{
	FILE	*f = tmpfile();
	int	 saved = dup(2);
	size_t	 n;

	fflush(stderr);
	dup2(fileno(f), 2);
	if (warn)
		log_warn("GET %s -> 500", arg);
	else
		log_info("login: %s is in no group", arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, outsz - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* True when s has no byte below 0x20 or 0x7f but its final newline. */
static int
clean(const char *s)
{
	size_t	 i, len = strlen(s);

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c == 0x7f) && !(c == '\n' && i == len - 1))
			return 0;
	}
	return len > 0 && s[len - 1] == '\n';
}

int
main(void)
{
	char	out[1024];

	log_init("log_escape");
	capture(1, "/x\x1b[31m\r\nFAKE 2026-01-01 spiderpig-fcgi: info: x\x7f", out,
	    sizeof(out));
	ok(clean(out), "a path with ESC, CR LF and DEL: one clean line");
	ok(strstr(out, "/x\\x1b[31m\\x0d\\x0aFAKE") != NULL &&
	    strstr(out, "\\x7f -> 500") != NULL, "they are written as \\xHH: %s",
	    out);
	capture(0, "eve\tmallory\\x0a", out, sizeof(out));
	ok(clean(out), "a name with a tab: one clean line");
	ok(strstr(out, "eve\\x09mallory\\\\x0a is in") != NULL,
	    "tab as \\x09, a backslash doubled (no forged escapes): %s", out);
	capture(0, "b\xc3\xa9la", out, sizeof(out));
	ok(strstr(out, "b\xc3\xa9la is in") != NULL, "UTF-8 passes unchanged");
	return tap_done();
}
