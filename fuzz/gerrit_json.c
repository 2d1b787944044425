/*
 * fuzz/gerrit_json.c: libFuzzer harness for the worker's Gerrit answer
 * parsers (worker/gerrit_json.c): ChangeInfo and MergeableInfo after the
 * ")]}'" line. The first input byte picks the pinned patchset (0-3); the
 * rest is the answer. The oracle: a parse that succeeds leaves every
 * string NUL-terminated within its buffer, a 40-hex revision, a patchset
 * and status as documented, votes within -2..2, and a change_record JSON
 * that parses back with the same change number.
 *
 * Run by tools/fuzz, which links lib/ and worker/ (without main.c).
 * Without -DSPIDERPIG_LIBFUZZER, a main() replays files (totp_fuzz.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gerrit_json.h"
#include "totp_fuzz.h"

static void
check_str(const char *s, size_t sz)
{
	if (memchr(s, '\0', sz) == NULL)
		abort();
}

static void
check_change(const struct gerrit_change *c, int pin)
{
	cJSON	*o;
	char	*js;
	size_t	 i;

	check_str(c->project, sizeof(c->project));
	check_str(c->branch, sizeof(c->branch));
	check_str(c->subject, sizeof(c->subject));
	check_str(c->owner, sizeof(c->owner));
	check_str(c->status, sizeof(c->status));
	if (strlen(c->revision) != 40 || strspn(c->revision,
	    "0123456789abcdef") != 40 || strlen(c->current_revision) != 40)
		abort();
	if (c->number < 1 || c->patchset < 1 || c->current_patchset < 1 ||
	    (pin > 0 && c->patchset != pin) || c->ncr > GERRIT_VOTES_MAX)
		abort();
	if (strcmp(c->status, "NEW") && strcmp(c->status, "MERGED") &&
	    strcmp(c->status, "ABANDONED"))
		abort();
	for (i = 0; i < c->ncr; i++)
		if (c->cr[i].value < -2 || c->cr[i].value > 2 ||
		    c->cr[i].value == 0)
			abort();
	if (c->cr_min < -2 || c->cr_max > 2 || (c->verified_set &&
	    (c->verified < -2 || c->verified > 2)))
		abort();
	if ((js = gerrit_change_json(c, -1)) == NULL)
		return;		/* out of memory */
	o = cJSON_Parse(js);
	if (o == NULL || cJSON_GetNumberValue(cJSON_GetObjectItem(o,
	    "change")) != (double)c->number)
		abort();
	cJSON_Delete(o);
	free(js);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gerrit_change	*c;
	char			 err[256], votes[256];
	int			 pin, m;

	if (size < 1 || size > GERRIT_BODY_MAX + 1)
		return 0;
	pin = data[0] & 3;
	if ((c = malloc(sizeof(*c))) == NULL)
		return 0;
	if (gerrit_change_parse((const char *)data + 1, size - 1, pin, c, err,
	    sizeof(err)) == 0) {
		check_change(c, pin);
		gerrit_votes_text(c, votes, sizeof(votes));
		check_str(votes, sizeof(votes));
	} else
		check_str(err, sizeof(err));
	if (gerrit_mergeable_parse((const char *)data + 1, size - 1, &m, err,
	    sizeof(err)) == 0 && m != 0 && m != 1)
		abort();
	free(c);
	return 0;
}
