/* page_deployment.c: GET /deployments/{id}, one deployment as a page: its
 * patches as links, each stage with status, start and duration, the open
 * prompt as buttons for those who may answer, rollback and cancel where
 * allowed, the error-rate chart's place and the log. The log is drawn by
 * the server too (the first lines, colours stripped), so the page works
 * without JavaScript; static/spiderpig.js replaces it with the terminal
 * view (colours, search, every line, live). */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "cgi.h"
#include "http.h"
#include "vocab.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define LOG_SERVER_LINES	"500"	/* drawn without JavaScript */

static const struct field page_fields[] = {
	{ .name = "sensitive", .type = FT_BOOL, .min = 0, .max = 1 },
};

static double
page_num(const cJSON *o, const char *k, double none)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : none;
}

/* The patches, each a link to its change. */
static void
patch_list(struct html *h, const cJSON *d)
{
	const cJSON	*p;

	html_raw(h, "<ul class=\"patches\">");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(d,
	    "patch_links")) {
		html_raw(h, "<li><a rel=\"noreferrer\" href=\"");
		html_escape(h, page_str(p, "url"));
		html_raw(h, "\">");
		html_escape(h, page_str(p, "patch"));
		html_raw(h, "</a></li>");
	}
	html_raw(h, "</ul>\n");
}

/* The summary: state, requester, times, duration, note. */
static void
summary(struct html *h, const cJSON *d)
{
	int	running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d,
	    "active"));

	html_raw(h, "<dl class=\"summary\"><dt>State</dt><dd id=\"state\" "
	    "data-state=\"");
	html_escape(h, page_str(d, "state"));
	html_raw(h, "\">");
	if (running)
		html_raw(h, "<span class=\"live-dot\" aria-hidden=\"true\">"
		    "</span>");
	page_state(h, d);
	html_raw(h, "</dd><dt>Requested by</dt><dd>");
	html_escape(h, page_str(d, "requester"));
	html_raw(h, "</dd><dt>Queued</dt><dd>");
	html_time(h, page_str(d, "created_at"));
	html_raw(h, "</dd><dt>Started</dt><dd>");
	html_time(h, page_str(d, "started_at"));
	html_raw(h, "</dd><dt>Finished</dt><dd>");
	html_time(h, page_str(d, "finished_at"));
	html_raw(h, "</dd><dt>Duration</dt><dd>");
	html_duration(h, page_num(d, "duration", -1), running);
	html_raw(h, "</dd>");
	if (page_str(d, "note")[0] != '\0') {
		html_raw(h, "<dt>Note</dt><dd>");
		html_escape(h, page_str(d, "note"));
		html_raw(h, "</dd>");
	}
	if (page_str(d, "rollback_reason")[0] != '\0') {
		html_raw(h, "<dt>Rollback reason</dt><dd>");
		html_escape(h, page_str(d, "rollback_reason"));
		html_raw(h, "</dd>");
	}
	html_raw(h, "</dl>\n");
	html_raw(h, "<h2>Patches</h2>\n");
	patch_list(h, d);
}

