/* page_dashboard.c: GET /, the deployer's page: freeze banner, the queue,
 * the form to queue patches and the user's deployments with their open
 * prompt and buttons. The buttons post to the actions' /ui routes. */
#include <string.h>

#include <cJSON.h>

#include "cgi.h"

/* The start of a form answering prompt p of deployment id. */
static void
answer_form(struct html *h, const struct session *s, long long id,
    const cJSON *p)
{
	html_raw(h, " <form method=\"post\" class=\"inline\" "
	    "action=\"/ui/deployments/");
	html_int(h, id);
	html_raw(h, "/answer\">");
	html_csrf(h, s);
	html_raw(h, "<input type=\"hidden\" name=\"prompt\" value=\"");
	html_int(h, page_int(p, "id"));
	html_raw(h, "\">");
}

/* One button per choice of prompt p of deployment id, saying the choice's
 * label when it has one (scap's), or a text field for a free-text prompt
 * (scap's input_line). */
static void
prompt_buttons(struct html *h, const struct session *s, long long id,
    const cJSON *p)
{
	const cJSON	*c, *labels = cJSON_GetObjectItemCaseSensitive(p, "labels");
	const cJSON	*l;
	int		 i = 0;

	html_escape(h, page_str(p, "question"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "free_text"))) {
		answer_form(h, s, id, p);
		html_raw(h, "<input name=\"answer\" maxlength=\"500\" "
		    "required><button>Answer</button></form>");
		return;
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "choices")) {
		l = cJSON_GetArrayItem(labels, i++);
		if (!cJSON_IsString(c))
			continue;
		answer_form(h, s, id, p);
		html_raw(h, "<input type=\"hidden\" name=\"answer\" "
		    "value=\"");
		html_escape(h, c->valuestring);
		html_raw(h, "\"><button>");
		html_escape(h, cJSON_IsString(l) ? l->valuestring :
		    c->valuestring);
		html_raw(h, "</button></form>");
	}
}

/* One row of the user's deployments. */
static void
mine_row(struct html *h, const struct session *s, const cJSON *d)
{
	const cJSON	*p = cJSON_GetObjectItemCaseSensitive(d, "prompt");
	long long	 id = page_int(d, "id");

	html_raw(h, "<tr><td>");
	html_int(h, id);
	html_raw(h, "</td><td>");
	page_state(h, d);
	html_raw(h, "</td><td>");
	page_patches(h, d);
	if (page_str(d, "note")[0] != '\0') {
		html_raw(h, "<br><span class=\"note\">");
		html_escape(h, page_str(d, "note"));
		html_raw(h, "</span>");
	}
	html_raw(h, "</td><td>");
	if (cJSON_IsObject(p))
		prompt_buttons(h, s, id, p);
	html_raw(h, "</td><td>");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "cancellable")))
		page_button(h, s, "/ui/deployments/", id, "/cancel",
		    action_find("cancel")->label);
	page_button(h, s, "/ui/deployments/", id, "/rollback",
	    action_find("rollback")->label);
	html_raw(h, "</td></tr>\n");
}

int
page_dashboard(struct req *r)
{
	struct session	 s;
	struct html	 h = { 0 };
	cJSON		*doc, *d;
	const char	*params[1];

	if (page_session(r, &s) != 0)
		return 0;
	params[0] = r->user;
	if ((doc = page_json(r, "SELECT spiderpig.dashboard($1)", 1,
	    params)) == NULL)
		return 0;
	html_begin(&h, "Dashboard", &s);
	page_freeze_banner(&h, doc);
	page_queue_table(&h, doc);
	html_raw(&h, "<h3>Deploy</h3>\n");
	page_action_form(&h, &s, action_find("enqueue"), "/ui/deployments", 0);
	html_raw(&h, "<h3>Your deployments</h3>\n<table><tr><th>ID</th>"
	    "<th>State</th><th>Patches</th><th>Prompt</th><th>Actions</th>"
	    "</tr>\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "mine"))
		mine_row(&h, &s, d);
	html_raw(&h, "</table>\n");
	html_end(&h);
	cJSON_Delete(doc);
	html_send(r, 200, NULL, &h);
	return 0;
}
