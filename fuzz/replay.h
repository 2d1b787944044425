/*
 * replay.h: the standalone main() a harness gets without libFuzzer: it
 * replays each file named on the command line through
 * LLVMFuzzerTestOneInput (crashes and seeds, under gdb or valgrind). A
 * harness defines FUZZ_REPLAY_MAX (the largest input it reads) and
 * includes this file last.
 */
#ifndef SPIDERPIG_LIBFUZZER
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char *argv[])
{
	static uint8_t	 buf[FUZZ_REPLAY_MAX];
	FILE		*fp;
	size_t		 n;
	int		 i;

	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, n);
		printf("%s: ok\n", argv[i]);
	}
	return 0;
}
#endif
