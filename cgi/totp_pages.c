/* totp_pages.c: GET/POST /totp, the second factor after the identity
 * provider: enrolment (QR code, confirm with one code) or verification,
 * then the AAL1 session is replaced by a new AAL2 one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cgi.h"
#include "db.h"
#include "http.h"
#include "totp.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define TOTP_MAX_FAILURES	5	/* as totp_settings.max_failures */

/* Pure: exactly 6 ASCII digits. */
static int
check_totp_code(const char *s, const char **why)
{
	if (!totp_code_wellformed(s)) {
		*why = "must be exactly 6 digits";
		return -1;
	}
	return 0;
}

static const struct field page_fields[] = {
	{ "return_to", FT_STRING, 0, 1, 400, 0, check_return_to, NULL },
};

static const struct field submit_fields[] = {
	{ "csrf",      FT_STRING, 1, 1, 128, 0, NULL, NULL },
	{ "code",      FT_STRING, 1, 1, 16, 0, check_totp_code, NULL },
	{ "return_to", FT_STRING, 0, 1, 400, 0, check_return_to, NULL },
};
enum { F_CSRF, F_CODE, F_RETURN };

/* The form for a code; enrolment shows the QR code and key above it.
 * With error, the problem next to the input (the page answers 401). */
static void
code_form(struct html *h, const struct session *s, const char *return_to,
    const char *error)
{
	html_raw(h, "<form method=\"post\" action=\"/totp\">");
	html_csrf(h, s);
	html_raw(h, "<input type=\"hidden\" name=\"return_to\" value=\"");
	html_escape(h, return_to);
	html_raw(h, "\"><label class=\"field\"><span>Code</span> <input "
	    "name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
	    "pattern=\"[0-9]{6}\" maxlength=\"6\" required autofocus");
	if (error != NULL) {
		html_raw(h, " aria-invalid=\"true\" aria-describedby=\"err-code\">"
		    "</label><span class=\"field-error\" id=\"err-code\">");
		html_escape(h, error);
		html_raw(h, "</span> ");
	} else
		html_raw(h, "></label> ");
	html_raw(h, "<button>Continue</button></form>\n");
}

/*
 * The enrolment page for s->user. A secret waiting for its first code
 * (sealedhex, from totp_get) is shown again, so a wrong code does not
 * change what the app already holds; without one, a new secret is sealed
 * with the [totp] key (the user name as associated data) and stored. The
 * page shows the key as text for typing in by hand, the otpauth URI and
 * its QR code.
 */
