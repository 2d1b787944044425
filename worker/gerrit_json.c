/* gerrit_json.c: parse Gerrit's ChangeInfo and MergeableInfo answers. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gerrit_json.h"
#include "http.h"
#include "json.h"

/* Every JSON answer of Gerrit's REST API starts with this line, against
 * cross-site script inclusion. */
#define GERRIT_XSSI	")]}'"

static void
gj_err(char *err, size_t errsz, const char *why)
{
	snprintf(err, errsz, "%s", why);
}

/*
 * Check the prefix and the text, then parse the JSON after the prefix
 * line. Returns the parsed value (cJSON_Delete) or NULL with err.
 */
static cJSON *
gj_open(const char *body, size_t len, char *err, size_t errsz)
{
	size_t	 plen = sizeof(GERRIT_XSSI) - 1, at;
	cJSON	*root;

	if (len > GERRIT_BODY_MAX) {
		gj_err(err, errsz, "answer larger than 1 MiB");
		return NULL;
	}
	if (len < plen || memcmp(body, GERRIT_XSSI, plen) != 0) {
		gj_err(err, errsz, "answer does not start with Gerrit's )]}' "
		    "line: not a Gerrit JSON answer");
		return NULL;
	}
	body += plen;
	len -= plen;
	if (len > 0 && body[0] == '\r') {
		body++;
		len--;
	}
	if (len == 0 || body[0] != '\n') {
		gj_err(err, errsz, "no line break after )]}'");
		return NULL;
	}
	if (!http_text_valid(body, len)) {
		gj_err(err, errsz, "answer is not UTF-8 text without NUL bytes");
		return NULL;
	}
	if ((root = json_parse_exact(body, len, &at)) == NULL) {
		snprintf(err, errsz, "malformed JSON at byte %zu of the answer",
		    at + plen);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		gj_err(err, errsz, "answer is not a JSON object");
		return NULL;
	}
	return root;
}

/* Copy the string member name of o into dst; -1 when missing, not a
 * string, empty or too long. */
static int
gj_str(const cJSON *o, const char *name, char *dst, size_t dstsz)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t		 n;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -1;
	n = strlen(v->valuestring);
	if (n == 0 || n >= dstsz)
		return -1;
	memcpy(dst, v->valuestring, n + 1);
	return 0;
}

/* An account (AccountInfo) as a person reads it: name, else username,
 * else email, else "account N". */
static void
gj_account(const cJSON *a, char *dst, size_t dstsz)
{
	long long	 id;

	if (cJSON_IsObject(a) && (gj_str(a, "name", dst, dstsz) == 0 ||
	    gj_str(a, "username", dst, dstsz) == 0 ||
	    gj_str(a, "email", dst, dstsz) == 0))
		return;
	if (cJSON_IsObject(a) && json_integer(cJSON_GetObjectItemCaseSensitive(
	    a, "_account_id"), 0, 1LL << 40, &id) == 0)
		snprintf(dst, dstsz, "account %lld", id);
	else
		snprintf(dst, dstsz, "unknown account");
}

/* 1 when s is 40 lowercase hex digits. */
static int
gj_sha(const char *s)
{
	size_t	i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[40] == '\0';
}

/*
 * The revisions: the current one (current_revision, whose _number is in
 * revisions) and, when pin > 0, the revision whose _number is pin.
 */
