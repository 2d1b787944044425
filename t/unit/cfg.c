/* cfg.c: spiderpig.ini parsing — defaults, stage argv arrays, and a clear
 * file:line error for every bad key or value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "tap.h"

#define KEY64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define OIDC_OK \
	"[oidc]\nissuer = https://idp.example.org\nclient_id = sp\n" \
	"client_secret = s\nredirect_uri = https://deploy.example.org/login/callback\n" \
	"deployer_groups = deployers, releng\nadmin_groups = sre\n"

static char path[] = "/tmp/spiderpig-cfg-XXXXXX";

/* Load text as a config; the error (if any) into err. */
static struct cfg *
load(const char *text, char *err, size_t errsz)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		tap_bail("cannot write the test config");
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return cfg_load(path, err, errsz);
}

/* text must be refused with an error containing want. */
static void
refused(const char *text, const char *want, const char *name)
{
	char		 err[512];
	struct cfg	*c = load(text, err, sizeof(err));

	if (!ok(c == NULL && strstr(err, want) != NULL, "%s", name))
		printf("#   error was \"%s\", want \"%s\"\n", err, want);
	cfg_free(c);
}

int
main(void)
{
	char		 err[512];
	struct cfg	*c;
	int		 fd;

	if ((fd = mkstemp(path)) == -1)
		tap_bail("mkstemp");
	close(fd);

	c = load("[database]\nweb = dbname=x\n", err, sizeof(err));
	ok(c != NULL, "a minimal file loads");
	ok(c != NULL && c->fcgi_threads == 32 && c->lease == 10 &&
	    c->heartbeat_interval == 2 && c->poll_interval == 1 &&
	    c->stages[STAGE_MERGE].timeout == 600, "with the documented defaults");
	ok(c != NULL && c->oidc_issuer == NULL, "and no login configured");
	cfg_free(c);

	c = load("[stage sync_canary]\ncommand = [\"/usr/bin/sync\", \"canary\", \"a b\"]\n"
	    "rollback = [\"/usr/bin/sync\", \"--undo\"]\ntimeout = 30\n"
	    "[worker]\nmask = token=\nmask = secret\nenv = A=1\n", err, sizeof(err));
	ok(c != NULL, "stages, masks and env load");
	if (c != NULL) {
		char **a = c->stages[STAGE_SYNC_CANARY].argv;

		ok(a != NULL && strcmp(a[0], "/usr/bin/sync") == 0 &&
		    strcmp(a[2], "a b") == 0 && a[3] == NULL,
		    "argv is the JSON array, spaces kept inside an element");
		ok(c->stages[STAGE_SYNC_CANARY].rollback != NULL &&
		    c->stages[STAGE_SYNC_CANARY].timeout == 30, "rollback and timeout");
		ok(c->nmasks == 2 && c->nenv == 1, "repeatable keys accumulate");
	}
	cfg_free(c);

	c = load("[database]\nstream = dbname=x user=spiderpig_stream\n"
	    "[stream]\nsocket = /run/s.sock\norigin = HTTPS://Deploy.Example.org:443/\n"
	    "buffer_cap = 65536\nping_interval = 10\n", err, sizeof(err));
	ok(c != NULL && c->db_stream != NULL &&
	    strcmp(c->stream_socket, "/run/s.sock") == 0, "[stream] loads");
	ok(c != NULL && strcmp(c->stream_origin, "https://deploy.example.org") == 0,
	    "the stream origin is kept as browsers send it (lower case, no :443, no path)");
	ok(c != NULL && c->stream_buffer_cap == 65536 && c->stream_ping_interval == 10,
	    "buffer_cap and ping_interval");
	cfg_free(c);
	c = load("[database]\nweb = dbname=x\n", err, sizeof(err));
	ok(c != NULL && c->stream_buffer_cap == 262144 && c->stream_ping_interval == 30,
	    "[stream] defaults: 256 KiB, 30 s");
	cfg_free(c);
	refused("[stream]\norigin = deploy.example.org\n", ":2:", "an origin that is not a URL");
	refused("[stream]\nbuffer_cap = 100\n", ":2:", "a buffer_cap below 4096");
	refused("[stream]\nping_interval = 0\n", ":2:", "ping_interval 0");
	c = load("[database]\nworker = dbname=x\n[worker]\nstage_user = spiderpig-stage\n"
	    "[stage merge]\ncommand = [\"/bin/true\"]\n", err, sizeof(err));
	ok(c != NULL && c->stage_user != NULL &&
	    strcmp(c->stage_user, "spiderpig-stage") == 0 &&
	    c->oidc_client_secret == NULL && !c->totp_key_set,
	    "a worker's config: stage_user, stages, no [oidc]/[totp] secrets");
	cfg_free(c);
	c = load("[fcgi]\nsocket = /r/fcgi.sock\nauth_socket = /r/auth.sock\n"
	    "threads = 64\nauth_threads = 8\nkept_connections = 48\n", err, sizeof(err));
	ok(c != NULL && c->fcgi_auth_socket != NULL && c->fcgi_auth_threads == 8 &&
	    c->fcgi_kept_connections == 48, "the auth socket, its threads, nginx's kept connections");
	cfg_free(c);
	refused("[fcgi]\nthreads = 48\nkept_connections = 48\n",
	    "must be more than kept_connections", "no more threads than kept connections");
	refused("[worker]\nstage_user = ../root\n", ":2:", "a stage_user that is not a user name");

	refused("[database]\nwbe = x\n", ":2: unknown key [database] wbe", "a misspelt key names file:line");
	refused("[nonsense]\na = b\n", "unknown key [nonsense] a", "an unknown section");
	refused("[fcgi]\nthreads = 0\n", ":2:", "threads below 1");
	refused("[fcgi]\nthreads = 12abc\n", ":2:", "threads not a number");
	refused("[stage merge]\ncommand = /bin/merge --all\n", ":2:", "a command that is not a JSON array");
	refused("[stage merge]\ncommand = [\"merge\"]\n", ":2:", "a program that is not an absolute path");
	refused("[stage merge]\ncommand = []\n", ":2:", "an empty argv");
	refused("[stage merge]\ncommand = [\"/bin/x\", 3]\n", ":2:", "a non-string argument");
	refused("[stage deploy_everything]\ncommand = [\"/bin/x\"]\n", "unknown key", "an unknown stage");
	refused("[worker]\nlease = 3\nheartbeat_interval = 2\n", "at least twice", "a lease shorter than two heartbeats");
	refused("[worker]\nenv = NOEQUALS\n", ":2:", "env without KEY=VALUE");
	/* inih hands an indented line to the key above as another value: a
	 * long conninfo split over two lines must not shrink to its tail. */
	refused("[database]\nworker = host=db1,db2 dbname=spiderpig\n"
	    "  target_session_attrs=read-write\n", ":3:",
	    "a conninfo continued on an indented line is refused");
	refused("[fcgi]\nsocket = /run/a.sock\nsocket = /run/b.sock\n", ":3:",
	    "a single-valued key given twice is refused");
	refused(OIDC_OK, "[totp] key", "login without a TOTP key");
	refused(OIDC_OK "[totp]\nkey = abcd\n", ":9:", "a TOTP key that is not 64 hex digits");
	refused("[oidc]\nissuer = https://idp.example.org\n[totp]\nkey = " KEY64 "\n",
	    "needs issuer, client_id", "an incomplete [oidc] section");
	refused("[oidc]\nissuer = https://i\nclient_id = a\nclient_secret = b\n"
	    "redirect_uri = http://deploy.example.org/cb\ndeployer_groups = d\n"
	    "[totp]\nkey = " KEY64 "\n", "https://", "a plain-http redirect_uri");

	c = load(OIDC_OK "[totp]\nkey = " KEY64 "\n", err, sizeof(err));
	if (!ok(c != NULL, "a complete [oidc] with a [totp] key loads"))
		printf("#   %s\n", err);
	ok(c != NULL && c->oidc_ndeployer_groups == 2 &&
	    strcmp(c->oidc_deployer_groups[1], "releng") == 0, "group lists are split on commas");
	ok(c != NULL && strcmp(c->oidc_origin, "https://deploy.example.org") == 0,
	    "the site origin comes from redirect_uri");
	ok(c != NULL && strcmp(c->oidc_groups_claim, "groups") == 0 &&
	    strcmp(c->oidc_username_claim, "preferred_username") == 0, "claim defaults");
	cfg_free(c);

	c = load("[database]\nweb = dbname=x\n", err, sizeof(err));
	ok(c != NULL && c->mode == CFG_MODE_BUILTIN && c->scap_argv == NULL &&
	    c->scap_timeout == 6 * 3600 && c->scap_grace == 5,
	    "mode builtin by default, with the [scap] defaults");
	cfg_free(c);
	c = load("[worker]\nmode = scap\n[scap]\ncommand = [\"/usr/bin/scap\", "
	    "\"backport\", \"--spiderpig\"]\ntimeout = 7200\ngrace = 3\n", err,
	    sizeof(err));
	ok(c != NULL && c->mode == CFG_MODE_SCAP && c->scap_argv != NULL &&
	    strcmp(c->scap_argv[2], "--spiderpig") == 0 && c->scap_argv[3] == NULL &&
	    c->scap_timeout == 7200 && c->scap_grace == 3, "[worker] mode = scap "
	    "and [scap] load");
	cfg_free(c);
	refused("[worker]\nmode = scap\n", "[scap] command",
	    "scap mode without a command is refused");
	refused("[worker]\nmode = magic\n", ":2:", "an unknown mode is refused");
	refused("[scap]\ncommand = [\"scap\"]\n", ":2:",
	    "a relative scap command is refused");
	refused("[worker]\nmode = scap\nlease = 4\n[scap]\ncommand = "
	    "[\"/usr/bin/scap\"]\ngrace = 4\n", "grace must be shorter",
	    "a grace period as long as the lease is refused");
	/* [gerrit], [git] and built-in stage kinds. */
	c = load("[gerrit]\nurl = https://Gerrit.Example.org:443/r/\n"
	    "user = bot\npassword_file = /etc/sp/pw\n"
	    "[stage merge]\nkind = gerrit-merge\n", err, sizeof(err));
	ok(c != NULL && c->stages[STAGE_MERGE].kind == CFG_KIND_GERRIT_MERGE &&
	    strcmp(c->gerrit_url, "https://Gerrit.Example.org:443/r") == 0 &&
	    strcmp(c->gerrit_host, "gerrit.example.org") == 0 &&
	    c->gerrit_poll_interval == 5, "[gerrit]: url without the trailing "
	    "/, its host in lower case without :443, poll 5 s");
	cfg_free(c);
	refused("[stage merge]\nkind = gerrit-merge\n", "needs [gerrit] url",
	    "gerrit-merge needs [gerrit] url");
	refused("[gerrit]\nurl = https://g.example.org\n[stage merge]\n"
	    "kind = gerrit-merge\n", "needs [gerrit] user and password_file",
	    "gerrit-merge needs credentials to approve");
	refused("[gerrit]\nurl = http://g.example.org\n", "must be https://",
	    "plain http to another host is refused");
	refused("[gerrit]\nurl = http://127.0.0.1:8080\n", "must be https://",
	    "plain http to loopback needs allow_http_loopback");
	c = load("[gerrit]\nurl = http://127.0.0.1:8080\n"
	    "allow_http_loopback = true\n", err, sizeof(err));
	ok(c != NULL && strcmp(c->gerrit_host, "127.0.0.1:8080") == 0,
	    "http to 127.0.0.1 with allow_http_loopback");
	cfg_free(c);
	refused("[gerrit]\npassword_file = pw\n", ":2:",
	    "password_file must be an absolute path");
	refused("[stage sync_test]\nkind = git-cherry-pick\n",
	    "the merge kinds are for the merge stage", "merge kinds are for merge only");
	refused("[stage smoke_test]\ntests = /x.yaml\n", ":2: unknown key",
	    "a built-in kind's key without its kind");
	refused("[stage smoke_test]\ntests = /x.yaml\nkind = httpbb\n", ":2:",
	    "kind after the kind's keys");
	refused("[stage merge]\nkind = gerrit-merge\ntests = /x.yaml\n", ":3: unknown key",
	    "httpbb keys under another kind");
	c = load("[stage smoke_test]\nkind = httpbb\ntests = /a.yaml\ntests = /b.yaml\n"
	    "targets = 127.0.0.1:8081\n[stage canary_check]\nkind = canary\n"
	    "canary_errors = sum(e{host=~\"canary.*\"})\n", err, sizeof(err));
	ok(c != NULL && c->stages[STAGE_SMOKE_TEST].kind == CFG_KIND_HTTPBB &&
	    c->stages[STAGE_SMOKE_TEST].nopts == 3 &&
	    strcmp(c->stages[STAGE_SMOKE_TEST].opts[1], "tests=/b.yaml") == 0 &&
	    c->stages[STAGE_CANARY_CHECK].kind == CFG_KIND_CANARY &&
	    strcmp(c->stages[STAGE_CANARY_CHECK].opts[0],
	    "canary_errors=sum(e{host=~\"canary.*\"})") == 0,
	    "httpbb and canary keep their keys, in order, for the worker");
	cfg_free(c);
	refused("[stage merge]\nkind = rsync\n", ":2:", "an unknown kind");
	refused("[stage merge]\nkind = git-cherry-pick\n",
	    "needs [git] dir, remote and branch", "git-cherry-pick needs [git]");
	refused("[git]\nbranch = -x\n", ":2:", "a branch cannot look like an "
	    "option");
	c = load("[git]\ndir = /srv/work\nremote = origin\nbranch = deploy\n"
	    "[stage merge]\nkind = git-cherry-pick\n", err, sizeof(err));
	ok(c != NULL && strcmp(c->git_program, "/usr/bin/git") == 0 &&
	    c->stages[STAGE_MERGE].kind == CFG_KIND_GIT_CHERRY_PICK,
	    "[git] with the default program");
	cfg_free(c);

	/* [hooks]: the webhook sender. */
	c = load("[database]\nhooks = dbname=x\n[hooks]\n"
	    "url = https://chat.example.org/h\nsecret_file = /etc/sp/hooks.secret\n"
	    "link_base = https://deploy.example.org//\n", err, sizeof(err));
	ok(c != NULL && strcmp(c->db_hooks, "dbname=x") == 0 &&
	    c->hooks_events == CFG_HOOK_ALL && c->hooks_timeout == 10 &&
	    c->hooks_max_attempts == 10 && c->hooks_backoff_ms == 1000 &&
	    c->hooks_backoff_max_ms == 300000 &&
	    strcmp(c->hooks_link_base, "https://deploy.example.org") == 0 &&
	    strcmp(c->hooks_name, "default") == 0,
	    "[hooks]: the documented defaults, link_base without the /");
	cfg_free(c);
	c = load("[hooks]\nurl = https://h.example\nsecret = 0123456789abcdef\n"
	    "events = finished, rolled_back\nname = irc-relay_2\n", err,
	    sizeof(err));
	ok(c != NULL && c->hooks_events == ((1u << CFG_HOOK_FINISHED) |
	    (1u << CFG_HOOK_ROLLED_BACK)), "[hooks] events picks some");
	ok(c != NULL && strcmp(c->hooks_name, "irc-relay_2") == 0,
	    "[hooks] name names the receiver");
	cfg_free(c);
	refused("[hooks]\nname = IRC\n", ":2:", "a name with capitals is "
	    "refused");
	refused("[hooks]\nname = \n", ":2:", "an empty name is refused");
	refused("[hooks]\nname = a/b\n", ":2:", "a name with a / is refused");
	refused("[hooks]\nname = "
	    "a1234567890123456789012345678901234567890\n", ":2:",
	    "a name of 41 characters is refused");
	c = load("[hooks]\nsecret_file = /x\n", err, sizeof(err));
	ok(c != NULL && c->hooks_url == NULL, "[hooks] without a url is inert");
	cfg_free(c);
	refused("[hooks]\nurl = https://h.example\n", "one of secret and "
	    "secret_file", "a url needs a secret");
	refused("[hooks]\nurl = https://h.example\nsecret = 0123456789abcdef\n"
	    "secret_file = /x\n", "one of secret and secret_file",
	    "but only one");
	refused("[hooks]\nsecret = short\n", ":2:", "a secret under 16 "
	    "characters is refused");
	refused("[hooks]\nsecret_file = x\n", ":2:", "secret_file must be "
	    "an absolute path");
	refused("[hooks]\nevents = started, deployed\n", ":2:",
	    "an unknown event is refused");
	refused("[hooks]\nurl = http://h.example\nsecret_file = /x\n",
	    "must be https://", "plain http is refused");
	refused("[hooks]\nurl = http://127.0.0.1:9\nsecret_file = /x\n",
	    "must be https://", "to loopback too without allow_http_loopback");
	c = load("[hooks]\nurl = http://127.0.0.1:9/h\nsecret_file = /x\n"
	    "allow_http_loopback = yes\n", err, sizeof(err));
	ok(c != NULL, "http to loopback with allow_http_loopback");
	cfg_free(c);
	refused("[hooks]\nurl = https://h.example\nsecret_file = /x\n"
	    "backoff_ms = 5000\nbackoff_max_ms = 1000\n", "backoff_max_ms is "
	    "below", "a cap below the first delay is refused");
	refused("[hooks]\ntimeout = 0\n", ":2:", "a timeout of 0 is refused");

	unlink(path);
	return tap_done();
}
