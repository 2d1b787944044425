/* action_table.c: every deployer and admin action, defined once. The JSON
 * API, the dashboard and the admin page reach each through the routes of
 * its row; action_run.c serves them. Pure data and lookups: no I/O, so the
 * unit tests and the fuzz harness use this very table. Adding an admin
 * action is a row here, its SQL function and, for the admin page, its
 * name in one of page_admin.c's sections. */
#include <string.h>

#include "cgi.h"

#define ID_MAX		9007199254740991LL	/* what a JSON number holds */

/* The fields several actions share. */
#define F_DEPLOYMENT	{ .name = "deployment", .type = FT_INTEGER, \
	.required = 1, .min = 1, .max = ID_MAX }
#define F_USER		{ .name = "name", .type = FT_STRING, .required = 1, \
	.min = 1, .max = 128, .check = check_user_name }
#define F_REASON(req)	{ .name = "reason", .type = FT_STRING, \
	.required = (req), .min = 1, .max = 500, .check = check_text }

/* A row's fields: a file-scope compound literal and its length. */
#define FIELDS(...) \
	.fields = (const struct field[]){ __VA_ARGS__ }, \
	.nfields = sizeof((const struct field[]){ __VA_ARGS__ }) / \
	    sizeof(struct field)

#define API(m, p, who)	{ .method = (m), .pattern = (p), .role = (who), \
	.body = BODY_JSON }
#define FORM(p, who, to) { .method = "POST", .pattern = (p), .role = (who), \
	.body = BODY_FORM, .back = (to) }

/* The deployment an action returns, as the API shows it. */
#define AS_DEPLOYMENT(call)	"SELECT spiderpig.deployment_json(" call ")"