static void
enrol_page(struct req *r, const struct session *s, const char *return_to,
    const char *sealedhex, const char *error, int status)
{
	unsigned char	 secret[TOTP_SECRET_MAX], sealed[TOTP_SEALED_MAX];
	char		 hex[2 * TOTP_SEALED_MAX + 3];
	char		*uri = NULL, *svg = NULL, *b64 = NULL, *key = NULL;
	const char	*params[2];
	size_t		 sealedlen, svglen, secretlen = TOTP_SECRET_LEN;
	struct html	 h = { 0 };
	PGresult	*res = NULL;

	if (sealedhex != NULL) {
		if (util_bytea_decode(sealedhex, sealed, sizeof(sealed),
		    &sealedlen) != 0 || totp_open(r->cfg->totp_key, s->user,
		    sealed, sealedlen, secret, sizeof(secret),
		    &secretlen) != TOTP_OK)
			sealedhex = NULL;	/* unreadable: start again */
	}
	if (sealedhex == NULL) {
		secretlen = TOTP_SECRET_LEN;
		if (totp_secret_new(secret) != TOTP_OK ||
		    totp_seal(r->cfg->totp_key, s->user, secret, secretlen,
		    sealed, sizeof(sealed), &sealedlen) != TOTP_OK) {
			html_message(r, 500, NULL, "Internal error", "cannot "
			    "make a second factor secret");
			goto out;
		}
		util_bytea_encode(sealed, sealedlen, hex);
		params[0] = s->user;
		params[1] = hex;
		if ((res = req_exec_page(r, "SELECT spiderpig."
		    "totp_begin_enrolment($1, $2::bytea)", 2, params)) == NULL)
			goto out;
	}
	if (totp_uri(r->cfg->totp_issuer, s->user, secret, secretlen,
	    &uri) != TOTP_OK || totp_qr_svg(uri, &svg) != TOTP_OK ||
	    totp_base32(secret, secretlen, &key) != TOTP_OK) {
		html_message(r, 500, NULL, "Internal error", "cannot show the "
		    "second factor secret");
		goto out;
	}
	svglen = strlen(svg);
	if ((b64 = malloc(4 * ((svglen + 2) / 3) + 1)) == NULL) {
		html_message(r, 500, NULL, "Internal error", "out of memory");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)svg,
	    (int)svglen);
	html_begin(&h, "Set up your second factor", s);
	html_raw(&h, "<p>Scan this code with an authenticator app, or enter "
	    "the key below by hand, then type the 6-digit code it shows.</p>\n"
	    "<p><img class=\"qr\" alt=\"QR code of the enrolment URI\" "
	    "src=\"data:image/svg+xml;base64,");
	html_escape(&h, b64);
	html_raw(&h, "\"></p>\n<p>Key (time-based, SHA-1, 6 digits, 30 s): "
	    "<code class=\"secret\">");
	html_escape(&h, key);
	html_raw(&h, "</code></p>\n<p><code class=\"otpauth\">");
	html_escape(&h, uri);
	html_raw(&h, "</code></p>\n");
	code_form(&h, s, return_to, error);
	html_end(&h);
	html_send(r, status, NULL, &h);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	if (uri != NULL)
		OPENSSL_cleanse(uri, strlen(uri));
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(key));
	PQclear(res);
	free(uri);
	free(svg);
	free(b64);
	free(key);
}

/* The page for s at /totp: enrolment while no second factor is confirmed,
 * else the code form; with error, what was wrong with the last code. */
static void
code_page(struct req *r, const struct session *s, const char *return_to,
    const char *error, int status)
{
	struct html	 h = { 0 };
	const char	*params[1];
	PGresult	*res;
	char		*sealedhex = NULL;
	int		 confirmed;

	params[0] = s->user;
	if ((res = req_exec_page(r, "SELECT confirmed, secret_sealed FROM "
	    "spiderpig.totp_get($1)", 1, params)) == NULL)
		return;
	confirmed = PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (!confirmed) {
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
			sealedhex = strdup(PQgetvalue(res, 0, 1));
		PQclear(res);
		enrol_page(r, s, return_to, sealedhex, error, status);
		free(sealedhex);
		return;
	}
	PQclear(res);
	html_begin(&h, "Second factor", s);
	html_raw(&h, "<p>Type the 6-digit code from your authenticator app.</p>\n");
	code_form(&h, s, return_to, error);
	html_end(&h);
	html_send(r, status, NULL, &h);
}

/* The session for /totp: 303 to /login without one, to return_to when it
 * already passed. Returns 1 to go on, 0 when answered. */
static int
totp_session(struct req *r, struct session *s, const char *return_to)
{
	char	loc[512];
	int	rc;

	if ((rc = session_load(r, s)) < 0)
		return 0;
	if (rc == 0) {
		snprintf(loc, sizeof(loc), "/login");
		reply_redirect(r, 303, loc, NULL);
		return 0;
	}
	if (s->aal == 2) {
		reply_redirect(r, 303, return_to, NULL);
		return 0;
	}
	return 1;
}