/* The stages table. */
static void
stages(struct html *h, const cJSON *d)
{
	const cJSON	*st;

	html_raw(h, "<h2>Stages</h2>\n<div class=\"scroll\"><table "
	    "id=\"stages\"><thead><tr><th scope=\"col\">Stage</th>"
	    "<th scope=\"col\">Status</th><th scope=\"col\">Started</th>"
	    "<th scope=\"col\">Duration</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(d, "stages")) {
		html_raw(h, "<tr data-stage=\"");
		html_escape(h, page_str(st, "name"));
		html_raw(h, "\"><th scope=\"row\">");
		html_escape(h, page_str(st, "label"));
		html_raw(h, "</th><td><span class=\"status status-");
		html_escape(h, page_str(st, "status"));
		html_raw(h, "\">");
		html_escape(h, page_str(st, "status"));
		html_raw(h, "</span></td><td>");
		html_time(h, page_str(st, "started_at"));
		html_raw(h, "</td><td>");
		html_duration(h, page_num(st, "duration", -1),
		    strcmp(page_str(st, "status"), "running") == 0);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

/* The open prompt: its question, deadline and, for those who may answer,
 * one button per choice (a rollback answer asks to confirm first). */
static void
prompt(struct html *h, const struct session *s, const cJSON *d)
{
	const cJSON	*p = cJSON_GetObjectItemCaseSensitive(d, "prompt");
	long long	 id = page_int(d, "id");

	html_raw(h, "<section id=\"prompt\" aria-live=\"polite\">");
	if (!cJSON_IsObject(p)) {
		html_raw(h, "</section>\n");
		return;
	}
	html_raw(h, "<h2>Waiting for an answer</h2>\n<p class=\"question\">");
	html_escape(h, page_str(p, "question"));
	html_raw(h, "</p>\n<p>Answer by <time class=\"countdown\" datetime=\"");
	html_escape(h, page_str(p, "expires_at"));
	html_raw(h, "\">");
	html_escape(h, page_str(p, "expires_at"));
	html_raw(h, "</time>; without an answer: <strong>");
	html_escape(h, page_str(p, "default")[0] != '\0' ?
	    page_str(p, "default") : "the timeout's default");
	html_raw(h, "</strong>.</p>\n");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "may_answer"))) {
		html_raw(h, "<p>Only ");
		html_escape(h, page_str(d, "requester"));
		html_raw(h, " or an admin may answer.</p></section>\n");
		return;
	}
	html_raw(h, "<div class=\"buttons\">");
	page_prompt_answers(h, s, id, p, "deployment");
	html_raw(h, "</div></section>\n");
}

/* Roll back (with a reason) and cancel, where the state allows them. */
static void
actions_section(struct html *h, const struct session *s, const cJSON *d)
{
	long long	id = page_int(d, "id");
	int		rb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d,
	    "may_rollback"));
	int		cn = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d,
	    "may_cancel"));
	char		back[48];

	html_raw(h, "<div id=\"actions\">");
	if (!rb && !cn) {
		html_raw(h, "</div>\n");
		return;
	}
	snprintf(back, sizeof(back), "/deployments/%lld", id);
	html_raw(h, "<section class=\"actions\"><h2>Actions</h2>\n");
	if (rb) {
		html_raw(h, "<form method=\"post\" action=\"/ui/deployments/");
		html_int(h, id);
		html_raw(h, "/rollback\">");
		html_csrf(h, s);
		html_raw(h, "<input type=\"hidden\" name=\"back\" value=\"");
		html_escape(h, back);
		html_raw(h, "\"><label class=\"field\"><span>Reason (optional)"
		    "</span> <input name=\"reason\" maxlength=\"500\"></label> "
		    "<button class=\"danger\">Roll back deployment ");
		html_int(h, id);
		html_raw(h, "</button></form>\n");
	}
	if (cn) {
		html_raw(h, "<form method=\"post\" action=\"/ui/deployments/");
		html_int(h, id);
		html_raw(h, "/cancel\">");
		html_csrf(h, s);
		html_raw(h, "<input type=\"hidden\" name=\"back\" value=\"");
		html_escape(h, back);
		html_raw(h, "\"><button>Cancel deployment ");
		html_int(h, id);
		html_raw(h, "</button></form>\n");
	}
	html_raw(h, "</section></div>\n");
}

/* Append text without terminal escape sequences (ESC [ ... final byte,
 * ESC and one more byte) and other C0 controls but tab. */
static void
plain_line(struct html *h, const char *t)
{
	char		 buf[256];
	size_t		 n = 0;

	while (*t != '\0') {
		unsigned char c = (unsigned char)*t;

		if (c == 0x1b) {
			t++;
			if (*t == '[') {
				t++;
				while (*t != '\0' && !(*t >= 0x40 && *t <= 0x7e))
					t++;
			}
			if (*t != '\0')
				t++;
			continue;
		}
		if (n + 1 >= sizeof(buf)) {
			buf[n] = '\0';
			html_escape(h, buf);
			n = 0;
		}
		if (c >= 0x20 || c == '\t')
			buf[n++] = (char)c;
		t++;
	}
	buf[n] = '\0';
	html_escape(h, buf);
}

