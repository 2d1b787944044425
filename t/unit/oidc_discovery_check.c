/* oidc_discovery_check.c: the library against a real provider's discovery
 * document and JWKS; run by t/410-oidc-discovery.t with the provider up. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "oidc_jwt.h"
#include "tap.h"

/* The whole file into a new NUL-terminated buffer; NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf = malloc(OIDC_MAX_JWKS + 1);
	n = buf ? fread(buf, 1, OIDC_MAX_JWKS, f) : 0;
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	*len = n;
	return buf;
}

int
main(int argc, char *argv[])
{
	struct oidc_discovery	*d = NULL, *d2 = NULL;
	struct oidc_jwks	*jwks = NULL;
	const char		*issuer;
	struct httpc_response	 res = { 0 };
	char			*disc, *keys, err[256] = "";
	char			 url[512];
	size_t			 dlen, klen;
	int			 status;

	if (argc != 4) {
		printf("1..0 # SKIP usage: %s ISSUER DISCOVERY.json JWKS.json "
		    "(run by t/410-oidc-discovery.t)\n", argv[0]);
		return 0;
	}
	issuer = argv[1];
	if ((disc = slurp(argv[2], &dlen)) == NULL ||
	    (keys = slurp(argv[3], &klen)) == NULL) {
		printf("Bail out! cannot read the fetched documents\n");
		return 1;
	}

	ok(oidc_discovery_parse(disc, dlen, issuer, 0, &d, err,
	    sizeof(err)) == -1 && d == NULL,
	    "http issuer refused outside test mode (%s)", err);
	ok(oidc_discovery_parse(disc, dlen, issuer, OIDC_ALLOW_LOOPBACK_HTTP,
	    &d, err, sizeof(err)) == 0, "discovery document parsed (%s)", err);
	if (d == NULL) {
		printf("Bail out! no discovery document\n");
		return 1;
	}
	ok(strcmp(d->issuer, issuer) == 0, "issuer is %s", d->issuer);
	ok(strncmp(d->token_endpoint, issuer, strlen(issuer)) == 0 &&
	    strncmp(d->authorization_endpoint, issuer, strlen(issuer)) == 0,
	    "endpoints live under the issuer");
	ok(d->iss_parameter_supported,
	    "RFC 9207 iss parameter advertised and recorded");
	ok(oidc_discovery_parse(disc, dlen, "http://127.0.0.1:1",
	    OIDC_ALLOW_LOOPBACK_HTTP, &d2, NULL, 0) == -1,
	    "another expected issuer is refused");

	jwks = oidc_jwks_parse(keys, klen, err, sizeof(err));
	ok(jwks != NULL && oidc_jwks_count(jwks) == 2,
	    "JWKS parsed: RSA and EC signing keys (%zu) %s",
	    oidc_jwks_count(jwks), err);

	/* The HTTP client: same documents, limits enforced. */
	status = httpc_init() == 0 ? httpc_get(d->jwks_uri,
	    HTTPC_ALLOW_LOOPBACK_HTTP, OIDC_MAX_JWKS, 10, &res, err,
	    sizeof(err)) : -1;
	ok(status == 200 && res.status == 200 && res.len == klen &&
	    memcmp(res.body, keys, klen) == 0,
	    "httpc_get fetches the same JWKS (status %d %s)", status, err);
	httpc_response_free(&res);
	status = httpc_get(d->jwks_uri, 0, OIDC_MAX_JWKS, 10, &res, err,
	    sizeof(err));
	ok(status == -1 && res.body == NULL,
	    "http refused without the flag (%s)", err);
	status = httpc_get(d->jwks_uri, HTTPC_ALLOW_LOOPBACK_HTTP, 64, 10,
	    &res, err, sizeof(err));
	ok(status == -1 && res.body == NULL, "body over the cap refused (%s)",
	    err);
	snprintf(url, sizeof(url), "%s/.well-known/openid-configuration",
	    issuer);
	status = httpc_get(url, HTTPC_ALLOW_LOOPBACK_HTTP,
	    OIDC_MAX_DISCOVERY, 10, &res, err, sizeof(err));
	ok(status == 200 && oidc_discovery_parse(res.body, res.len, issuer,
	    OIDC_ALLOW_LOOPBACK_HTTP, &d2, NULL, 0) == 0,
	    "httpc_get + parse of the discovery URL");
	httpc_response_free(&res);

	oidc_discovery_free(d);
	oidc_discovery_free(d2);
	oidc_jwks_free(jwks);
	free(disc);
	free(keys);
	return tap_done();
}
