/* t/unit/scap.c: scap's SPIDERPIG_IO records (worker/scap.c): what is a
 * record, what each type carries, which prompts and steps are recognised. */
#include <stdio.h>
#include <string.h>

#include "scap.h"
#include "tap.h"

#define KEY	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static enum scap_type
parse(const char *line, struct scap_record *rec)
{
	return scap_record_parse(line, strlen(line), KEY, rec);
}

static void
roles(void)
{
	struct scap_record	 rec;

	parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"Backport the changes?\",\"choices\":"
	    "{\"Yes\":\"y\",\"No\":\"n\"},\"default\":\"n\"}", &rec);
	ok(scap_prompt_role(&rec) == SCAP_ROLE_CONFIRM, "the confirmation");
	ok(scap_prompt_default(&rec, SCAP_ROLE_CONFIRM) == 1, "defaults to no");
	scap_record_free(&rec);

	parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"Continue with deployment?\",\"choices\":"
	    "{\"Yes, continue with deployment\":\"y\",\"No, roll back "
	    "deployment and terminate\":\"n\"},\"default\":\"y\"}", &rec);
	ok(scap_prompt_role(&rec) == SCAP_ROLE_CONTINUE, "the continue prompt");
	ok(scap_prompt_default(&rec, SCAP_ROLE_CONTINUE) == 1,
	    "defaults to rolling back even when scap says otherwise");
	ok(scap_choice_rolls_back(&rec, 1) && !scap_choice_rolls_back(&rec, 0),
	    "its no rolls back");
	scap_record_free(&rec);

	parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"sync-canaries failed. What do you want "
	    "to do?\",\"choices\":{\"Retry\":\"r\",\"Ignore\":\"i\",\"Roll "
	    "back all stages\":\"b\",\"Exit\":\"x\"}}", &rec);
	ok(scap_prompt_role(&rec) == SCAP_ROLE_FAILURE, "the failure prompt");
	ok(rec.dflt == -1 && scap_prompt_default(&rec, SCAP_ROLE_FAILURE) == 2,
	    "without a default it rolls back");
	scap_record_free(&rec);

	parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"Acknowledge and release the deployment "
	    "lock\",\"choices\":{\"OK\":\"y\"},\"default\":\"y\"}", &rec);
	ok(scap_prompt_role(&rec) == SCAP_ROLE_ACK, "the acknowledgement");
	scap_record_free(&rec);
}

static void
steps(void)
{
	static const struct { const char *status, *state; } t[] = {
		{ "Waiting for Gerrit to merge 12345", "merging" },
		{ "Syncing to testservers", "syncing_test" },
		{ "Running httpbb checks on testservers", "smoke_testing" },
		{ "Checking testservers", "smoke_testing" },
		{ "Syncing canaries", "syncing_canary" },
		{ "Checking canary error rate", "checking_canary" },
		{ "Syncing to production", "syncing_production" },
		{ "Rolling back all stages", "rolling_back" },
		{ "Reproducing the build", NULL },
		{ "Preparing the release", NULL },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = scap_state_of_status(t[i].status);

		ok(got == t[i].state || (got != NULL && t[i].state != NULL &&
		    strcmp(got, t[i].state) == 0), "\"%s\" -> %s", t[i].status,
		    t[i].state != NULL ? t[i].state : "no step");
	}
}

int
main(void)
{
	struct scap_record	 rec;
	char			 nul[] = "{\"iokey\":\"" KEY "\",\"type\":\"line\","
				    "\"line\":\"a\"}";

	ok(parse("plain output", &rec) == SCAP_PLAIN, "plain output");
	ok(parse(" {\"iokey\":\"" KEY "\",\"type\":\"status\",\"status\":\"x\"}",
	    &rec) == SCAP_PLAIN, "a record must start with {");
	ok(parse("{\"iokey\":\"" "f123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef\",\"type\":\"status\",\"status\":\"x\"}", &rec) ==
	    SCAP_PLAIN, "another key is plain output");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"status\",\"status\":\"x\"",
	    &rec) == SCAP_PLAIN, "cut JSON is plain output");
	ok(scap_record_parse(nul, strlen(nul) - 1, KEY, &rec) == SCAP_PLAIN,
	    "the length given is the line");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"line\",\"line\":\"hi\","
	    "\"sensitive\":true}", &rec) == SCAP_LINE && rec.sensitive &&
	    strcmp(rec.text, "hi") == 0, "a sensitive line");
	scap_record_free(&rec);
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"status\",\"status\":"
	    "\"a\\u0007b\\u001b[1mc\"}", &rec) == SCAP_STATUS &&
	    rec.text != NULL && strchr(rec.text, 0x07) == NULL &&
	    strchr(rec.text, 0x1b) == NULL, "control characters leave a status");
	scap_record_free(&rec);
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"status\",\"status\":null}",
	    &rec) == SCAP_STATUS && rec.text == NULL, "a null status clears");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"progress\",\"progress\":"
	    "{\"totalTasks\":8,\"tasksFinishedOk\":1,\"tasksFinishedFailed\":1}}",
	    &rec) == SCAP_PROGRESS && rec.progress == 25, "progress from counts");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"progress\",\"progress\":"
	    "{\"tasksPercentComplete\":250}}", &rec) == SCAP_PROGRESS &&
	    rec.progress == 100, "progress is capped at 100");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"input_line\",\"prompt\":\"Branch?\"}", &rec) == SCAP_INPUT &&
	    strcmp(rec.text, "Branch?") == 0, "input_line");
	scap_record_free(&rec);
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"?\",\"choices\":{\"A\":\"a\",\"B\":\"a\"}}",
	    &rec) == SCAP_BAD, "two choices with one key are refused");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"?\",\"choices\":{\"A\":\"a b\"}}",
	    &rec) == SCAP_BAD, "a key with a blank is refused");
	ok(parse("{\"iokey\":\"" KEY "\",\"type\":\"interaction\",\"subtype\":"
	    "\"choices\",\"prompt\":\"?\",\"choices\":{\"\":\"a\"}}",
	    &rec) == SCAP_BAD, "a choice without a label is refused");
	roles();
	steps();
	return tap_done();
}
