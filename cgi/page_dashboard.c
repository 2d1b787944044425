/* page_dashboard.c: GET /, the deployer's page: the freeze banner, the
 * deployment in progress, the queue with positions, the form to queue
 * patches and the user's deployments with their open prompt and buttons
 * (roll back only where the state allows it). The buttons post to the
 * actions' /ui routes; static/spiderpig.js keeps the page current. */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "cgi.h"
#include "vocab.h"

/* The deployment holding the queue (position null), or NULL. */
static const cJSON *
active_of(const cJSON *doc)
{
	const cJSON	*d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "queue"))
		if (page_int(d, "position") == 0)
			return d;
	return NULL;
}

/* "Deployment in progress" with a link, or that nothing is running. */
static void
in_progress(struct html *h, const cJSON *doc)
{
	const cJSON	*a = active_of(doc);

	html_raw(h, "<section id=\"active\" class=\"active\" "
	    "aria-live=\"polite\" aria-labelledby=\"active-title\">");
	if (a == NULL) {
		html_raw(h, "<h2 id=\"active-title\">No deployment in progress"
		    "</h2></section>\n");
		return;
	}
	html_raw(h, "<h2 id=\"active-title\"><span class=\"live-dot\" "
	    "aria-hidden=\"true\"></span>Deployment in progress</h2><p><a "
	    "href=\"/deployments/");
	html_int(h, page_int(a, "id"));
	html_raw(h, "\">Deployment ");
	html_int(h, page_int(a, "id"));
	html_raw(h, "</a> by ");
	html_escape(h, page_str(a, "requester"));
	html_raw(h, ": ");
	page_state(h, a);
	html_raw(h, "</p></section>\n");
}

/* The queue; the viewer's own rows marked. */
static void
queue_table(struct html *h, const cJSON *doc, const char *me)
{
	const cJSON	*d;
	long long	 shown = 0;

	html_raw(h, "<section aria-labelledby=\"queue-title\"><h2 "
	    "id=\"queue-title\">Queue</h2>\n<div class=\"scroll\"><table "
	    "id=\"queue\"><thead><tr><th scope=\"col\">Position</th>"
	    "<th scope=\"col\">Deployment</th><th scope=\"col\">State</th>"
	    "<th scope=\"col\">Requester</th><th scope=\"col\">Patches</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "queue")) {
		html_raw(h, strcmp(page_str(d, "requester"), me) == 0 ?
		    "<tr class=\"mine\" data-id=\"" : "<tr data-id=\"");
		html_int(h, page_int(d, "id"));
		html_raw(h, "\"><td class=\"position\">");
		if (page_int(d, "position") > 0)
			html_int(h, page_int(d, "position"));
		else
			html_raw(h, "active");
		html_raw(h, "</td><td><a href=\"/deployments/");
		html_int(h, page_int(d, "id"));
		html_raw(h, "\">#");
		html_int(h, page_int(d, "id"));
		html_raw(h, "</a></td><td>");
		page_state(h, d);
		html_raw(h, "</td><td>");
		html_escape(h, page_str(d, "requester"));
		html_raw(h, "</td><td>");
		page_patches(h, d);
		html_raw(h, "</td></tr>\n");
		shown++;
	}
	html_raw(h, "</tbody></table></div>\n");
	if (shown == 0)
		html_raw(h, "<p>The queue is empty.</p>\n");
	if (page_int(doc, "queue_length") > shown) {
		html_raw(h, "<p>and ");
		html_int(h, page_int(doc, "queue_length") - shown);
		html_raw(h, " more.</p>\n");
	}
	html_raw(h, "</section>\n");
}

