/* totp_uri: fuzz the enrolment URI builder with any issuer and user (the
 * input split at its first newline): what comes out is a URI whose label
 * and issuer are fully percent-encoded, and its QR code is plain SVG. */
#include <stdlib.h>
#include <string.h>

#include "totp.h"
#include "totp_fuzz.h"

static const unsigned char secret[TOTP_SECRET_LEN] = "12345678901234567890";

static int
unreserved_or_pct(const char *p, const char *end)
{
	for (; p < end; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			continue;
		if (*p != '%' || end - p < 3 ||
		    strchr("0123456789ABCDEF", p[1]) == NULL ||
		    strchr("0123456789ABCDEF", p[2]) == NULL)
			return 0;
		p += 2;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*in, *user, *uri = NULL, *svg = NULL;
	const char		*label, *colon, *q;
	enum totp_result	 r;

	if (size > 1024)
		return 0;
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if ((user = strchr(in, '\n')) != NULL)
		*user++ = '\0';
	else
		user = in + strlen(in);

	r = totp_uri(in, user, secret, sizeof(secret), &uri);
	if (r != TOTP_OK) {
		if (uri != NULL || (r != TOTP_E_ARG && r != TOTP_E_NOMEM))
			abort();
		goto out;
	}
	if (strncmp(uri, "otpauth://totp/", 15) != 0)
		abort();
	label = uri + 15;
	if ((q = strchr(label, '?')) == NULL ||
	    (colon = memchr(label, ':', (size_t)(q - label))) == NULL ||
	    !unreserved_or_pct(label, colon) ||
	    !unreserved_or_pct(colon + 1, q) ||
	    strncmp(q, "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=", 48) != 0 ||
	    strchr(q + 48, '&') == NULL ||
	    !unreserved_or_pct(q + 48, strchr(q + 48, '&')) ||
	    strcmp(strchr(q + 48, '&'),
	    "&algorithm=SHA1&digits=6&period=30") != 0)
		abort();
	if (totp_qr_svg(uri, &svg) == TOTP_OK &&
	    (strncmp(svg, "<svg", 4) != 0 || strstr(svg, "<script") != NULL))
		abort();
out:
	free(svg);
	free(uri);
	free(in);
	return 0;
}
