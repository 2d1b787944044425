/* send.c: one delivery: the body, its signature and headers, one POST
 * through lib/httpc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "hooks.h"
#include "httpc.h"
#include "util.h"

#define HOOKS_ANSWER_MAX	(64 * 1024)	/* bytes of a receiver's answer */

int
hooks_send(const struct cfg *c, const char *secret,
    const struct outbox_row *row, char *err, size_t errsz)
{
	struct httpc_response	 resp;
	char			*body = NULL;
	char			 ts[24], sig[HOOKS_SIG_HEX + 1];
	char			 h_event[96], h_id[64], h_ts[64], h_sig[128];
	const char		*headers[] = { h_event, h_id, h_ts, h_sig,
				    "User-Agent: spiderpig-hooks", NULL };
	int			 status, rc = 0;

	memset(&resp, 0, sizeof(resp));
	if ((body = hooks_body(row->payload, row->id,
	    c->hooks_link_base)) == NULL) {
		util_seterr(err, errsz, "the payload is not a JSON object");
		return 0;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (hooks_sign(secret, ts, body, strlen(body), sig) != 0) {
		util_seterr(err, errsz, "cannot sign");
		goto out;
	}
	snprintf(h_event, sizeof(h_event), "X-Spiderpig-Event: %s",
	    row->event);
	snprintf(h_id, sizeof(h_id), "X-Spiderpig-Delivery: %lld", row->id);
	snprintf(h_ts, sizeof(h_ts), "X-Spiderpig-Timestamp: %s", ts);
	snprintf(h_sig, sizeof(h_sig), "X-Spiderpig-Signature: sha256=%s",
	    sig);
	status = httpc_post(c->hooks_url, c->hooks_allow_http_loopback ?
	    HTTPC_ALLOW_LOOPBACK_HTTP : 0, "application/json", body,
	    strlen(body), headers, HOOKS_ANSWER_MAX, c->hooks_timeout, &resp,
	    err, errsz);
	if (status >= 200 && status <= 299)
		rc = 1;
	else if (status != -1)
		util_seterr(err, errsz, "HTTP status %d", status);
out:
	httpc_response_free(&resp);
	free(body);
	return rc;
}