static int
gj_revisions(const cJSON *root, int pin, struct gerrit_change *c, char *err,
    size_t errsz)
{
	const cJSON	*revs, *r;
	long long	 n;

	if (gj_str(root, "current_revision", c->current_revision,
	    sizeof(c->current_revision)) == -1 || !gj_sha(c->current_revision)) {
		gj_err(err, errsz, "no current_revision (40 hex digits)");
		return -1;
	}
	revs = cJSON_GetObjectItemCaseSensitive(root, "revisions");
	if (!cJSON_IsObject(revs)) {
		gj_err(err, errsz, "no revisions object");
		return -1;
	}
	cJSON_ArrayForEach(r, revs) {
		if (r->string == NULL || strlen(r->string) != 40 ||
		    !gj_sha(r->string) || !cJSON_IsObject(r) ||
		    json_integer(cJSON_GetObjectItemCaseSensitive(r, "_number"),
		    1, 99999, &n) == -1) {
			gj_err(err, errsz, "a revision without a 40-hex name and "
			    "a patchset _number");
			return -1;
		}
		if (strcmp(r->string, c->current_revision) == 0)
			c->current_patchset = (int)n;
		if (pin > 0 && n == pin) {
			memcpy(c->revision, r->string, 41);
			c->patchset = pin;
		}
	}
	if (c->current_patchset == 0) {
		gj_err(err, errsz, "current_revision is not among the revisions");
		return -1;
	}
	if (pin > 0 && c->patchset == 0) {
		snprintf(err, errsz, "change %lld has no patchset %d", c->number,
		    pin);
		return -1;
	}
	if (pin <= 0) {
		memcpy(c->revision, c->current_revision, 41);
		c->patchset = c->current_patchset;
	}
	return 0;
}

/* The votes of one label (LabelInfo with DETAILED_LABELS: "all"); a label
 * without "all" counts "rejected" as -1 and "approved" as +1. Calls back
 * for each vote. Returns -1 when the label is malformed. */
static int
gj_label(const cJSON *labels, const char *name,
    void (*vote)(struct gerrit_change *, const char *, int),
    struct gerrit_change *c)
{
	const cJSON	*l, *all, *v;
	long long	 val;
	char		 who[128];

	l = cJSON_GetObjectItemCaseSensitive(labels, name);
	if (l == NULL)
		return 0;
	if (!cJSON_IsObject(l))
		return -1;
	all = cJSON_GetObjectItemCaseSensitive(l, "all");
	if (all == NULL) {
		if (cJSON_GetObjectItemCaseSensitive(l, "rejected") != NULL) {
			gj_account(cJSON_GetObjectItemCaseSensitive(l,
			    "rejected"), who, sizeof(who));
			vote(c, who, -1);
		} else if (cJSON_GetObjectItemCaseSensitive(l, "approved") !=
		    NULL) {
			gj_account(cJSON_GetObjectItemCaseSensitive(l,
			    "approved"), who, sizeof(who));
			vote(c, who, 1);
		}
		return 0;
	}
	if (!cJSON_IsArray(all))
		return -1;
	cJSON_ArrayForEach(v, all) {
		if (!cJSON_IsObject(v))
			return -1;
		val = 0;	/* a reviewer who has not voted has no value */
		if (cJSON_GetObjectItemCaseSensitive(v, "value") != NULL &&
		    json_integer(cJSON_GetObjectItemCaseSensitive(v, "value"),
		    -2, 2, &val) == -1)
			return -1;
		gj_account(v, who, sizeof(who));
		vote(c, who, (int)val);
	}
	return 0;
}

static void
gj_vote_cr(struct gerrit_change *c, const char *who, int value)
{
	if (value == 0)
		return;
	if (c->ncr < GERRIT_VOTES_MAX) {
		snprintf(c->cr[c->ncr].who, sizeof(c->cr[0].who), "%s", who);
		c->cr[c->ncr++].value = value;
	}
	if (value < c->cr_min) {
		c->cr_min = value;
		snprintf(c->cr_min_who, sizeof(c->cr_min_who), "%s", who);
	}
	if (value > c->cr_max)
		c->cr_max = value;
}

static void
gj_vote_verified(struct gerrit_change *c, const char *who, int value)
{
	(void)who;
	if (value == 0)
		return;
	if (!c->verified_set || value < c->verified)
		c->verified = value;
	c->verified_set = 1;
}

int
gerrit_change_parse(const char *body, size_t len, int pin,
    struct gerrit_change *c, char *err, size_t errsz)
{
	cJSON		*root;
	const cJSON	*labels;
	int		 rc = -1;

