/* scap.c: parse scap's SPIDERPIG_IO records and recognise its steps. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lines.h"
#include "scap.h"

/* a == b over n bytes without an early exit. */
static int
same_secret(const char *a, const char *b, size_t n)
{
	unsigned char	 d = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

/*
 * A copy of s fit for a text column and a page: valid UTF-8 (anything else
 * becomes U+FFFD), control characters as spaces (newlines kept when
 * newlines is set), at most max bytes, cut before a character. NULL when
 * out of memory.
 */
static char *
clean_text(const char *s, size_t max, int newlines)
{
	size_t	 n = strlen(s), i = 0, o = 0, cl;
	char	*out;

	if ((out = malloc(max + 1)) == NULL)
		return NULL;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			if (o + 1 > max)
				break;
			out[o++] = (c < 0x20 && !(newlines && c == '\n')) ||
			    c == 0x7f ? ' ' : (char)c;
			i++;
			continue;
		}
		cl = utf8_valid_len((const unsigned char *)s + i, n - i);
		if (cl == 0) {
			if (o + 3 > max)
				break;
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (o + cl > max)
			break;
		memcpy(out + o, s + i, cl);
		o += cl;
		i += cl;
	}
	out[o] = '\0';
	return out;
}

/* A choice's key goes back on scap's stdin followed by "\n": printable
 * ASCII without blanks, 1..SCAP_CHOICE_KEY_MAX bytes. */
static int
key_ok(const char *k)
{
	size_t	 i, n = strlen(k);

	if (n == 0 || n > SCAP_CHOICE_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] <= 0x20 || k[i] >= 0x7f)
			return 0;
	return 1;
}

static enum scap_type
bad(struct scap_record *rec, const char *why)
{
	scap_record_free(rec);
	rec->type = SCAP_BAD;
	rec->why = why;
	return SCAP_BAD;
}

/* {"type": "line", "line": TEXT, "sensitive": BOOL} */
static enum scap_type
parse_line(cJSON *o, struct scap_record *rec)
{
	cJSON	*t = cJSON_GetObjectItemCaseSensitive(o, "line");
	cJSON	*s = cJSON_GetObjectItemCaseSensitive(o, "sensitive");

	if (!cJSON_IsString(t))
		return bad(rec, "a line record without a \"line\" string");
	if (s != NULL && !cJSON_IsBool(s))
		return bad(rec, "\"sensitive\" is not true or false");
	if ((rec->text = strdup(t->valuestring)) == NULL)
		return bad(rec, "out of memory");
	rec->sensitive = cJSON_IsTrue(s);
	return rec->type = SCAP_LINE;
}

/* {"type": "status", "status": TEXT or null} */
static enum scap_type
parse_status(cJSON *o, struct scap_record *rec)
{
	cJSON	*t = cJSON_GetObjectItemCaseSensitive(o, "status");

	if (cJSON_IsNull(t))
		return rec->type = SCAP_STATUS;
	if (!cJSON_IsString(t))
		return bad(rec, "a status record without a \"status\" string "
		    "or null");
	if ((rec->text = clean_text(t->valuestring, SCAP_STATUS_MAX, 0)) ==
	    NULL)
		return bad(rec, "out of memory");
	return rec->type = SCAP_STATUS;
}

static double
num(cJSON *o, const char *name)
{
	cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ?
	    v->valuedouble : NAN;
}

/* {"type": "progress", "progress": {tasksPercentComplete, totalTasks,
 * tasksFinishedOk, tasksFinishedFailed, progressFinished, ...} or null} */
static enum scap_type
parse_progress(cJSON *o, struct scap_record *rec)
{
	cJSON	*p = cJSON_GetObjectItemCaseSensitive(o, "progress");
	double	 pct, total, done;

	rec->progress = -1;
	if (cJSON_IsNull(p))
		return rec->type = SCAP_PROGRESS;
	if (!cJSON_IsObject(p))
		return bad(rec, "a progress record without a \"progress\" "
		    "object");
	pct = num(p, "tasksPercentComplete");
	if (isnan(pct)) {
		total = num(p, "totalTasks");
		done = num(p, "tasksFinishedOk") + num(p, "tasksFinishedFailed");
		if (!isnan(total) && !isnan(done) && total > 0)
			pct = 100 * done / total;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
	    "progressFinished")))
		pct = 100;
	if (isnan(pct))
		return bad(rec, "a progress record without a percentage or "
		    "task counts");
	rec->progress = pct < 0 ? 0 : pct > 100 ? 100 : pct;
	return rec->type = SCAP_PROGRESS;
}

