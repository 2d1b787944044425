/* canary_seeds.c: the httpbb_yaml, prom_json and logstash_json fuzz
 * harnesses over their seed corpora, one test per seed, so `make test`
 * (and `make asan`) replay every seed with the harnesses' oracles. */
#include <dirent.h>
#include <stdio.h>

#define LLVMFuzzerTestOneInput	fuzz_httpbb_yaml
#include "../../fuzz/httpbb_yaml.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_prom_json
#include "../../fuzz/prom_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_logstash_json
#include "../../fuzz/logstash_json.c"
#undef LLVMFuzzerTestOneInput

static int
seed_filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Replay every seed of corpus through fn; returns the number of seeds, or
 * -1 when the folder cannot be read. *tests counts TAP lines. */
static int
replay(const char *corpus, int (*fn)(const uint8_t *, size_t), int *tests)
{
	static uint8_t	  buf[HTTPBB_FILE_MAX + 1];
	struct dirent	**names;
	char		  path[512];
	FILE		 *f;
	size_t		  len;
	int		  i, n;

	if ((n = scandir(corpus, &names, seed_filter, alphasort)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", corpus, names[i]->d_name);
		free(names[i]);
		(*tests)++;
		if ((f = fopen(path, "rb")) == NULL) {
			printf("not ok %d - %s: cannot open\n", *tests, path);
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* An oracle that fails aborts, which fails the test. */
		fn(buf, len);
		printf("ok %d - %s\n", *tests, path);
	}
	free(names);
	return n;
}

int
main(void)
{
	const struct { const char *dir; int (*fn)(const uint8_t *, size_t); } c[] = {
		{ "fuzz/corpus/httpbb_yaml", fuzz_httpbb_yaml },
		{ "fuzz/corpus/prom_json", fuzz_prom_json },
		{ "fuzz/corpus/logstash_json", fuzz_logstash_json },
	};
	int	 tests = 0, failures = 0, i, n;

	for (i = 0; i < 3; i++) {
		n = replay(c[i].dir, c[i].fn, &tests);
		tests++;
		if (n < 3)
			failures++;
		printf("%sok %d - %s has seeds (%d)\n", n < 3 ? "not " : "",
		    tests, c[i].dir, n);
	}
	printf("1..%d\n", tests);
	return failures != 0;
}
