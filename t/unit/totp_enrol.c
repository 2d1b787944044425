/* totp_enrol: what a user sees when enrolling: the base32 secret, the
 * otpauth URI with its parts encoded, and the QR code as plain SVG. */
#include <stdlib.h>
#include <string.h>

#include "totp.h"
#include "tap.h"

static const unsigned char rfc_secret[] = "12345678901234567890";

int
main(void)
{
	char		*s = NULL, *svg = NULL, label[TOTP_USER_MAX + 2];

	tap_is_int(totp_base32(rfc_secret, 20, &s), TOTP_OK, "base32");
	tap_is_str(s, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
	    "of the RFC secret, without padding");
	free(s);
	tap_is_int(totp_base32(rfc_secret, 19, &s), TOTP_E_ARG,
	    "a secret under 160 bits is refused");

	tap_is_int(totp_uri("Spiderpig", "alice", rfc_secret, 20, &s), TOTP_OK,
	    "uri");
	tap_is_str(s, "otpauth://totp/Spiderpig:alice?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Spiderpig"
	    "&algorithm=SHA1&digits=6&period=30", "in the Key URI format");
	free(s);
	tap_is_int(totp_uri("Spider Pig & Co", "a.b-c_d~e@x.org", rfc_secret,
	    20, &s), TOTP_OK, "uri with characters to encode");
	tap_is_str(s, "otpauth://totp/Spider%20Pig%20%26%20Co:a.b-c_d~e%40x.org?"
	    "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	    "&issuer=Spider%20Pig%20%26%20Co&algorithm=SHA1&digits=6&period=30",
	    "label and issuer are percent-encoded");

	tap_is_int(totp_qr_svg(s, &svg), TOTP_OK, "QR code");
	tap_ok(svg != NULL && strncmp(svg, "<svg", 4) == 0,
	    "is an SVG document");
	tap_ok(svg != NULL && strstr(svg, "</svg>") != NULL, "and complete");
	tap_ok(svg != NULL && strstr(svg, "<script") == NULL &&
	    strstr(svg, "style=") == NULL && strstr(svg, "href") == NULL,
	    "with no script, inline style or link");
	tap_ok(svg != NULL && strstr(svg, "<rect x=") != NULL,
	    "drawn with rects");
	free(svg);
	free(s);

	tap_is_int(totp_uri("Spiderpig", "al:ice", rfc_secret, 20, &s),
	    TOTP_E_ARG, "a colon in the user is refused");
	tap_is_int(totp_uri("Spider:pig", "alice", rfc_secret, 20, &s),
	    TOTP_E_ARG, "a colon in the issuer is refused");
	tap_is_int(totp_uri("", "alice", rfc_secret, 20, &s), TOTP_E_ARG,
	    "an empty issuer is refused");
	tap_is_int(totp_uri("Spiderpig", "", rfc_secret, 20, &s), TOTP_E_ARG,
	    "an empty user is refused");
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	tap_is_int(totp_uri("Spiderpig", label, rfc_secret, 20, &s), TOTP_E_ARG,
	    "a user over 128 bytes is refused");
	tap_ok(s == NULL, "and no URI is returned");

	tap_is_int(totp_qr_svg("", &svg), TOTP_E_ARG, "no QR code of nothing");
	return tap_done();
}
