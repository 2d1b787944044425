/* main.c: spiderpig-stream: startup, the lws context on a unix socket,
 * signals and shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "notify.h"
#include "stream.h"
#include "util.h"

static volatile sig_atomic_t	stopping;

static void
on_signal(int sig)
{
	int	saved = errno;

	(void)sig;
	stopping = 1;
	if (stream.ctx != NULL)
		lws_cancel_service(stream.ctx);
	errno = saved;
}

static void
lws_to_log(int level, const char *line)
{
	size_t	n = strlen(line);

	while (n > 0 && line[n - 1] == '\n')
		n--;
	if (level & LLL_ERR)
		log_warn("lws: %.*s", (int)n, line);
	else
		log_info("lws: %.*s", (int)n, line);
}

static void
usage(void)
{
	fprintf(stderr, "usage: spiderpig-stream -c CONFIG\n");
	exit(2);
}

/* Refuse to start without what the daemon cannot guess. */
static int
check_cfg(const struct cfg *c, const char *path)
{
	if (c->db_stream == NULL) {
		log_warn("%s: [database] stream is missing", path);
		return -1;
	}
	if (c->stream_socket == NULL) {
		log_warn("%s: [stream] socket is missing", path);
		return -1;
	}
	if (c->stream_origin == NULL) {
		log_warn("%s: [stream] origin is missing", path);
		return -1;
	}
	/* Like the worker: the login secrets stay with the app. */
	if (c->oidc_client_secret != NULL || c->totp_key_set) {
		log_warn("%s: holds [oidc]/[totp] secrets; give the stream a "
		    "config of its own", path);
		return -1;
	}
	return 0;
}

/*
 * The lws context: one vhost on the unix socket, the protocols of ws.c,
 * pings after ping_interval idle seconds and a hang-up when no answer
 * comes within two more intervals (nginx closes a tunnel idle for
 * proxy_read_timeout, which must be longer than ping_interval). idle must
 * outlive the context. 0, or -1 when it cannot listen.
 */
static int
listen_start(const struct cfg *cfg, lws_retry_bo_t *idle)
{
	struct lws_context_creation_info	info;
	static char				addr[16];	/* lws keeps iface */
	int					port, tcp;

	memset(idle, 0, sizeof(*idle));
	idle->secs_since_valid_ping = (uint16_t)cfg->stream_ping_interval;
	idle->secs_since_valid_hangup = (uint16_t)(cfg->stream_ping_interval * 3);

	/* ADDRESS:PORT: TCP, for a daemon on a host of its own that nginx
	 * reaches over a private network; else the unix socket. */
	if ((tcp = util_listen_tcp(cfg->stream_socket, addr, &port)) < 0) {
		log_warn("[stream] socket: an absolute path or "
		    "IPV4-ADDRESS:PORT, not %s", cfg->stream_socket);
		return -1;
	}
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	if (tcp) {
		info.iface = addr;
		info.port = port;
	} else {
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = cfg->stream_socket;
		info.port = 0;
		unlink(cfg->stream_socket);
	}
	info.protocols = stream_protocols;
	info.retry_and_idle_policy = idle;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.timeout_secs = 10;
	if ((stream.ctx = lws_create_context(&info)) == NULL) {
		log_warn("cannot listen on %s", cfg->stream_socket);
		return -1;
	}
	/* Only the folder's group (nginx's user) may connect, as with the
	 * app's sockets. */
	if (!tcp && chmod(cfg->stream_socket, 0660) != 0) {
		log_warn("chmod %s: %s", cfg->stream_socket, strerror(errno));
		return -1;
	}
	if ((stream.vhost = lws_get_vhost_by_name(stream.ctx, "default")) ==
	    NULL) {
		log_warn("no default vhost");
		return -1;
	}
	return 0;
}

static void
signals_init(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char *argv[])
{
	lws_retry_bo_t	 idle;
	struct cfg	*cfg;
	const char	*path = NULL;
	char		 err[512];
	int		 ch, rc = 1;

	log_init("spiderpig-stream");
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			usage();
		path = optarg;
	}
	if (path == NULL || optind != argc)
		usage();
	if (geteuid() == 0) {
		log_warn("refusing to run as root: start it as its own user");
		return 2;
	}
	if ((cfg = cfg_load(path, err, sizeof(err))) == NULL) {
		log_warn("%s", err);
		return 2;
	}
	if (check_cfg(cfg, path) != 0) {
		cfg_free(cfg);
		return 2;
	}
	stream.cfg = cfg;
	signals_init();
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_log);
	if (listen_start(cfg, &idle) != 0)
		goto out;
	stall_start();
	report_start();
	if (pg_start() != 0)
		pg_lost();
	log_info("listening on %s for origin %s", cfg->stream_socket,
	    cfg->stream_origin);
	notify_ready();

	/* lws returns at least every 500 ms (the too-slow check's timer);
	 * a database call that hangs holds this loop and stops the pings. */
	while (!stopping) {
		notify_watchdog();
		if (lws_service(stream.ctx, 0) < 0)
			break;
	}
	notify_stopping();
	log_info("stopping with %zu clients", stream.nclients);
	report_stop();
	rc = 0;
out:
	pg_stop();
	report_cancel();
	fanout_cancel();
	if (stream.ctx != NULL)
		lws_context_destroy(stream.ctx);
	fanout_shutdown();
	if (cfg->stream_socket[0] == '/')
		unlink(cfg->stream_socket);
	cfg_free(cfg);
	return rc;
}
