/* admin.c: /api/v1/admin: freezes, users, logouts, queue order, tokens.
 * The route table admits admins only; the SQL functions check again. */
#include <stdio.h>

#include <cJSON.h>

#include "cgi.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID_MAX		9007199254740991LL

static const struct field freeze_fields[] = {
	{ "reason", FT_STRING, 1, 1, 500, 0, check_text, NULL },
	{ "until",  FT_STRING, 0, 20, 40, 0, check_rfc3339, NULL },
};

static const struct field user_fields[] = {
	{ "name", FT_STRING, 1, 1, 128, 0, check_user_name, NULL },
	{ "role", FT_STRING, 1, 1, 16, 0, check_role, NULL },
};

static const struct field ban_fields[] = {
	{ "reason", FT_STRING, 1, 1, 500, 0, check_text, NULL },
};

static const struct field move_fields[] = {
	{ "position", FT_INTEGER, 1, 1, 1000000, 0, NULL, NULL },
};

/*
 * Validate the body against fields (none: empty body or {}), then run sql
 * whose one JSON value is the answer (200). Params are taken from the
 * validated values by fill(), which may format numbers into num.
 */
static int
admin_call(struct req *r, const struct field *fields, size_t nfields,
    const char *sql, int nparams,
    void (*fill)(const struct req *, const struct value *, const char **,
    char (*)[24]))
{
	struct value	 v[4];
	struct verr	 ve;
	cJSON		*root = NULL, *doc = NULL;
	const char	*params[4] = { NULL, NULL, NULL, NULL };
	char		 num[2][24];

	if (validate_json(r->body, r->bodylen, fields, nfields, v, &root,
	    &ve) != 0) {
		reply_problem(r, ve.status != 0 ? ve.status : 400, &ve, "%s",
		    ve.n > 0 ? ve.e[0].detail : "invalid input");
		return 0;
	}
	params[0] = r->user;
	fill(r, v, params, num);
	if (req_query_json(r, sql, nparams, params, &doc) != 0)
		goto out;
	if (doc == NULL)
		reply_problem(r, 500, NULL, "internal error: no answer");
	else
		reply_json(r, 200, doc, NULL);
out:
	cJSON_Delete(doc);
	cJSON_Delete(root);
	return 0;
}

static void
fill_none(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	(void)r; (void)v; (void)p; (void)num;
}

static void
fill_freeze(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	(void)r; (void)num;
	p[1] = v[0].s;
	p[2] = v[1].present ? v[1].s : NULL;
}

static void
fill_user(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	(void)r; (void)num;
	p[1] = v[0].s;
	p[2] = v[1].s;
}

static void
fill_name(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	(void)v; (void)num;
	p[1] = r->name;
}

static void
fill_name_reason(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	(void)num;
	p[1] = r->name;
	p[2] = v[0].s;
}

static void
fill_move(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	snprintf(num[0], sizeof(num[0]), "%lld", r->id);
	snprintf(num[1], sizeof(num[1]), "%lld", v[0].i);
	p[1] = num[0];
	p[2] = num[1];
}

static void
fill_id(const struct req *r, const struct value *v, const char **p,
    char (*num)[24])
{
	(void)v;
	snprintf(num[0], sizeof(num[0]), "%lld", r->id);
	p[1] = num[0];
}

/* POST /api/v1/admin/freeze {"reason": "...", "until": RFC 3339}. */
int
admin_freeze(struct req *r)
{
	return admin_call(r, freeze_fields, NELEM(freeze_fields),
	    "SELECT json_build_object('frozen', true, 'freeze', "
	    "json_build_object('reason', f.reason, 'by', f.frozen_by, "
	    "'since', f.since, 'until', f.until)) "
	    "FROM spiderpig.freeze($1, $2, $3::timestamptz) f", 3, fill_freeze);
}

/* POST /api/v1/admin/unfreeze. */
int
admin_unfreeze(struct req *r)
{
	return admin_call(r, NULL, 0, "SELECT json_build_object('frozen', "
	    "false) FROM spiderpig.unfreeze($1)", 1, fill_none);
}

/* POST /api/v1/admin/users {"name": "...", "role": "deployer"}: add or
 * change a user. */
int
admin_user_set(struct req *r)
{
	return admin_call(r, user_fields, NELEM(user_fields),
	    "SELECT json_build_object('name', u.name, 'role', u.role, "
	    "'banned', u.banned) FROM spiderpig.add_user($1, $2, $3) u",
	    3, fill_user);
}

/* POST /api/v1/admin/users/{name}/ban {"reason": "..."}. */
int
admin_user_ban(struct req *r)
{
	return admin_call(r, ban_fields, NELEM(ban_fields),
	    "SELECT json_build_object('name', $2::text, 'banned', true) "
	    "FROM spiderpig.ban_user($1, $2, $3)", 3, fill_name_reason);
}

/* POST /api/v1/admin/users/{name}/unban. */
int
admin_user_unban(struct req *r)
{
	return admin_call(r, NULL, 0,
	    "SELECT json_build_object('name', $2::text, 'banned', false) "
	    "FROM spiderpig.unban_user($1, $2)", 2, fill_name);
}

/* POST /api/v1/admin/users/{name}/logout: end the user's sessions. */
int
admin_user_logout(struct req *r)
{
	return admin_call(r, NULL, 0,
	    "SELECT json_build_object('name', $2::text, 'sessions_revoked', n) "
	    "FROM spiderpig.logout_user($1, $2) n", 2, fill_name);
}

/* POST /api/v1/admin/logout-all. */
int
admin_logout_all(struct req *r)
{
	return admin_call(r, NULL, 0,
	    "SELECT json_build_object('sessions_revoked', n) "
	    "FROM spiderpig.logout_all($1) n", 1, fill_none);
}

/* POST /api/v1/admin/queue/{id}/move {"position": N}. */
int
admin_queue_move(struct req *r)
{
	return admin_call(r, move_fields, NELEM(move_fields),
	    "SELECT " SQL_DEPLOYMENT_JSON " FROM "
	    "spiderpig.move($1, $2::bigint, $3::int) d", 3, fill_move);
}

/* DELETE /api/v1/admin/tokens/{id}. */
int
admin_token_revoke(struct req *r)
{
	return admin_call(r, NULL, 0,
	    "SELECT json_build_object('token', $2::bigint, 'revoked', true) "
	    "FROM spiderpig.revoke_token($1, $2::bigint)", 2, fill_id);
}
