/* sign.c: what the sender computes without I/O: the signature, the backoff
 * and the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hooks.h"

int
hooks_sign(const char *secret, const char *timestamp, const char *body,
    size_t body_len, char out[HOOKS_SIG_HEX + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	size_t			 tlen = strlen(timestamp), n;
	unsigned char		*msg;

	n = tlen + 1 + body_len;
	if ((msg = malloc(n)) == NULL)
		return -1;
	memcpy(msg, timestamp, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, body, body_len);
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, md,
	    &mdlen) == NULL || mdlen * 2 != HOOKS_SIG_HEX) {
		free(msg);
		return -1;
	}
	free(msg);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[HOOKS_SIG_HEX] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int
hooks_backoff_ms(int base_ms, int max_ms, int attempt, uint32_t jitter)
{
	long long	d = base_ms;
	int		i;

	if (attempt < 1)
		attempt = 1;
	for (i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	d += (long long)((double)d / 4 * ((double)jitter / UINT32_MAX));
	return d > max_ms ? max_ms : (int)d;
}

char *
hooks_body(const char *payload, long long id, const char *link_base)
{
	cJSON	*o, *dep;
	char	*out = NULL, *url = NULL;

	if ((o = cJSON_Parse(payload)) == NULL)
		return NULL;
	if (!cJSON_IsObject(o))
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(o, "delivery");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "url");
	if (cJSON_AddNumberToObject(o, "delivery", (double)id) == NULL)
		goto out;
	dep = cJSON_GetObjectItemCaseSensitive(o, "deployment");
	if (link_base != NULL && cJSON_IsNumber(dep)) {
		if (asprintf(&url, "%s/deployments/%.0f", link_base,
		    dep->valuedouble) == -1) {
			url = NULL;
			goto out;
		}
		if (cJSON_AddStringToObject(o, "url", url) == NULL)
			goto out;
	}
	out = cJSON_PrintUnformatted(o);
out:
	free(url);
	cJSON_Delete(o);
	return out;
}
