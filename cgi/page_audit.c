/* page_audit.c: GET /admin/audit, the events for admins, newest first:
 * who, what, when, on which deployment and from which address (recorded
 * for actions taken through the app since sql/016), paged by event id. */
#include <stdio.h>

#include <cJSON.h>

#include "cgi.h"
#include "http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL

static const struct field audit_fields[] = {
	{ .name = "before", .type = FT_INTEGER, .min = 1, .max = ID_MAX },
};

/* One event row; details as compact JSON text (escaped). */
static void
event_row(struct html *h, const cJSON *e)
{
	char	*details;

	html_raw(h, "<tr><td>");
	html_time(h, page_str(e, "at"));
	html_raw(h, "</td><td>");
	html_escape(h, page_str(e, "actor"));
	html_raw(h, "</td><td>");
	html_escape(h, page_str(e, "action"));
	html_raw(h, "</td><td>");
	if (page_int(e, "deployment") > 0) {
		html_raw(h, "<a href=\"/deployments/");
		html_int(h, page_int(e, "deployment"));
		html_raw(h, "\">#");
		html_int(h, page_int(e, "deployment"));
		html_raw(h, "</a>");
	}
	html_raw(h, "</td><td>");
	html_escape(h, page_str(e, "address")[0] != '\0' ?
	    page_str(e, "address") : "-");
	html_raw(h, "</td><td><code class=\"details\">");
	details = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e,
	    "details"));
	html_escape(h, details != NULL ? details : "");
	cJSON_free(details);
	html_raw(h, "</code></td></tr>\n");
}

int
page_audit(struct req *r)
{
	struct value	 v[NELEM(audit_fields)];
	struct verr	 ve;
	struct session	 s;
	struct html	 h = { 0 };
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1], before[24];
	const char	*params[2];
	const cJSON	*e, *next;
	cJSON		*doc;

	if (page_session(r, &s) != 0)
		return 0;
	if (validate_query(r->query, audit_fields, NELEM(audit_fields), v,
	    buf, sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Bad Request", ve.e[0].detail);
		return 0;
	}
	snprintf(before, sizeof(before), "%lld", v[0].i);
	params[0] = r->user;
	params[1] = v[0].present ? before : NULL;
	if ((doc = page_json(r, "SELECT spiderpig.audit_page($1, $2::bigint, "
	    "100)", 2, params)) == NULL)
		return 0;
	page_begin(r, &h, "Audit", &s, NULL, 0);
	html_raw(&h, "<p>Every state change and action, newest first. The "
	    "address is the client's, recorded for actions taken through "
	    "the app; the worker's and psql's have none.</p>\n"
	    "<div class=\"scroll\"><table id=\"audit\"><thead><tr>"
	    "<th scope=\"col\">When</th><th scope=\"col\">Who</th>"
	    "<th scope=\"col\">What</th><th scope=\"col\">Deployment</th>"
	    "<th scope=\"col\">Address</th><th scope=\"col\">Details</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "events"))
		event_row(&h, e);
	html_raw(&h, "</tbody></table></div>\n");
	next = cJSON_GetObjectItemCaseSensitive(doc, "next_before");
	if (cJSON_IsNumber(next)) {
		html_raw(&h, "<nav class=\"pages\" aria-label=\"Pages\"><a "
		    "rel=\"next\" href=\"/admin/audit?before=");
		html_int(&h, (long long)next->valuedouble);
		html_raw(&h, "\">Older events</a></nav>\n");
	}
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, 200, NULL, &h);
	return 0;
}
