/* gerrit_json.c (unit): Gerrit's documented ChangeInfo and MergeableInfo
 * answers parse into what a deployment shows; answers without the )]}'
 * line, malformed or missing fields are refused with a reason; the newest
 * patchset in git ls-remote output. */
#include <stdio.h>
#include <string.h>

#include "gerrit_json.h"
#include "gitsrc.h"
#include "tap.h"

#define R1 "1111111111111111111111111111111111111111"
#define R2 "2222222222222222222222222222222222222222"

static const char change[] = ")]}'\n{\"_number\": 12345, \"project\": "
    "\"mediawiki/core\", \"branch\": \"wmf/1.45\", \"subject\": \"Fix it\", "
    "\"status\": \"NEW\", \"owner\": {\"_account_id\": 7, \"name\": "
    "\"Alice\"}, \"current_revision\": \"" R2 "\", \"revisions\": {\"" R1
    "\": {\"_number\": 1}, \"" R2 "\": {\"_number\": 2}}, \"labels\": "
    "{\"Code-Review\": {\"all\": [{\"value\": 2, \"name\": \"Bob\"}, "
    "{\"value\": -2, \"username\": \"rita\"}, {\"_account_id\": 9}]}, "
    "\"Verified\": {\"all\": [{\"value\": 1}, {\"value\": -1, \"name\": "
    "\"CI\"}]}}}";

static void
refused(const char *body, int pin, const char *want, const char *name)
{
	struct gerrit_change	 c;
	char			 err[256];

	if (!ok(gerrit_change_parse(body, strlen(body), pin, &c, err,
	    sizeof(err)) == -1 && strstr(err, want) != NULL, "%s", name))
		printf("#   err \"%s\"\n", err);
}

int
main(void)
{
	struct gerrit_change	 c;
	char			 err[256], votes[128];
	int			 m = -1;

	ok(gerrit_change_parse(change, strlen(change), 0, &c, err,
	    sizeof(err)) == 0, "a documented ChangeInfo parses");
	tap_is_int(c.number, 12345, "_number");
	tap_is_str(c.project, "mediawiki/core", "project");
	tap_is_str(c.branch, "wmf/1.45", "branch");
	tap_is_str(c.owner, "Alice", "owner by name");
	tap_is_int(c.patchset, 2, "current patchset");
	tap_is_str(c.revision, R2, "current revision");
	tap_is_int(c.cr_min, -2, "the lowest Code-Review vote");
	tap_is_str(c.cr_min_who, "rita", "who gave it (username)");
	tap_is_int(c.verified, -1, "the CI verdict is the lowest Verified vote");
	gerrit_votes_text(&c, votes, sizeof(votes));
	tap_is_str(votes, "CR +2 -2, Verified -1", "votes as text");
	ok(gerrit_change_parse(change, strlen(change), 1, &c, err,
	    sizeof(err)) == 0 && c.patchset == 1 && strcmp(c.revision, R1) ==
	    0 && c.current_patchset == 2, "a pin picks that patchset's revision");
	refused(change, 3, "has no patchset 3", "a pin on a missing patchset");
	refused(change + 5, 0, "does not start with Gerrit's )]}'",
	    "JSON without the )]}' line");
	refused(")]}'{}", 0, "no line break", "no line break after )]}'");
	refused(")]}'\n{\"_number\": 1", 0, "malformed JSON", "cut-off JSON");
	refused(")]}'\n[]", 0, "not a JSON object", "an array");
	refused(")]}'\n{\"_number\": 1, \"project\": \"p\", \"branch\": \"b\", "
	    "\"subject\": \"s\", \"status\": \"DRAFT\"}", 0, "status is not",
	    "an unknown status");
	refused(")]}'\n{\"_number\": 1, \"project\": \"p\", \"branch\": \"b\", "
	    "\"subject\": \"s\", \"status\": \"NEW\", \"current_revision\": "
	    "\"" R1 "\", \"revisions\": {}}", 0, "not among the revisions",
	    "a current_revision not among the revisions");
	ok(gerrit_mergeable_parse(")]}'\n{\"mergeable\": false}", 25, &m, err,
	    sizeof(err)) == 0 && m == 0, "MergeableInfo false");
	ok(gerrit_mergeable_parse(")]}'\n{\"mergeable\": \"yes\"}", 26, &m, err,
	    sizeof(err)) == -1, "a non-boolean mergeable is refused");

	tap_is_int(gitsrc_newest_patchset(R1 "\trefs/changes/45/12345/1\n" R2
	    "\trefs/changes/45/12345/10\n" R1 "\trefs/changes/45/12345/meta\n"
	    R1 "\trefs/changes/45/123456/11\n", 12345), 10,
	    "the newest patchset in ls-remote output (meta and other changes "
	    "ignored)");
	tap_is_int(gitsrc_newest_patchset("", 5), 0, "none");
	return tap_done();
}
