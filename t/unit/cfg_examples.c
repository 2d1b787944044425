/* cfg_examples.c: the example configs that `make install` ships (the
 * four files in examples/) load as they are, with the values their
 * comments promise. Run from the repository's top (prove does). */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "tap.h"

/* Load path; say why when it does not. */
static struct cfg *
load(const char *path)
{
	char		 err[512];
	struct cfg	*c;

	err[0] = '\0';
	if ((c = cfg_load(path, err, sizeof(err))) == NULL)
		printf("#   %s: %s\n", path, err);
	return c;
}

int
main(void)
{
	struct cfg	*c;

	c = load("examples/spiderpig.ini");
	ok(c != NULL, "examples/spiderpig.ini loads");
	ok(c != NULL && c->db_web != NULL && c->fcgi_socket != NULL &&
	    c->fcgi_auth_socket != NULL &&
	    c->fcgi_threads > c->fcgi_kept_connections,
	    "  the app's database, sockets, and more threads than kept "
	    "connections");
	ok(c != NULL && c->oidc_issuer != NULL && c->totp_key_set,
	    "  with [oidc] and [totp]");
	ok(c != NULL && c->fcgi_metrics_token == NULL,
	    "  metrics_token left commented out");
	cfg_free(c);

	c = load("examples/worker.ini");
	ok(c != NULL, "examples/worker.ini loads");
	ok(c != NULL && c->mode == CFG_MODE_BUILTIN && c->stage_user != NULL &&
	    c->git_dir != NULL, "  builtin mode, a stage user, a [git] source");
	ok(c != NULL && c->stages[STAGE_MERGE].kind == CFG_KIND_GIT_CHERRY_PICK,
	    "  the merge stage is a built-in kind");
	cfg_free(c);

	c = load("examples/stream.ini");
	ok(c != NULL, "examples/stream.ini loads");
	ok(c != NULL && c->stream_origin != NULL,
	    "  with the one allowed origin");
	cfg_free(c);

	c = load("examples/hooks.ini");
	ok(c != NULL, "examples/hooks.ini loads");
	ok(c != NULL && c->db_hooks != NULL && c->hooks_url != NULL &&
	    c->hooks_secret_file != NULL && c->hooks_secret == NULL,
	    "  a receiver, its secret in a file of its own");
	ok(c != NULL && c->hooks_events == CFG_HOOK_ALL &&
	    !c->hooks_allow_http_loopback, "  every event, https only");
	ok(c != NULL && strcmp(c->hooks_name, "chat") == 0,
	    "  a receiver's name");
	cfg_free(c);
	return tap_done();
}
