/*
 * stream_msg.c: libFuzzer harness for the stream daemon's parsers of outside
 * input: the messages clients send (stream_req_parse) and the user name
 * nginx passes on (stream_user_valid). Checks the contract too: a message
 * that parses has a deployment in [1, 2^53 - 1], an after in [0, 2^53 - 1]
 * and reveal 0 or 1; a refusal always says why.
 *
 * libFuzzer: `tools/fuzz stream_msg` (builds with -DSPIDERPIG_LIBFUZZER).
 * Standalone, to replay files under valgrind or gdb:
 *   cc -std=c11 -D_GNU_SOURCE -g -Ilib -Istream -I/usr/include/cjson \
 *     -I/usr/include/postgresql fuzz/stream_msg.c stream/msg.c lib/json.c \
 *     -lcjson -lpq -o build/stream_msg-replay
 *   build/stream_msg-replay FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_req	 r;
	char			 why[128], user[STREAM_USER_MAX + 2];
	size_t			 n;

	why[0] = '\0';
	if (stream_req_parse((const char *)data, size, &r, why,
	    sizeof(why)) == 0) {
		if (r.deployment < 1 || r.deployment > 9007199254740991LL ||
		    r.after < 0 || r.after > 9007199254740991LL ||
		    (r.reveal != 0 && r.reveal != 1) ||
		    (r.type != REQ_SUBSCRIBE && r.type != REQ_UNSUBSCRIBE))
			abort();
	} else if (why[0] == '\0')
		abort();
	n = size < sizeof(user) - 1 ? size : sizeof(user) - 1;
	memcpy(user, data, n);
	user[n] = '\0';
	(void)stream_user_valid(user);
	return 0;
}

#define FUZZ_REPLAY_MAX	(STREAM_RX_MAX + 2)
#include "replay.h"