	memset(c, 0, sizeof(*c));
	if ((root = gj_open(body, len, err, errsz)) == NULL)
		return -1;
	if (json_integer(cJSON_GetObjectItemCaseSensitive(root, "_number"), 1,
	    999999999, &c->number) == -1) {
		gj_err(err, errsz, "no change _number");
		goto out;
	}
	if (gj_str(root, "project", c->project, sizeof(c->project)) == -1 ||
	    gj_str(root, "branch", c->branch, sizeof(c->branch)) == -1 ||
	    gj_str(root, "subject", c->subject, sizeof(c->subject)) == -1 ||
	    gj_str(root, "status", c->status, sizeof(c->status)) == -1) {
		gj_err(err, errsz, "project, branch, subject or status missing "
		    "or too long");
		goto out;
	}
	if (strcmp(c->status, "NEW") != 0 && strcmp(c->status, "MERGED") != 0 &&
	    strcmp(c->status, "ABANDONED") != 0) {
		gj_err(err, errsz, "status is not NEW, MERGED or ABANDONED");
		goto out;
	}
	gj_account(cJSON_GetObjectItemCaseSensitive(root, "owner"), c->owner,
	    sizeof(c->owner));
	if (gj_revisions(root, pin, c, err, errsz) == -1)
		goto out;
	labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
	if (labels != NULL && (!cJSON_IsObject(labels) ||
	    gj_label(labels, "Code-Review", gj_vote_cr, c) == -1 ||
	    gj_label(labels, "Verified", gj_vote_verified, c) == -1)) {
		gj_err(err, errsz, "malformed labels");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

int
gerrit_mergeable_parse(const char *body, size_t len, int *mergeable,
    char *err, size_t errsz)
{
	cJSON		*root;
	const cJSON	*m;
	int		 rc = -1;

	if ((root = gj_open(body, len, err, errsz)) == NULL)
		return -1;
	m = cJSON_GetObjectItemCaseSensitive(root, "mergeable");
	if (!cJSON_IsBool(m))
		gj_err(err, errsz, "no boolean mergeable");
	else {
		*mergeable = cJSON_IsTrue(m);
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

char *
gerrit_change_json(const struct gerrit_change *c, int mergeable)
{
	cJSON	*o, *votes, *v;
	char	*s = NULL;
	size_t	 i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (cJSON_AddNumberToObject(o, "change", (double)c->number) == NULL ||
	    cJSON_AddStringToObject(o, "project", c->project) == NULL ||
	    cJSON_AddStringToObject(o, "branch", c->branch) == NULL ||
	    cJSON_AddStringToObject(o, "subject", c->subject) == NULL ||
	    cJSON_AddStringToObject(o, "owner", c->owner) == NULL ||
	    cJSON_AddStringToObject(o, "status", c->status) == NULL ||
	    cJSON_AddNumberToObject(o, "patchset", c->patchset) == NULL ||
	    cJSON_AddStringToObject(o, "revision", c->revision) == NULL ||
	    (mergeable >= 0 ? cJSON_AddBoolToObject(o, "mergeable",
	    mergeable) : cJSON_AddNullToObject(o, "mergeable")) == NULL ||
	    (c->verified_set ? cJSON_AddNumberToObject(o, "verified",
	    c->verified) : cJSON_AddNullToObject(o, "verified")) == NULL ||
	    (votes = cJSON_AddArrayToObject(o, "code_review")) == NULL)
		goto out;
	for (i = 0; i < c->ncr; i++) {
		if ((v = cJSON_CreateObject()) == NULL)
			goto out;
		cJSON_AddItemToArray(votes, v);
		if (cJSON_AddStringToObject(v, "who", c->cr[i].who) == NULL ||
		    cJSON_AddNumberToObject(v, "value", c->cr[i].value) == NULL)
			goto out;
	}
	s = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return s;
}

void
gerrit_votes_text(const struct gerrit_change *c, char *buf, size_t bufsz)
{
	size_t	i, len;

	len = (size_t)snprintf(buf, bufsz, "CR");
	for (i = 0; i < c->ncr && len < bufsz; i++)
		len += (size_t)snprintf(buf + len, bufsz - len, " %+d",
		    c->cr[i].value);
	if (c->ncr == 0 && len < bufsz)
		len += (size_t)snprintf(buf + len, bufsz - len, " none");
	if (len < bufsz) {
		if (c->verified_set)
			snprintf(buf + len, bufsz - len, ", Verified %+d",
			    c->verified);
		else
			snprintf(buf + len, bufsz - len, ", Verified none");
	}
}