/* "choices": {"Label": "key", ...}, "default": "key" */
static enum scap_type
parse_choices(cJSON *o, struct scap_record *rec)
{
	cJSON	*c = cJSON_GetObjectItemCaseSensitive(o, "choices");
	cJSON	*d = cJSON_GetObjectItemCaseSensitive(o, "default");
	cJSON	*el;
	size_t	 i, j;

	if (!cJSON_IsObject(c) || c->child == NULL)
		return bad(rec, "a choices prompt without choices");
	rec->dflt = -1;
	cJSON_ArrayForEach(el, c) {
		if (rec->nchoices == SCAP_MAX_CHOICES)
			return bad(rec, "more than 16 choices");
		if (!cJSON_IsString(el) || !key_ok(el->valuestring))
			return bad(rec, "a choice's key is not 1 to 32 "
			    "printable characters");
		i = rec->nchoices;
		if ((rec->labels[i] = clean_text(el->string, SCAP_LABEL_MAX,
		    0)) == NULL || (rec->keys[i] = strdup(el->valuestring)) ==
		    NULL) {
			free(rec->labels[i]);
			return bad(rec, "out of memory");
		}
		rec->nchoices++;
		if (rec->labels[i][0] == '\0')
			return bad(rec, "a choice without a label");
		for (j = 0; j < i; j++)
			if (strcmp(rec->keys[j], rec->keys[i]) == 0)
				return bad(rec, "two choices with one key");
		if (cJSON_IsString(d) && strcmp(d->valuestring,
		    rec->keys[i]) == 0)
			rec->dflt = (int)i;
	}
	return rec->type = SCAP_CHOICES;
}

/* {"type": "interaction", "subtype": "choices"|"input_line",
 *  "prompt": TEXT, ...} */
static enum scap_type
parse_interaction(cJSON *o, struct scap_record *rec)
{
	cJSON	*st = cJSON_GetObjectItemCaseSensitive(o, "subtype");
	cJSON	*p = cJSON_GetObjectItemCaseSensitive(o, "prompt");

	if (!cJSON_IsString(st))
		return bad(rec, "an interaction without a \"subtype\"");
	if (!cJSON_IsString(p))
		return bad(rec, "an interaction without a \"prompt\" string");
	if ((rec->text = clean_text(p->valuestring, SCAP_TEXT_MAX, 1)) ==
	    NULL)
		return bad(rec, "out of memory");
	if (strcmp(st->valuestring, "input_line") == 0)
		return rec->type = SCAP_INPUT;
	if (strcmp(st->valuestring, "choices") == 0)
		return parse_choices(o, rec);
	return bad(rec, "an interaction of an unknown subtype");
}

enum scap_type
scap_record_parse(const char *line, size_t len, const char *key,
    struct scap_record *rec)
{
	cJSON		*o, *k, *t;
	enum scap_type	 type;

	memset(rec, 0, sizeof(*rec));
	rec->type = SCAP_PLAIN;
	if (len == 0 || line[0] != '{' || key == NULL ||
	    strlen(key) != SCAP_KEY_HEX)
		return SCAP_PLAIN;
	if ((o = cJSON_ParseWithLength(line, len)) == NULL)
		return SCAP_PLAIN;
	k = cJSON_GetObjectItemCaseSensitive(o, "iokey");
	if (!cJSON_IsObject(o) || !cJSON_IsString(k) ||
	    strlen(k->valuestring) != SCAP_KEY_HEX ||
	    !same_secret(k->valuestring, key, SCAP_KEY_HEX)) {
		cJSON_Delete(o);
		return SCAP_PLAIN;
	}
	t = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (!cJSON_IsString(t))
		type = bad(rec, "a record without a \"type\"");
	else if (strcmp(t->valuestring, "line") == 0)
		type = parse_line(o, rec);
	else if (strcmp(t->valuestring, "status") == 0)
		type = parse_status(o, rec);
	else if (strcmp(t->valuestring, "progress") == 0)
		type = parse_progress(o, rec);
	else if (strcmp(t->valuestring, "interaction") == 0)
		type = parse_interaction(o, rec);
	else
		type = bad(rec, "a record of an unknown type");
	cJSON_Delete(o);
	return type;
}

