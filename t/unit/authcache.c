/* t/unit/authcache.c: the app's cache of verified credentials and read
 * documents (cgi/authcache.c, from build/libspiderpig-cgi.a): an answer
 * the database gave before a flush is never stored after it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgi.h"
#include "tap.h"

static const char *H1 = "\\x0101010101010101010101010101010101010101010101010101010101010101";
static const char *H2 = "\\x0202020202020202020202020202020202020202020202020202020202020202";

int
main(void)
{
	struct authcache	*ac = authcache_new();
	struct auth_id		 alice = { "alice", "deployer" }, got;
	uint64_t		 g0, g, gen;
	char			*doc;
	struct timespec		 pause = { 0, 80 * 1000 * 1000 };

	ok(ac != NULL, "a cache is made");
	ok(!authcache_get(ac, 't', H1, &got, &gen), "empty: no hit");

	g0 = authcache_generation(ac);
	authcache_put(ac, 't', H1, &alice, 60000, g0);
	ok(authcache_get(ac, 't', H1, &got, &gen) &&
	    strcmp(got.user, "alice") == 0 && strcmp(got.role, "deployer") == 0
	    && gen == g0, "stored, found with its generation");
	ok(!authcache_get(ac, 's', H1, &got, &gen),
	    "the same hash as a session is another credential");

	/* The database said yes (asked at g), a revocation flushed the
	 * cache, then the answer arrives: it must not be stored. */
	g = authcache_generation(ac);
	authcache_flush(ac);
	ok(!authcache_get(ac, 't', H1, &got, &gen), "a flush forgets it");
	authcache_put(ac, 't', H2, &alice, 60000, g);
	ok(!authcache_get(ac, 't', H2, &got, &gen),
	    "an answer older than the flush is not stored");
	ok(authcache_generation(ac) > g, "the flush moved the generation");

	authcache_put(ac, 't', H2, &alice, 50, authcache_generation(ac));
	ok(authcache_get(ac, 't', H2, &got, &gen), "a short-lived entry");
	nanosleep(&pause, NULL);
	ok(!authcache_get(ac, 't', H2, &got, &gen), "gone after its lifetime");
	authcache_put(ac, 't', H2, &alice, 0, authcache_generation(ac));
	ok(!authcache_get(ac, 't', H2, &got, &gen),
	    "an answer already expired is not stored");

	/* Documents: their own generation, also flushed by a lost LISTEN. */
	g = authcache_doc_generation(ac);
	authcache_doc_put(ac, "queue_page 0 500", "{\"queued\":[]}", g);
	doc = authcache_doc_get(ac, "queue_page 0 500", &gen);
	ok(doc != NULL && strcmp(doc, "{\"queued\":[]}") == 0 && gen == g,
	    "a document is kept");
	free(doc);
	authcache_flush(ac);
	doc = authcache_doc_get(ac, "queue_page 0 500", &gen);
	ok(doc != NULL, "a credential flush keeps the documents");
	free(doc);
	authcache_flush_all(ac);
	ok(authcache_doc_get(ac, "queue_page 0 500", &gen) == NULL,
	    "flush_all forgets the documents too");
	authcache_doc_put(ac, "queue_page 0 500", "{}", g);
	ok(authcache_doc_get(ac, "queue_page 0 500", &gen) == NULL,
	    "a document read before the flush is not stored");

	authcache_free(ac);
	authcache_free(NULL);
	return tap_done();
}