/* GET /totp: enrolment or the code form. */
int
totp_page(struct req *r)
{
	struct value	 v[NELEM(page_fields)];
	struct verr	 ve;
	struct session	 s;
	char		 buf[HTTP_QUERY_MAX + HTTP_QUERY_PARAMS + 1];
	const char	*return_to;

	if (r->cfg->oidc_issuer == NULL) {
		reply_problem(r, 503, NULL, "login is not configured");
		return 0;
	}
	if (validate_query(r->query, page_fields, NELEM(page_fields), v, buf,
	    sizeof(buf), &ve) != 0) {
		html_message(r, 400, NULL, "Invalid input",
		    ve.n > 0 ? ve.e[0].detail : "invalid");
		return 0;
	}
	return_to = v[0].present ? v[0].s : "/";
	if (!totp_session(r, &s, return_to))
		return 0;
	code_page(r, &s, return_to, NULL, 200);
	return 0;
}

/* Seconds until user's lock ends, 0 when not locked, -1 on error. */
static long
lock_seconds(PGconn *c, const char *user)
{
	const char	*params[1] = { user };
	PGresult	*res, *err = NULL;
	long		 n = -1;

	if ((res = db_exec(c, "SELECT coalesce(ceil(extract(epoch FROM "
	    "spiderpig.totp_locked_until($1) - now())), 0)::bigint", 1, params,
	    &err)) != NULL) {
		n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		if (n < 0)
			n = 0;
	}
	PQclear(res);
	PQclear(err);
	return n;
}

static void
reply_locked(struct req *r, long seconds)
{
	char	hdr[64];

	snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n", seconds > 0 ?
	    seconds : 60);
	html_message(r, 429, hdr, "Too many wrong codes", "Too many wrong "
	    "codes: wait before trying again, or ask an administrator.");
}

enum check { CHECK_OK, CHECK_WRONG, CHECK_ANSWERED };

/*
 * Check code for the AAL1 session s in ONE transaction, in the order
 * sql/007_trust.sql prescribes: lock check, totp_get (row lock), verify,
 * then totp_login on a match (records the step and replaces the session by
 * a new AAL2 one) or totp_fail otherwise. On CHECK_OK tok holds the new
 * session token (committed); *failures is the count totp_fail returned.
 */
static enum check
code_check(struct req *r, PGconn *c, const struct session *s, const char *code,
    char *tok, size_t toksz, int *failures)
{
	unsigned char	 sealed[TOTP_SEALED_MAX], secret[TOTP_SECRET_MAX];
	const char	*params[1], *login_params[2];
	char		 stepbuf[32];
	size_t		 sealedlen, secretlen = 0;
	int64_t		 last, step = 0;
	PGresult	*res = NULL, *err = NULL;
	enum check	 rc = CHECK_ANSWERED;
	enum totp_result tr;
	const char	*user = s->user;
	int		 ok = 0;
	long		 locked;

	*failures = 0;
	tok[0] = '\0';
	params[0] = user;
	if ((res = db_exec(c, "BEGIN", 0, NULL, &err)) == NULL)
		goto dberr;
	PQclear(res);
	res = NULL;
	if ((locked = lock_seconds(c, user)) != 0) {
		PQclear(db_exec(c, "ROLLBACK", 0, NULL, &err));
		if (locked < 0)
			html_message(r, 500, NULL, "Internal error", "lock check");
		else
			reply_locked(r, locked);
		goto out;
	}
	if ((res = db_exec(c, "SELECT secret_sealed, last_step "
	    "FROM spiderpig.totp_get($1)", 1, params, &err)) == NULL)
		goto dberr;
	if (PQntuples(res) != 1 || util_bytea_decode(PQgetvalue(res, 0, 0), sealed,
	    sizeof(sealed), &sealedlen) != 0) {
		html_message(r, 409, NULL, "No second factor", "Start the "
		    "enrolment again from the sign-in page.");
		goto rollback;
	}
	last = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	res = NULL;
	if ((tr = totp_open(r->cfg->totp_key, user, sealed, sealedlen, secret,
	    sizeof(secret), &secretlen)) != TOTP_OK) {
		log_warn("totp: cannot open the secret of %s: %s", user,
		    totp_strerror(tr));
		html_message(r, 500, NULL, "Internal error", "Your second "
		    "factor cannot be read; ask an administrator to reset it.");
		goto rollback;
	}
	tr = totp_verify(secret, secretlen, code, time(NULL), last, &step);
	if (tr == TOTP_OK) {
		/* NULL: the step was used meanwhile, a failure like any other. */
		snprintf(stepbuf, sizeof(stepbuf), "%lld", (long long)step);
		login_params[0] = s->hash;
		login_params[1] = stepbuf;
		if ((res = db_exec(c, "SELECT spiderpig.totp_login($1::bytea, "
		    "$2::bigint)", 2, login_params, &err)) == NULL)
			goto dberr;
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
			if (strlen(PQgetvalue(res, 0, 0)) >= toksz ||
			    !http_header_safe(PQgetvalue(res, 0, 0))) {
				html_message(r, 500, NULL, "Internal error",
				    "no session");
				goto rollback;
			}
			snprintf(tok, toksz, "%s", PQgetvalue(res, 0, 0));
			ok = 1;
		}
		PQclear(res);
		res = NULL;
	}
	if (!ok) {
		if ((res = db_exec(c, "SELECT spiderpig.totp_fail($1)", 1,
		    params, &err)) == NULL)
			goto dberr;
		*failures = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
	}
	if ((res = db_exec(c, "COMMIT", 0, NULL, &err)) == NULL)
		goto dberr;
	rc = ok ? CHECK_OK : CHECK_WRONG;
	goto out;