void
scap_record_free(struct scap_record *rec)
{
	size_t	 i;

	if (rec == NULL)
		return;
	free(rec->text);
	rec->text = NULL;
	for (i = 0; i < rec->nchoices; i++) {
		free(rec->labels[i]);
		free(rec->keys[i]);
		rec->labels[i] = rec->keys[i] = NULL;
	}
	rec->nchoices = 0;
}

/* s contains word at the start of one of its words ("prod" in "Syncing
 * to production", not in "reproduce"), ignoring case. */
static int
has(const char *s, const char *word)
{
	const char	*p;

	if (s == NULL)
		return 0;
	for (p = s; (p = strcasestr(p, word)) != NULL; p++)
		if (p == s || !isalpha((unsigned char)p[-1]))
			return 1;
	return 0;
}

int
scap_choice_rolls_back(const struct scap_record *rec, size_t i)
{
	return i < rec->nchoices && (has(rec->labels[i], "roll back") ||
	    has(rec->labels[i], "rollback") || has(rec->labels[i],
	    "roll-back"));
}

enum scap_role
scap_prompt_role(const struct scap_record *rec)
{
	size_t	 i;
	int	 rolls_back = 0, retries = 0, continues = 0;

	if (rec->type != SCAP_CHOICES)
		return SCAP_ROLE_OTHER;
	for (i = 0; i < rec->nchoices; i++) {
		rolls_back |= scap_choice_rolls_back(rec, i);
		retries |= has(rec->labels[i], "retry");
		continues |= has(rec->labels[i], "continue");
	}
	if (rec->nchoices == 1 && (has(rec->text, "acknowledge") ||
	    has(rec->labels[0], "acknowledge")))
		return SCAP_ROLE_ACK;
	if (retries || (has(rec->text, "failed") && rolls_back))
		return SCAP_ROLE_FAILURE;
	if (continues || has(rec->text, "continue with"))
		return SCAP_ROLE_CONTINUE;
	if (has(rec->text, "backport"))
		return SCAP_ROLE_CONFIRM;
	return SCAP_ROLE_OTHER;
}

int
scap_prompt_default(const struct scap_record *rec, enum scap_role role)
{
	size_t	 i;

	if (role == SCAP_ROLE_CONTINUE || role == SCAP_ROLE_FAILURE)
		for (i = 0; i < rec->nchoices; i++)
			if (scap_choice_rolls_back(rec, i))
				return (int)i;
	if (rec->dflt >= 0)
		return rec->dflt;
	/* No usable default: the choice that does the least. */
	for (i = 0; i < rec->nchoices; i++)
		if (strcasecmp(rec->keys[i], "n") == 0 ||
		    has(rec->labels[i], "abort") || has(rec->labels[i], "exit") ||
		    strncasecmp(rec->labels[i], "no", 2) == 0)
			return (int)i;
	return 0;
}

const char *
scap_state_of_status(const char *s)
{
	if (s == NULL)
		return NULL;
	if (has(s, "rolling back") || has(s, "roll back") ||
	    has(s, "rollback"))
		return "rolling_back";
	if (has(s, "canar"))
		return has(s, "check") || has(s, "error") ||
		    has(s, "logstash") ? "checking_canary" : "syncing_canary";
	if (has(s, "prod"))
		return "syncing_production";
	if (has(s, "httpbb") || has(s, "smoke") || ((has(s, "testserver") ||
	    has(s, "test server")) && has(s, "check")))
		return "smoke_testing";
	if (has(s, "testserver") || has(s, "test server") ||
	    has(s, "mwdebug"))
		return "syncing_test";
	if (has(s, "merg") || has(s, "gerrit") || has(s, "+2"))
		return "merging";
	return NULL;
}
