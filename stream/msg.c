/* msg.c: the messages clients send, validated by table. Pure: no I/O. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "json.h"
#include "stream.h"

#define SEQ_MAX		9007199254740991LL	/* 2^53 - 1: exact in JSON */

enum field_type { F_STRING, F_ID, F_SEQ, F_BOOL };

/* The fields a message may carry; anything else is refused. */
static const struct field {
	const char	*name;
	enum field_type	 type;
	int		 subscribe;	/* allowed in a subscribe */
	int		 unsubscribe;	/* allowed in an unsubscribe */
} fields[] = {
	{ .name = "type",       .type = F_STRING, .subscribe = 1, .unsubscribe = 1 },
	{ .name = "deployment", .type = F_ID,     .subscribe = 1, .unsubscribe = 1 },
	{ .name = "after",      .type = F_SEQ,    .subscribe = 1, .unsubscribe = 0 },
	{ .name = "reveal",     .type = F_BOOL,   .subscribe = 1, .unsubscribe = 0 },
};

int
stream_user_valid(const char *u)
{
	size_t	i, n = strlen(u);

	if (n == 0 || n > STREAM_USER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || strchr("._@-", c) == NULL))
			return 0;
	}
	return 1;
}

/* One field's value into r; 0, or -1 with why. */
static int
field_value(const struct field *f, const cJSON *v, struct stream_req *r,
    char *why, size_t whysz)
{
	long long	n;

	switch (f->type) {
	case F_STRING:
		/* Only "type" is a string; its value was checked already. */
		return 0;
	case F_ID:
		if (json_integer(v, 1, SEQ_MAX, &n) != 0)
			goto bad;
		r->deployment = n;
		return 0;
	case F_SEQ:
		if (json_integer(v, 0, SEQ_MAX, &n) != 0)
			goto bad;
		r->after = n;
		return 0;
	case F_BOOL:
		if (!cJSON_IsBool(v))
			goto bad;
		r->reveal = cJSON_IsTrue(v);
		return 0;
	}
bad:
	snprintf(why, whysz, "%s: %s", f->name, f->type == F_BOOL ?
	    "must be true or false" : f->type == F_ID ?
	    "must be a deployment ID" : "must be a seq (0 or more)");
	return -1;
}

int
stream_req_parse(const char *buf, size_t len, struct stream_req *r,
    char *why, size_t whysz)
{
	const struct field	*f;
	cJSON			*doc, *type, *it;
	size_t			 at, i;
	int			 rc = -1, seen_id = 0;

	memset(r, 0, sizeof(*r));
	if (len > STREAM_RX_MAX) {
		snprintf(why, whysz, "message larger than %d bytes",
		    STREAM_RX_MAX);
		return -1;
	}
	if ((doc = json_parse_exact(buf, len, &at)) == NULL) {
		snprintf(why, whysz, "not JSON (at byte %zu)", at);
		return -1;
	}
	if (!cJSON_IsObject(doc)) {
		snprintf(why, whysz, "a message is a JSON object");
		goto out;
	}
	type = cJSON_GetObjectItemCaseSensitive(doc, "type");
	if (cJSON_IsString(type) && strcmp(type->valuestring, "subscribe") == 0)
		r->type = REQ_SUBSCRIBE;
	else if (cJSON_IsString(type) &&
	    strcmp(type->valuestring, "unsubscribe") == 0)
		r->type = REQ_UNSUBSCRIBE;
	else {
		snprintf(why, whysz, "type: must be subscribe or unsubscribe");
		goto out;
	}
	cJSON_ArrayForEach(it, doc) {
		f = NULL;
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (it->string != NULL &&
			    strcmp(it->string, fields[i].name) == 0)
				f = &fields[i];
		if (f == NULL || (r->type == REQ_SUBSCRIBE ? !f->subscribe :
		    !f->unsubscribe)) {
			snprintf(why, whysz, "%.40s: unknown field",
			    it->string != NULL ? it->string : "?");
			goto out;
		}
		if (field_value(f, it, r, why, whysz) != 0)
			goto out;
		seen_id |= f->type == F_ID;
	}
	if (!seen_id) {
		snprintf(why, whysz, "deployment: required");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(doc);
	return rc;
}
