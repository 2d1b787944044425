/* oidc_seeds.c: the oidc_jwt fuzz harness over its seed corpus, one test
 * per seed, so `make test` (and `make asan`) replay every seed. */
#define OIDC_FUZZ_NO_MAIN
#include "../../fuzz/oidc_jwt.c"

#include <dirent.h>
#include <stdio.h>

#define CORPUS	"fuzz/corpus/oidc_jwt"

static int
seed_filter(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

int
main(void)
{
	static uint8_t	  buf[2 * OIDC_MAX_JWKS + 1];
	struct dirent	**names;
	char		  path[512];
	FILE		 *f;
	size_t		  len;
	int		  i, n, tests = 0, failures = 0;

	if ((n = scandir(CORPUS, &names, seed_filter, alphasort)) == -1) {
		printf("Bail out! cannot read %s (run from the top folder)\n",
		    CORPUS);
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", CORPUS, names[i]->d_name);
		free(names[i]);
		tests++;
		if ((f = fopen(path, "rb")) == NULL) {
			failures++;
			printf("not ok %d - %s: cannot open\n", tests, path);
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* An invariant violation aborts, which fails the test. */
		LLVMFuzzerTestOneInput(buf, len);
		printf("ok %d - %s\n", tests, path);
	}
	free(names);
	tests++;
	if (n < 5)
		failures++;
	printf("%sok %d - at least 5 seeds (%d)\n", n < 5 ? "not " : "",
	    tests, n);
	printf("1..%d\n", tests);
	oidc_jwks_free(fuzz_jwks);
	cjose_jwk_release(fuzz_signer);
	return failures > 0;
}
