/* httpbb.h: httpbb's YAML smoke test files (Wikimedia's format), parsed
 * with libyaml, and the check of one answer against one test case. No
 * I/O: worker/smoke.c sends the requests. */
#ifndef SPIDERPIG_HTTPBB_H
#define SPIDERPIG_HTTPBB_H

#include <stddef.h>

#define HTTPBB_FILE_MAX		(1024 * 1024)	/* bytes of YAML */
#define HTTPBB_CASES_MAX	4096
#define HTTPBB_LIST_MAX		64		/* headers per map or list */
#define HTTPBB_REGEX_MAX	512		/* bytes of one expression */
#define HTTPBB_REGEX_GROWTH	16384		/* see hp_regex_tame() */

struct httpbb_kv {
	char	*name;
	char	*value;
};

/* One test case; NULL/0 members were not given. */
struct httpbb_case {
	char		*base;		/* the top-level key, "https://host" */
	char		*host;		/* its host[:port]: the Host header */
	char		*path;		/* starts with '/' */
	char		*method;	/* default GET */
	struct httpbb_kv *request_headers;
	size_t		 nrequest_headers;
	long		 assert_status;	/* default 200, as httpbb */
	char		*assert_body_contains;
	char		*assert_body_regex;
	struct httpbb_kv *assert_headers;
	size_t		 nassert_headers;
	struct httpbb_kv *assert_headers_regex;
	size_t		 nassert_headers_regex;
	char		**assert_headers_absent;
	size_t		 nassert_headers_absent;
	unsigned long	 line;		/* in the YAML file, from 1 */
};

struct httpbb_file {
	struct httpbb_case *cases;
	size_t		 ncases;
};

/*
 * Parse a YAML document: a mapping of base URLs (http:// or https://, no
 * path) to sequences of test cases. Unknown keys, wrong types, an invalid
 * regular expression (POSIX extended) or a file without any test case are
 * errors. Returns the parsed file (free with httpbb_free), or NULL with a
 * one-line reason ("line 12: ...") in why.
 */
struct httpbb_file *httpbb_parse(const char *buf, size_t len, char *why,
		    size_t whysz);
void		 httpbb_free(struct httpbb_file *);

/* One answer: headers as received (names in any case), body with a NUL
 * after bodylen. */
struct httpbb_answer {
	long			 status;
	const struct httpbb_kv	*headers;
	size_t			 nheaders;
	const char		*body;
	size_t			 bodylen;
};

/* Check every assertion of c against a; returns 0 when all hold, else -1
 * with the first one that failed, and how, in why. Header names compare
 * without case; regular expressions search (unanchored). */
int		 httpbb_check(const struct httpbb_case *c,
		    const struct httpbb_answer *a, char *why, size_t whysz);

#endif