/* The log: the first lines for a page without JavaScript, and the
 * attributes the terminal view starts from. */
static int
log_section(struct req *r, struct html *h, const cJSON *d, int reveal)
{
	char		 id[24];
	const char	*params[5];
	PGresult	*res;
	int		 i, rows, may = cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(d, "may_reveal"));

	snprintf(id, sizeof(id), "%lld", page_int(d, "id"));
	params[0] = r->user;
	params[1] = id;
	params[2] = "0";
	params[3] = LOG_SERVER_LINES;
	params[4] = reveal && may ? "true" : "false";
	if ((res = req_exec_page(r, "SELECT seq, last_seq, sensitive, text, "
	    "more FROM spiderpig.log_page($1, $2::bigint, $3::bigint, "
	    "$4::int, $5::boolean)", 5, params)) == NULL)
		return -1;
	rows = PQntuples(res);
	html_raw(h, "<section class=\"log\" aria-labelledby=\"log-title\">"
	    "<h2 id=\"log-title\">Log</h2>\n");
	if (may && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d,
	    "has_sensitive"))) {
		html_raw(h, "<p class=\"sensitive-note\">Sensitive lines are "
		    "collapsed. ");
		html_raw(h, reveal ? "<a href=\"?\">Hide them</a>" :
		    "<a href=\"?sensitive=1\">Show them</a>");
		html_raw(h, "</p>\n");
	}
	html_raw(h, "<pre class=\"term\" id=\"log\" tabindex=\"0\" "
	    "role=\"log\" aria-live=\"off\" aria-label=\"Log of deployment ");
	html_escape(h, id);
	html_raw(h, "\" data-deployment=\"");
	html_escape(h, id);
	html_raw(h, "\" data-may-reveal=\"");
	html_raw(h, may ? "1" : "0");
	html_raw(h, reveal && may ? "\" data-reveal=\"1\">" : "\">");
	for (i = 0; i < rows; i++) {
		int sens = strcmp(PQgetvalue(res, i, 2), "t") == 0;

		html_raw(h, sens ? "<span class=\"line sensitive\">" :
		    "<span class=\"line\">");
		plain_line(h, PQgetvalue(res, i, 3));
		html_raw(h, "</span>\n");
	}
	if (rows == 0)
		html_raw(h, "<span class=\"line empty\">(no output yet)"
		    "</span>\n");
	html_raw(h, "</pre>\n");
	if (rows > 0 && strcmp(PQgetvalue(res, rows - 1, 4), "t") == 0) {
		html_raw(h, "<p class=\"log-note\">The first " LOG_SERVER_LINES
		    " lines; <a href="
		    "\"/api/v1/deployments/");
		html_escape(h, id);
		html_raw(h, "/log\">the whole log as JSON</a>.</p>\n");
	}
	html_raw(h, "</section>\n");
	PQclear(res);
	return 0;
}

/* A sample's rate as a percentage with two decimals, or "-". */
static void
rate_cell(struct html *h, const cJSON *v)
{
	char	buf[32];

	if (!cJSON_IsNumber(v)) {
		html_raw(h, "<td>-</td>");
		return;
	}
	snprintf(buf, sizeof(buf), "%.2f", v->valuedouble * 100.0);
	html_raw(h, "<td data-value=\"");
	html_raw(h, buf);
	html_raw(h, "\">");
	html_raw(h, buf);
	html_raw(h, " %</td>");
}

/* The error rate of the canary checks: a table of the recorded samples
 * (the page without JavaScript), which the script draws as a chart with
 * uPlot above it; "no samples" while there are none. */
