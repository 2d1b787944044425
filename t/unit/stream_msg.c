/* stream_msg.c: the stream daemon's client messages and user names. */
#include <string.h>

#include "stream.h"
#include "tap.h"

static int
parse(const char *s, struct stream_req *r, char *why)
{
	return stream_req_parse(s, strlen(s), r, why, 128);
}

int
main(void)
{
	struct stream_req	r;
	char			why[128], big[STREAM_RX_MAX + 16];

	ok(parse("{\"type\":\"subscribe\",\"deployment\":4,\"after\":17,"
	    "\"reveal\":true}", &r, why) == 0 && r.type == REQ_SUBSCRIBE &&
	    r.deployment == 4 && r.after == 17 && r.reveal == 1,
	    "a full subscribe");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":4}", &r, why) == 0 &&
	    r.after == 0 && r.reveal == 0, "after and reveal default to 0");
	ok(parse("{\"deployment\":9,\"type\":\"unsubscribe\"}", &r, why) == 0 &&
	    r.type == REQ_UNSUBSCRIBE && r.deployment == 9,
	    "an unsubscribe, fields in any order");
	ok(parse("{\"type\":\"unsubscribe\",\"deployment\":9,\"after\":1}", &r,
	    why) == -1 && strstr(why, "after") != NULL,
	    "after is not a field of unsubscribe");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":4,\"user\":\"root\"}",
	    &r, why) == -1 && strstr(why, "unknown field") != NULL,
	    "an unknown field is refused (no identity from the client)");
	ok(parse("{\"type\":\"subscribe\"}", &r, why) == -1 &&
	    strstr(why, "required") != NULL, "deployment is required");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":0}", &r, why) == -1,
	    "deployment 0 is refused");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":1.5}", &r, why) == -1,
	    "a fractional deployment is refused");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":\"4\"}", &r, why) == -1,
	    "a deployment as a string is refused");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":9007199254740992}", &r,
	    why) == -1, "a deployment past 2^53 - 1 is refused");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":4,\"after\":-1}", &r,
	    why) == -1, "a negative after is refused");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":4,\"reveal\":1}", &r,
	    why) == -1, "reveal must be a boolean");
	ok(parse("{\"type\":\"delete\",\"deployment\":4}", &r, why) == -1 &&
	    strstr(why, "type") != NULL, "an unknown type is refused");
	ok(parse("[1,2]", &r, why) == -1, "an array is refused");
	ok(parse("{\"type\":\"subscribe\",\"deployment\":4} x", &r, why) == -1,
	    "trailing bytes are refused");
	ok(parse("", &r, why) == -1, "an empty message is refused");
	memset(big, ' ', sizeof(big));
	ok(stream_req_parse(big, sizeof(big), &r, why, sizeof(why)) == -1 &&
	    strstr(why, "larger") != NULL, "a message over the limit is refused");

	ok(stream_user_valid("alice"), "a user name");
	ok(stream_user_valid("a.b_c@d-e"), "a user name with . _ @ -");
	ok(!stream_user_valid(""), "an empty user name is refused");
	ok(!stream_user_valid(".alice"), "a user name starting with . is refused");
	ok(!stream_user_valid("alice bob"), "a space is refused");
	ok(!stream_user_valid("alice\"}"), "JSON punctuation is refused");
	return tap_done();
}
