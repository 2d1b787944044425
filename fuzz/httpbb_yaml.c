/*
 * fuzz/httpbb_yaml.c: libFuzzer harness for the httpbb YAML parser
 * (lib/httpbb.c). Whatever the input, the parser returns a file or a
 * reason, never both; every parsed case has a path starting with '/', a
 * method and a host without control characters (they go into requests).
 * Each parsed case is then checked against a fixed answer, so the
 * assertion code and its regular expressions run on fuzzed patterns too.
 *
 * Run by tools/fuzz, which links lib/ and worker/ (without main.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpbb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct httpbb_kv hdr[] = {
		{ .name = "Content-Type", .value = "text/html" },
		{ .name = "X-Release", .value = "12" },
	};
	const struct httpbb_answer ans = {
		.status = 200, .headers = hdr, .nheaders = 2,
		.body = "<h1>release 12</h1>", .bodylen = 19,
	};
	struct httpbb_file *f;
	char	 why[256];
	size_t	 i;
	const char *s;

	f = httpbb_parse((const char *)data, size, why, sizeof(why));
	if (f == NULL) {
		if (why[0] == '\0')
			abort();
		return 0;
	}
	if (f->ncases == 0)
		abort();
	for (i = 0; i < f->ncases; i++) {
		const struct httpbb_case *c = &f->cases[i];

		if (c->path == NULL || c->path[0] != '/' || c->method == NULL ||
		    c->host == NULL || c->host[0] == '\0')
			abort();
		for (s = c->host; *s != '\0'; s++)
			if ((unsigned char)*s < 0x21)
				abort();
		(void)httpbb_check(c, &ans, why, sizeof(why));
	}
	httpbb_free(f);
	return 0;
}
