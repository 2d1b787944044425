/* page_history.c: GET /deployments, the history: filters (user, state,
 * dates) as a plain GET form, newest first, pages by the keyset cursor of
 * spiderpig.deployment_history (sql/016); each entry with its outcome,
 * duration and a link to its page. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "cgi.h"
#include "http.h"
#include "vocab.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL
#define PAGE_ROWS	"50"

static const struct field history_fields[] = {
	{ .name = "user", .type = FT_STRING, .min = 0, .max = 128 },
	{ .name = "state", .type = FT_STRING, .min = 0, .max = 32 },
	{ .name = "from", .type = FT_STRING, .min = 0, .max = 10 },
	{ .name = "to", .type = FT_STRING, .min = 0, .max = 10 },
	{ .name = "before", .type = FT_INTEGER, .min = 1, .max = ID_MAX },
};
enum { H_USER, H_STATE, H_FROM, H_TO, H_BEFORE };

/* A filter's value, NULL when absent or empty (an empty select or input
 * means "any"). */
static const char *
filter(const struct value *v)
{
	return v->present && v->s != NULL && v->s[0] != '\0' ? v->s : NULL;
}

/* Check the non-empty filters; the first problem into *why, else NULL. */
static const char *
filters_check(const struct value *v, const char **field)
{
	const char	*why = NULL;

	if (filter(&v[H_USER]) != NULL &&
	    check_user_name(v[H_USER].s, &why) != 0)
		*field = "user";
	else if (filter(&v[H_STATE]) != NULL &&
	    check_state(v[H_STATE].s, &why) != 0)
		*field = "state";
	else if (filter(&v[H_FROM]) != NULL &&
	    check_date(v[H_FROM].s, &why) != 0)
		*field = "from";
	else if (filter(&v[H_TO]) != NULL && check_date(v[H_TO].s, &why) != 0)
		*field = "to";
	else
		why = NULL;
	return why;
}

