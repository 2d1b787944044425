/* t/unit/hooks_sign.c: the webhook sender's pure parts (hooks/sign.c, from
 * build/libspiderpig-hooks.a): the signature matches OpenSSL's command
 * line, the backoff doubles up to its cap with bounded jitter, and the body
 * gains the delivery id and the link. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hooks.h"
#include "tap.h"

int
main(void)
{
	char		 sig[HOOKS_SIG_HEX + 1];
	const char	*body = "{\"event\":\"started\"}";
	char		*out;
	cJSON		*o;
	int		 a, prev;

	/* printf '%s' '1700000000.{"event":"started"}' |
	 *     openssl dgst -sha256 -hmac 0123456789abcdef-secret */
	ok(hooks_sign("0123456789abcdef-secret", "1700000000", body,
	    strlen(body), sig) == 0 && strcmp(sig, "b518ea726c1c4b6c8ad9de025d"
	    "062f93e98494d71b8613e3ac50d738d7c68a02") == 0,
	    "HMAC-SHA256 over timestamp.body, lower-case hex");
	ok(hooks_sign("0123456789abcdef-secreT", "1700000000", body,
	    strlen(body), sig) == 0 && strcmp(sig, "b518ea726c1c4b6c8ad9de025d"
	    "062f93e98494d71b8613e3ac50d738d7c68a02") != 0,
	    "another secret, another signature");

	ok(hooks_backoff_ms(1000, 300000, 1, 0) == 1000, "first retry: base");
	ok(hooks_backoff_ms(1000, 300000, 2, 0) == 2000, "then doubled");
	ok(hooks_backoff_ms(1000, 300000, 4, 0) == 8000, "and again");
	ok(hooks_backoff_ms(1000, 300000, 40, 0) == 300000, "capped");
	ok(hooks_backoff_ms(1000, 300000, 1, UINT32_MAX) == 1250,
	    "jitter adds at most a quarter");
	ok(hooks_backoff_ms(1000, 1100, 1, UINT32_MAX) == 1100,
	    "jitter stays under the cap");
	for (prev = 0, a = 1; a <= 10; a++) {	/* the cap is at 11 */
		int d = hooks_backoff_ms(100, 100000, a, a % 2 ? UINT32_MAX : 0);

		if (!ok(d > prev, "attempt %d: %d ms, more than before", a, d))
			break;
		prev = d;
	}

	out = hooks_body("{\"event\":\"finished\",\"deployment\":42}", 7,
	    "https://deploy.example.org");
	o = out != NULL ? cJSON_Parse(out) : NULL;
	ok(o != NULL && cJSON_GetObjectItem(o, "delivery")->valuedouble == 7,
	    "the body carries the delivery id");
	ok(o != NULL && strcmp(cJSON_GetObjectItem(o, "url")->valuestring,
	    "https://deploy.example.org/deployments/42") == 0,
	    "and the deployment's link");
	cJSON_Delete(o);
	free(out);
	out = hooks_body("{\"event\":\"freeze\"}", 8, "https://x.example");
	ok(out != NULL && strstr(out, "\"url\"") == NULL,
	    "no link without a deployment");
	free(out);
	out = hooks_body("{\"event\":\"started\",\"deployment\":1}", 9, NULL);
	ok(out != NULL && strstr(out, "\"url\"") == NULL,
	    "no link without link_base");
	free(out);
	ok(hooks_body("[1]", 1, NULL) == NULL, "a payload that is no object "
	    "is refused");
	ok(hooks_body("{", 1, NULL) == NULL, "and one that is no JSON");
	return tap_done();
}