const struct action actions[] = {
	{
		.name = "enqueue", .label = "Queue", .created = 1,
		FIELDS({ .name = "patches", .type = FT_STRINGS,
		    .required = 1, .min = 1, .max = 20, .maxlen = 300,
		    .check = check_patch, .unique_key = patch_change },
		    { .name = "note", .type = FT_STRING, .min = 1, .max = 500,
		    .check = check_text }),
		.labels = { "Patches (change numbers or URLs, separated by "
		    "spaces)", "Note (optional: why, for whom)" },
		.sql = AS_DEPLOYMENT("spiderpig.enqueue($1, $2::text[], $3)"),
		.routes = {
			API("POST", "/api/v1/deployments", ROLE_USER),
			FORM("/ui/deployments", ROLE_USER, "/"),
		},
	},
	{
		.name = "answer", .label = "Answer", .subject = 1,
		FIELDS(F_DEPLOYMENT,
		    { .name = "prompt", .type = FT_INTEGER, .required = 1,
		    .min = 1, .max = ID_MAX },
		    /* A choice's key (at most 32), or a line of free text
		     * for scap's input_line (at most 500, sql/010). */
		    { .name = "answer", .type = FT_STRING, .required = 1,
		    .min = 1, .max = 500, .check = check_text }),
		.labels = { "Deployment", "Prompt", "Answer" },
		.sql = AS_DEPLOYMENT("spiderpig.answer($1, $2::bigint, "
		    "$3::bigint, $4)"),
		.routes = {
			API("POST", "/api/v1/deployments/{id}/answer",
			    ROLE_USER),
			FORM("/ui/deployments/{id}/answer", ROLE_USER, "/"),
		},
	},
	{
		.name = "rollback", .label = "Roll back", .subject = 1,
		FIELDS(F_DEPLOYMENT, F_REASON(0)),
		.labels = { "Deployment", "Reason" },
		.sql = AS_DEPLOYMENT("spiderpig.request_rollback($1, "
		    "$2::bigint, $3)"),
		.routes = {
			API("POST", "/api/v1/deployments/{id}/rollback",
			    ROLE_USER),
			FORM("/ui/deployments/{id}/rollback", ROLE_USER, "/"),
		},
	},
	{
		.name = "cancel", .label = "Cancel", .subject = 1,
		FIELDS(F_DEPLOYMENT),
		.labels = { "Deployment" },
		.sql = AS_DEPLOYMENT("spiderpig.cancel($1, $2::bigint)"),
		.routes = {
			API("POST", "/api/v1/deployments/{id}/cancel",
			    ROLE_USER),
			FORM("/ui/deployments/{id}/cancel", ROLE_USER, "/"),
		},
	},
	{
		.name = "freeze", .label = "Freeze",
		FIELDS(F_REASON(1),
		    { .name = "until", .type = FT_STRING, .min = 20,
		    .max = 40, .check = check_rfc3339 }),
		.labels = { "Reason", "Until (RFC 3339, optional)" },
		.sql = "SELECT json_build_object('frozen', true, 'freeze', "
		    "json_build_object('reason', f.reason, 'by', f.frozen_by, "
		    "'since', f.since, 'until', f.until)) "
		    "FROM spiderpig.freeze($1, $2, $3::timestamptz) f",
		.routes = {
			API("POST", "/api/v1/admin/freeze", ROLE_ADMIN),
			FORM("/admin/freeze", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "unfreeze", .label = "Unfreeze",
		.sql = "SELECT json_build_object('frozen', false) "
		    "FROM spiderpig.unfreeze($1)",
		.routes = {
			API("POST", "/api/v1/admin/unfreeze", ROLE_ADMIN),
			FORM("/admin/unfreeze", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "set-role", .label = "Add or change",
		FIELDS(F_USER,
		    { .name = "role", .type = FT_STRING, .required = 1,
		    .min = 1, .max = 16, .check = check_role }),
		.labels = { "User", "Role (deployer or admin)" },
		.sql = "SELECT json_build_object('name', u.name, 'role', "
		    "u.role, 'banned', u.banned) "
		    "FROM spiderpig.add_user($1, $2, $3) u",
		.routes = {
			API("POST", "/api/v1/admin/users", ROLE_ADMIN),
			FORM("/admin/set-role", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "ban", .label = "Ban", .subject = 1,
		FIELDS(F_USER, F_REASON(1)),
		.labels = { "User", "Reason" },
		.sql = "SELECT json_build_object('name', $2::text, 'banned', "
		    "true) FROM spiderpig.ban_user($1, $2, $3)",
		.routes = {
			API("POST", "/api/v1/admin/users/{name}/ban",
			    ROLE_ADMIN),
			FORM("/admin/ban", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "unban", .label = "Unban", .subject = 1,
		FIELDS(F_USER),
		.labels = { "User" },
		.sql = "SELECT json_build_object('name', $2::text, 'banned', "
		    "false) FROM spiderpig.unban_user($1, $2)",
		.routes = {
			API("POST", "/api/v1/admin/users/{name}/unban",
			    ROLE_ADMIN),
			FORM("/admin/unban", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "logout", .label = "Log out", .subject = 1,
		FIELDS(F_USER),
		.labels = { "User" },
		.sql = "SELECT json_build_object('name', $2::text, "
		    "'sessions_revoked', n) FROM spiderpig.logout_user($1, $2) n",
		.routes = {
			API("POST", "/api/v1/admin/users/{name}/logout",
			    ROLE_ADMIN),
			FORM("/admin/logout", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "totp-reset", .label = "Reset second factor",
		.subject = 1,
		FIELDS(F_USER),
		.labels = { "User" },
		.sql = "SELECT json_build_object('name', $2::text, "
		    "'totp_reset', true) FROM spiderpig.totp_reset($1, $2)",
		.routes = {
			API("POST", "/api/v1/admin/users/{name}/totp-reset",
			    ROLE_ADMIN),
			FORM("/admin/totp-reset", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "logout-all", .label = "Log out everyone",
		.sql = "SELECT json_build_object('sessions_revoked', n) "
		    "FROM spiderpig.logout_all($1) n",
		.routes = {
			API("POST", "/api/v1/admin/logout-all", ROLE_ADMIN),
			FORM("/admin/logout-all", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "move", .label = "Move", .subject = 1,
		FIELDS(F_DEPLOYMENT,
		    { .name = "position", .type = FT_INTEGER, .required = 1,
		    .min = 1, .max = 1000000 }),
		.labels = { "Deployment", "New position" },
		.sql = AS_DEPLOYMENT("spiderpig.move($1, $2::bigint, $3::int)"),
		.routes = {
			API("POST", "/api/v1/admin/queue/{id}/move",
			    ROLE_ADMIN),
			FORM("/admin/move", ROLE_ADMIN, "/admin"),
		},
	},
	{
		.name = "token-revoke", .label = "Revoke token", .subject = 1,
		FIELDS({ .name = "token", .type = FT_INTEGER, .required = 1,
		    .min = 1, .max = ID_MAX }),
		.labels = { "Token ID" },
		.sql = "SELECT json_build_object('token', $2::bigint, "
		    "'revoked', true) FROM spiderpig.revoke_token($1, "
		    "$2::bigint)",
		.routes = {
			API("DELETE", "/api/v1/admin/tokens/{id}", ROLE_ADMIN),
			FORM("/tokens/{id}/revoke", ROLE_USER, "/tokens"),
			FORM("/admin/token-revoke", ROLE_ADMIN, "/admin"),
		},
	},
};

const size_t	nactions = sizeof(actions) / sizeof(actions[0]);

const struct action *
action_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nactions; i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}