/* The filter form, values kept, the problem (if any) next to its field. */
static void
filter_form(struct html *h, const struct value *v, const char *bad,
    const char *why)
{
	static const struct field user = { .name = "user", .type = FT_STRING,
	    .max = 128 };
	static const struct field from = { .name = "from", .type = FT_STRING,
	    .max = 10 };
	static const struct field to = { .name = "to", .type = FT_STRING,
	    .max = 10 };
	size_t	i;

	html_raw(h, "<form method=\"get\" action=\"/deployments\" "
	    "class=\"filters\" role=\"search\" aria-label=\"Filter the "
	    "history\">");
	page_field_input(h, &user, "User", filter(&v[H_USER]),
	    bad != NULL && strcmp(bad, "user") == 0 ? why : NULL);
	html_raw(h, "<label class=\"field\"><span>State</span> <select "
	    "name=\"state\"><option value=\"\">any</option>");
	for (i = 0; i < STATE__COUNT; i++) {
		html_raw(h, "<option value=\"");
		html_escape(h, vocab_states[i].name);
		html_raw(h, "\"");
		if (filter(&v[H_STATE]) != NULL &&
		    strcmp(v[H_STATE].s, vocab_states[i].name) == 0)
			html_raw(h, " selected");
		html_raw(h, ">");
		html_escape(h, vocab_states[i].label);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select></label> ");
	page_field_input(h, &from, "From (YYYY-MM-DD, UTC)", filter(&v[H_FROM]),
	    bad != NULL && strcmp(bad, "from") == 0 ? why : NULL);
	page_field_input(h, &to, "To (inclusive)", filter(&v[H_TO]),
	    bad != NULL && strcmp(bad, "to") == 0 ? why : NULL);
	html_raw(h, "<button>Filter</button> <a href=\"/deployments\">Clear"
	    "</a></form>\n");
}

/* One history row. */
static void
history_row(struct html *h, const cJSON *d)
{
	const cJSON	*dur = cJSON_GetObjectItemCaseSensitive(d, "duration");

	html_raw(h, "<tr><td><a href=\"/deployments/");
	html_int(h, page_int(d, "id"));
	html_raw(h, "\">#");
	html_int(h, page_int(d, "id"));
	html_raw(h, "</a></td><td>");
	page_state(h, d);
	html_raw(h, "</td><td>");
	html_escape(h, page_str(d, "outcome"));
	html_raw(h, "</td><td>");
	html_escape(h, page_str(d, "requester"));
	html_raw(h, "</td><td>");
	page_patches(h, d);
	html_raw(h, "</td><td>");
	html_time(h, page_str(d, "created_at"));
	html_raw(h, "</td><td>");
	html_duration(h, cJSON_IsNumber(dur) ? dur->valuedouble : -1,
	    strcmp(page_str(d, "outcome"), "in progress") == 0);
	html_raw(h, "</td></tr>\n");
}

/* The query string of the filters in v plus before=next, into buf. */
static void
older_link(struct html *h, const struct value *v, long long next)
{
	static const char *const keys[] = { "user", "state", "from", "to" };
	size_t	i;

	html_raw(h, "<nav class=\"pages\" aria-label=\"Pages\"><a "
	    "href=\"/deployments?");
	for (i = 0; i < NELEM(keys); i++)
		if (filter(&v[i]) != NULL) {
			html_escape(h, keys[i]);
			html_raw(h, "=");
			html_escape(h, v[i].s);	/* checked: no & = # or space */
			html_raw(h, "&amp;");
		}
	html_raw(h, "before=");
	html_int(h, next);
	html_raw(h, "\" rel=\"next\">Older deployments</a></nav>\n");
}

int
page_history(struct req *r)
{
	struct value	 v[NELEM(history_fields)];
	struct verr	 ve;
	struct session	 s;
	struct html	 h = { 0 };
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1], before[24];
	const char	*params[6], *why = NULL, *bad = NULL;
	const cJSON	*d, *next;
	cJSON		*doc = NULL;

	if (page_session(r, &s) != 0)
		return 0;
	if (validate_query(r->query, history_fields, NELEM(history_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Bad Request", ve.e[0].detail);
		return 0;
	}
	why = filters_check(v, &bad);
	if (why == NULL) {
		snprintf(before, sizeof(before), "%lld", v[H_BEFORE].i);
		params[0] = r->user;
		params[1] = filter(&v[H_STATE]);
		params[2] = filter(&v[H_USER]);
		params[3] = filter(&v[H_FROM]);
		params[4] = filter(&v[H_TO]);
		params[5] = v[H_BEFORE].present ? before : NULL;
		if ((doc = page_json(r, "SELECT spiderpig.deployment_history($1, "
		    "$2, $3, $4::date::timestamp AT TIME ZONE 'UTC', "
		    "($5::date + 1)::timestamp AT TIME ZONE 'UTC', $6::bigint, "
		    PAGE_ROWS ")", 6, params)) == NULL)
			return 0;
	}
	page_begin(r, &h, "History", &s, NULL, 0);
	filter_form(&h, v, bad, why);
	if (doc != NULL) {
		html_raw(&h, "<div class=\"scroll\"><table id=\"history\">"
		    "<caption>Deployments, newest first</caption><thead><tr>"
		    "<th scope=\"col\">ID</th><th scope=\"col\">State</th>"
		    "<th scope=\"col\">Outcome</th><th scope=\"col\">Requester"
		    "</th><th scope=\"col\">Patches</th><th scope=\"col\">"
		    "Queued</th><th scope=\"col\">Duration</th></tr></thead>"
		    "<tbody>\n");
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc,
		    "deployments"))
			history_row(&h, d);
		html_raw(&h, "</tbody></table></div>\n");
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc,
		    "deployments")) == 0)
			html_raw(&h, "<p>No deployments match.</p>\n");
		next = cJSON_GetObjectItemCaseSensitive(doc, "next_before");
		if (cJSON_IsNumber(next))
			older_link(&h, v, (long long)next->valuedouble);
	}
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, why != NULL ? 400 : 200, NULL, &h);
	return 0;
}
