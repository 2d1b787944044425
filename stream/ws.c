/* ws.c: the lws protocol callbacks: the handshake's checks (Origin, the
 * identity nginx set), client messages, writes, closes; and the database
 * socket's readiness. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "stream.h"
#include "util.h"

#define HDR_USER	"x-spiderpig-user:"
#define HDR_TOKEN	"x-spiderpig-token:"

/* The user nginx's auth_request named (it overwrites whatever the client
 * sent under that name); 0, or -1 when absent or not a user name. */
static int
ws_user(struct lws *wsi, char *user, size_t usersz)
{
	int	n;

	n = lws_hdr_custom_length(wsi, HDR_USER, (int)strlen(HDR_USER));
	if (n <= 0 || (size_t)n >= usersz)
		return -1;
	if (lws_hdr_custom_copy(wsi, user, (int)usersz, HDR_USER,
	    (int)strlen(HDR_USER)) != n)
		return -1;
	return stream_user_valid(user) ? 0 : -1;
}

/* The id of the API token the gate checked (nginx sets the header from
 * its answer, or leaves it out for a session); 0 when there is none. */
static int64_t
ws_token(struct lws *wsi)
{
	char		 buf[24];
	long long	 id;
	const char	*errstr;
	int		 n;

	n = lws_hdr_custom_length(wsi, HDR_TOKEN, (int)strlen(HDR_TOKEN));
	if (n <= 0 || (size_t)n >= sizeof(buf) ||
	    lws_hdr_custom_copy(wsi, buf, (int)sizeof(buf), HDR_TOKEN,
	    (int)strlen(HDR_TOKEN)) != n ||
	    util_strtonum(buf, 1, INT64_MAX, &id, &errstr) != 0)
		return 0;
	return id;
}

/* The Origin header is exactly the site's origin (case aside). */
static int
ws_origin_ok(struct lws *wsi)
{
	char	origin[256];
	int	n;

	n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
	return n > 0 && strcasecmp(origin, stream.cfg->stream_origin) == 0;
}

/* Refuse a handshake with an HTTP status and a one-line reason. */
static int
ws_refuse(struct lws *wsi, unsigned status, const char *why)
{
	log_info("refused a handshake: %u %s", status, why);
	if (lws_return_http_status(wsi, status, why) != 0)
		return -1;
	return 1;
}

/* Collect a message's fragments; 1 when complete, -1 when too large. */
static int
ws_collect(struct client *c, struct lws *wsi, const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi))
		c->rxlen = 0;
	if (len > sizeof(c->rx) - c->rxlen)
		return -1;
	memcpy(c->rx + c->rxlen, in, len);
	c->rxlen += len;
	return lws_is_final_fragment(wsi) ? 1 : 0;
}

/* A handshake passed the checks: greet the client and give it the
 * overview. -1: hang up. */
static int
ws_established(struct client *c, struct lws *wsi)
{
	memset(c, 0, sizeof(*c));
	if (ws_user(wsi, c->user, sizeof(c->user)) != 0)
		return -1;
	c->token = ws_token(wsi);
	client_attach(c, wsi);
	if (client_sendf(c, "{\"type\":\"hello\",\"user\":\"%s\"}",
	    c->user) != 0)
		return -1;
	if (stream.overview != NULL)
		client_send(c, stream.overview);
	else {
		stream.overview_dirty = 1;
		fanout_schedule();
	}
	return 0;
}

/* A fragment of a client message; the whole message goes to
 * client_request. -1: hang up. */
static int
ws_receive(struct client *c, struct lws *wsi, const void *in, size_t len)
{
	int	rc;

	if (c->wsi == NULL)
		return -1;
	if ((rc = ws_collect(c, wsi, in, len)) < 0) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    (unsigned char *)"message too large", 17);
		return -1;
	}
	if (rc == 0)
		return 0;
	rc = client_request(c, c->rx, c->rxlen);
	c->rxlen = 0;
	return rc;
}

/* The handshake's checks, before lws answers 101. 0 lets it through. */
static int
ws_confirm_upgrade(struct lws *wsi, const char *in)
{
	char	who[STREAM_USER_MAX + 1];

	if (in == NULL || strcmp(in, "websocket") != 0)
		return ws_refuse(wsi, HTTP_STATUS_BAD_REQUEST,
		    "only WebSocket upgrades are served here");
	if (!ws_origin_ok(wsi))
		return ws_refuse(wsi, HTTP_STATUS_FORBIDDEN,
		    "Origin is not this site");
	if (ws_user(wsi, who, sizeof(who)) != 0)
		return ws_refuse(wsi, HTTP_STATUS_UNAUTHORIZED,
		    "no identity from the gate");
	return 0;
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct client	*c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* Only WebSocket handshakes are served here. */
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
		    "only WebSocket upgrades are served here") != 0)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return ws_confirm_upgrade(wsi, in);
	case LWS_CALLBACK_ESTABLISHED:
		return ws_established(c, wsi);
	case LWS_CALLBACK_RECEIVE:
		return ws_receive(c, wsi, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c->wsi == NULL ? -1 : client_writeable(c);
	case LWS_CALLBACK_CLOSED:
		client_detach(c);
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		return wsi == stream.pg_wsi ? pg_readable() : 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == stream.pg_wsi) {
			stream.pg_wsi = NULL;
			pg_lost();
		}
		return 0;
	default:
		return 0;
	}
}

/* Protocol 0 serves every handshake (clients name no subprotocol); the
 * database socket is adopted under the second. */
const struct lws_protocols stream_protocols[] = {
	{
		.name = "spiderpig-stream",
		.callback = ws_callback,
		.per_session_data_size = sizeof(struct client),
		.rx_buffer_size = STREAM_RX_MAX,
	},
	{
		.name = "spiderpig-pg",
		.callback = ws_callback,
	},
	{ .name = NULL }
};