/* One row of the user's deployments. */
static void
mine_row(struct html *h, const struct session *s, const cJSON *d)
{
	const cJSON		*p = cJSON_GetObjectItemCaseSensitive(d, "prompt");
	const struct vocab_state *st = vocab_state(page_str(d, "state"));
	long long		 id = page_int(d, "id");
	char			 what[48];

	snprintf(what, sizeof(what), "deployment %lld", id);
	html_raw(h, "<tr data-id=\"");
	html_int(h, id);
	html_raw(h, "\"><td><a href=\"/deployments/");
	html_int(h, id);
	html_raw(h, "\">#");
	html_int(h, id);
	html_raw(h, "</a></td><td>");
	page_state(h, d);
	html_raw(h, "</td><td>");
	page_patches(h, d);
	if (page_str(d, "note")[0] != '\0') {
		html_raw(h, "<br><span class=\"note\">");
		html_escape(h, page_str(d, "note"));
		html_raw(h, "</span>");
	}
	html_raw(h, "</td><td>");
	if (cJSON_IsObject(p)) {
		html_escape(h, page_str(p, "question"));
		html_raw(h, " <time class=\"countdown\" datetime=\"");
		html_escape(h, page_str(p, "expires_at"));
		html_raw(h, "\"></time> ");
		page_prompt_answers(h, s, id, p, "/");
	}
	html_raw(h, "</td><td>");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "cancellable")))
		page_button_named(h, s, "/ui/deployments/", id, "/cancel",
		    action_find("cancel")->label, what);
	if (st != NULL && st->pipeline)
		page_button_named(h, s, "/ui/deployments/", id, "/rollback",
		    action_find("rollback")->label, what);
	html_raw(h, "</td></tr>\n");
}

/* The tab's title: an open prompt first, else the best queue position. */
static const char *
tab_title(const cJSON *doc, char *buf, size_t bufsz)
{
	const cJSON	*d;
	long long	 best = 0;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "mine")) {
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d,
		    "prompt")))
			return "Your answer is needed";
		if (strcmp(page_str(d, "state"), "queued") == 0 &&
		    page_int(d, "position") > 0 &&
		    (best == 0 || page_int(d, "position") < best))
			best = page_int(d, "position");
	}
	if (best == 0)
		return NULL;
	snprintf(buf, bufsz, "Position %lld", best);
	return buf;
}

int
page_dashboard(struct req *r)
{
	struct session	 s;
	struct html	 h = { 0 };
	cJSON		*doc, *d;
	const char	*params[1];
	char		 tab[48];

	if (page_session(r, &s) != 0)
		return 0;
	params[0] = r->user;
	if ((doc = page_json(r, "SELECT spiderpig.dashboard($1)", 1,
	    params)) == NULL)
		return 0;
	h.tab = tab_title(doc, tab, sizeof(tab));
	page_begin(r, &h, "Dashboard", &s, NULL, 0);
	html_raw(&h, "<div id=\"freeze-banner\" aria-live=\"polite\">");
	page_freeze_banner(&h, doc);
	html_raw(&h, "</div>\n");
	in_progress(&h, doc);
	html_raw(&h, "<section aria-labelledby=\"deploy-title\"><h2 "
	    "id=\"deploy-title\">Deploy</h2>\n");
	page_action_form(&h, &s, action_find("enqueue"), "/ui/deployments", 0);
	html_raw(&h, "</section>\n");
	queue_table(&h, doc, s.user);
	html_raw(&h, "<section aria-labelledby=\"mine-title\"><h2 "
	    "id=\"mine-title\">Your deployments</h2>\n<div class=\"scroll\">"
	    "<table id=\"mine\"><thead><tr><th scope=\"col\">Deployment</th>"
	    "<th scope=\"col\">State</th><th scope=\"col\">Patches</th>"
	    "<th scope=\"col\">Prompt</th><th scope=\"col\">Actions</th>"
	    "</tr></thead><tbody>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "mine"))
		mine_row(&h, &s, d);
	html_raw(&h, "</tbody></table></div></section>\n");
	html_raw(&h, "<p class=\"notify\"><button type=\"button\" "
	    "id=\"notify\" hidden>Notify me when my answer is needed</button>"
	    "</p>\n");
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, 200, NULL, &h);
	return 0;
}