static void
chart(struct html *h, const cJSON *d)
{
	const cJSON	*samples = cJSON_GetObjectItemCaseSensitive(d, "samples");
	const cJSON	*x, *el;
	char		 buf[32];

	html_raw(h, "<section class=\"chart\" id=\"error-rate\" "
	    "aria-labelledby=\"chart-title\">"
	    "<h2 id=\"chart-title\">Error rate</h2><div id=\"error-chart\" "
	    "data-deployment=\"");
	html_int(h, page_int(d, "id"));
	html_raw(h, "\">");
	if (cJSON_GetArraySize(samples) == 0) {
		html_raw(h, "<p class=\"empty\">No error-rate samples recorded "
		    "for this deployment.</p></div></section>\n");
		return;
	}
	html_raw(h, "</div><details><summary>The samples</summary><div "
	    "class=\"scroll\"><table id=\"error-samples\"><thead><tr>"
	    "<th scope=\"col\">Time</th><th scope=\"col\">Seconds in</th>"
	    "<th scope=\"col\">Canary errors</th><th scope=\"col\">Control "
	    "errors</th><th scope=\"col\">Verdict</th></tr></thead><tbody>\n");
	cJSON_ArrayForEach(x, samples) {
		el = cJSON_GetObjectItemCaseSensitive(x, "elapsed");
		snprintf(buf, sizeof(buf), "%.1f", cJSON_IsNumber(el) ?
		    el->valuedouble : 0.0);
		html_raw(h, "<tr><td>");
		html_time(h, page_str(x, "at"));
		html_raw(h, "</td><td data-value=\"");
		html_raw(h, buf);
		html_raw(h, "\">");
		html_raw(h, buf);
		html_raw(h, "</td>");
		rate_cell(h, cJSON_GetObjectItemCaseSensitive(x, "canary"));
		rate_cell(h, cJSON_GetObjectItemCaseSensitive(x, "control"));
		html_raw(h, "<td>");
		html_escape(h, page_str(x, "verdict"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div></details></section>\n");
}

int
page_deployment(struct req *r)
{
	struct value	 v[NELEM(page_fields)];
	struct verr	 ve;
	struct session	 s;
	struct html	 h = { 0 };
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	char		 id[24], title[64];
	const char	*params[2];
	cJSON		*d;

	if (page_session(r, &s) != 0)
		return 0;
	if (validate_query(r->query, page_fields, NELEM(page_fields), v, buf,
	    sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Bad Request", ve.e[0].detail);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", r->id);
	params[0] = r->user;
	params[1] = id;
	if ((d = page_json(r, "SELECT coalesce(spiderpig.deployment_page("
	    "$1, $2::bigint), 'null'::json)", 2, params)) == NULL)
		return 0;
	if (cJSON_IsNull(d)) {
		cJSON_Delete(d);
		html_message(r, 404, NULL, "Not Found", "There is no such "
		    "deployment.");
		return 0;
	}
	snprintf(title, sizeof(title), "Deployment %lld", r->id);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d,
	    "samples")) > 0)
		h.extra_head = "<link rel=\"stylesheet\" href=\"/static/vendor/"
		    "uPlot.min.css\"><script src=\"/static/vendor/"
		    "uPlot.iife.min.js\" defer></script>";
	page_begin(r, &h, title, &s, NULL, 0);
	html_raw(&h, "<div id=\"deployment\" data-id=\"");
	html_escape(&h, id);
	html_raw(&h, "\" data-requester=\"");
	html_escape(&h, page_str(d, "requester"));
	html_raw(&h, "\">\n");
	summary(&h, d);
	prompt(&h, &s, d);
	actions_section(&h, &s, d);
	stages(&h, d);
	chart(&h, d);
	if (log_section(r, &h, d, v[0].present && v[0].i) != 0) {
		html_free(&h);
		cJSON_Delete(d);
		return 0;
	}
	html_raw(&h, "</div>\n");
	html_end(&h);
	cJSON_Delete(d);
	html_send(r, 200, NULL, &h);
	return 0;
}