dberr:
	html_db_error(r, err);
rollback:
	OPENSSL_cleanse(tok, toksz);
	tok[0] = '\0';
	PQclear(err);
	err = NULL;
	if (PQstatus(c) == CONNECTION_OK)
		PQclear(db_exec(c, "ROLLBACK", 0, NULL, &err));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	PQclear(res);
	PQclear(err);
	return rc;
}

/* POST /totp: check the code; on success the new AAL2 session. */
int
totp_submit(struct req *r)
{
	struct value	 v[NELEM(submit_fields)];
	struct session	 s;
	char		 buf[HTTP_FORM_MAX + HTTP_FORM_PARAMS + 1];
	char		 hdr[512], tok[128];
	const char	*return_to;
	PGconn		*c;
	int		 failures;
	long		 locked;

	if (r->cfg->oidc_issuer == NULL) {
		reply_problem(r, 503, NULL, "login is not configured");
		return 0;
	}
	if (form_read(r, &s, submit_fields, NELEM(submit_fields), v, buf,
	    sizeof(buf), 1) != 0)
		return 0;
	return_to = v[F_RETURN].present ? v[F_RETURN].s : "/";
	if (s.aal == 2) {
		reply_redirect(r, 303, return_to, NULL);
		return 0;
	}
	if ((c = req_db(r)) == NULL) {
		html_db_error(r, NULL);
		return 0;
	}
	switch (code_check(r, c, &s, v[F_CODE].s, tok, sizeof(tok),
	    &failures)) {
	case CHECK_ANSWERED:
		return 0;
	case CHECK_WRONG:
		if (failures >= TOTP_MAX_FAILURES &&
		    (locked = lock_seconds(c, s.user)) > 0) {
			reply_locked(r, locked);
			return 0;
		}
		code_page(r, &s, return_to, "Wrong or already used code. Try "
		    "again with the next code.", 401);
		return 0;
	case CHECK_OK:
		break;
	}
	snprintf(hdr, sizeof(hdr), "Set-Cookie: " SESSION_COOKIE "=%s; Path=/; "
	    "Secure; HttpOnly; SameSite=Strict\r\n", tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	reply_redirect(r, 303, return_to, hdr);
	OPENSSL_cleanse(hdr, sizeof(hdr));
	return 0;
}
