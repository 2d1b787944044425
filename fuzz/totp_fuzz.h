/* totp_fuzz.h: a main() for the totp fuzz harnesses when built without
 * libFuzzer, so a plain compiler (and the sanitizer build) can replay a
 * corpus or a crash. Build with -DSPIDERPIG_LIBFUZZER -fsanitize=fuzzer to
 * fuzz instead:
 *   clang -DSPIDERPIG_LIBFUZZER -fsanitize=fuzzer,address,undefined -Ilib \
 *       fuzz/totp_code.c lib/totp.c $(pkg-config --cflags --libs liboath \
 *       libqrencode openssl)
 * Standalone: each argument is a file, or a folder whose files are run. */
#ifndef SPIDERPIG_TOTP_FUZZ_H
#define SPIDERPIG_TOTP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifndef SPIDERPIG_LIBFUZZER
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define FUZZ_INPUT_MAX	(1 << 20)

static int
fuzz_run_file(const char *path)
{
	static uint8_t	 buf[FUZZ_INPUT_MAX];
	FILE		*f;
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int
fuzz_run_path(const char *path)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		 sub[4096];
	int		 rc = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return fuzz_run_file(path);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode) &&
		    fuzz_run_file(sub) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char *argv[])
{
	int	 i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file-or-folder ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (fuzz_run_path(argv[i]) != 0)
			rc = 1;
	return rc;
}
#endif

#endif
