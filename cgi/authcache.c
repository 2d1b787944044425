/* authcache.c: what one process keeps in memory between requests, each part
 * flushed by its NOTIFY (sql/013): verified API tokens and sessions
 * (spiderpig_auth_cache) and the documents of hot reads such as the queue
 * (spiderpig_read_cache). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cgi.h"
#include "db.h"
#include "util.h"

/*
 * A direct-mapped table: a credential lands in one slot chosen by the hash
 * of its own SHA-256, and a colliding credential simply takes the slot
 * over (it is looked up in the database again next time). Sized for the
 * few hundred tokens and sessions a deploy tool sees at once.
 */
#define AUTHCACHE_SLOTS		1024
/* Read documents: the queue's few pages. */
#define AUTHCACHE_DOCS		16
#define AUTHCACHE_DOC_KEY	64

struct authcache_entry {
	int		 used;
	char		 kind;			/* 't' token, 's' session */
	char		 hash[68];		/* bytea literal of the SHA-256 */
	char		 user[AUTH_USER_MAX + 1];
	char		 role[AUTH_ROLE_MAX + 1];
	int64_t		 deadline_ms;		/* util_now_ms() clock */
};

/*
 * The process's one cache (created by main before the threads start, passed
 * to every request). generation grows at every flush: a request served from
 * the cache remembers it, and an answer is sent only when it has not
 * changed since (auth.c, auth_confirm), or after the database said yes
 * again.
 */
struct authcache_doc {
	char		 key[AUTHCACHE_DOC_KEY];	/* "" when free */
	char		*text;
};

struct authcache {
	pthread_mutex_t		 mu;
	uint64_t		 generation;
	struct authcache_entry	 slot[AUTHCACHE_SLOTS];
	/* Under mu too; doc_generation grows at every flush of docs. */
	uint64_t		 doc_generation;
	struct authcache_doc	 doc[AUTHCACHE_DOCS];
	size_t			 doc_next;	/* the slot a new key takes */
};

static void	authcache_docs_flush(struct authcache *);

struct authcache *
authcache_new(void)
{
	struct authcache	*ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return NULL;
	pthread_mutex_init(&ac->mu, NULL);
	ac->generation = 1;
	ac->doc_generation = 1;
	return ac;
}

/* Forget every document; the caller holds mu. */
static void
authcache_docs_clear(struct authcache *ac)
{
	size_t	i;

	ac->doc_generation++;
	for (i = 0; i < AUTHCACHE_DOCS; i++) {
		free(ac->doc[i].text);
		ac->doc[i].text = NULL;
		ac->doc[i].key[0] = '\0';
	}
}

void
authcache_free(struct authcache *ac)
{
	if (ac == NULL)
		return;
	authcache_docs_clear(ac);
	pthread_mutex_destroy(&ac->mu);
	free(ac);
}

/* FNV-1a of the kind and the hash text: the slot. */
static size_t
authcache_slot(char kind, const char *hash)
{
	uint64_t	h = 14695981039346656037ULL;

	h = (h ^ (unsigned char)kind) * 1099511628211ULL;
	for (; *hash != '\0'; hash++)
		h = (h ^ (unsigned char)*hash) * 1099511628211ULL;
	return (size_t)(h % AUTHCACHE_SLOTS);
}

uint64_t
authcache_generation(struct authcache *ac)
{
	uint64_t	g;

	pthread_mutex_lock(&ac->mu);
	g = ac->generation;
	pthread_mutex_unlock(&ac->mu);
	return g;
}

int
authcache_get(struct authcache *ac, char kind, const char *hash,
    struct auth_id *id, uint64_t *gen)
{
	struct authcache_entry	*e;
	int			 hit = 0;

	if (ac == NULL)
		return 0;
	pthread_mutex_lock(&ac->mu);
	e = &ac->slot[authcache_slot(kind, hash)];
	if (e->used && e->kind == kind && strcmp(e->hash, hash) == 0) {
		if (e->deadline_ms > util_now_ms()) {
			memcpy(id->user, e->user, sizeof(id->user));
			memcpy(id->role, e->role, sizeof(id->role));
			*gen = ac->generation;
			hit = 1;
		} else
			e->used = 0;
	}
	pthread_mutex_unlock(&ac->mu);
	return hit;
}

void
authcache_put(struct authcache *ac, char kind, const char *hash,
    const struct auth_id *id, int64_t valid_ms, uint64_t gen)
{
	struct authcache_entry	*e;

	if (ac == NULL || valid_ms <= 0 || strlen(hash) >= sizeof(e->hash))
		return;
	if (valid_ms > AUTHCACHE_MAX_MS)
		valid_ms = AUTHCACHE_MAX_MS;
	pthread_mutex_lock(&ac->mu);
	/* A flush since the database was asked may concern this answer. */
	if (gen == ac->generation) {
		e = &ac->slot[authcache_slot(kind, hash)];
		e->used = 1;
		e->kind = kind;
		snprintf(e->hash, sizeof(e->hash), "%s", hash);
		memcpy(e->user, id->user, sizeof(e->user));
		memcpy(e->role, id->role, sizeof(e->role));
		e->deadline_ms = util_now_ms() + valid_ms;
	}
	pthread_mutex_unlock(&ac->mu);
}

void
authcache_flush(struct authcache *ac)
{
	size_t	i;

	if (ac == NULL)
		return;
	pthread_mutex_lock(&ac->mu);
	ac->generation++;
	for (i = 0; i < AUTHCACHE_SLOTS; i++)
		ac->slot[i].used = 0;
	pthread_mutex_unlock(&ac->mu);
}

void
authcache_flush_all(struct authcache *ac)
{
	authcache_flush(ac);
	authcache_docs_flush(ac);
}

uint64_t
authcache_doc_generation(struct authcache *ac)
{
	uint64_t	g;

	if (ac == NULL)
		return 0;
	pthread_mutex_lock(&ac->mu);
	g = ac->doc_generation;
	pthread_mutex_unlock(&ac->mu);
	return g;
}

char *
authcache_doc_get(struct authcache *ac, const char *key, uint64_t *gen)
{
	char	*copy = NULL;
	size_t	 i;

	if (ac == NULL)
		return NULL;
	pthread_mutex_lock(&ac->mu);
	for (i = 0; i < AUTHCACHE_DOCS; i++)
		if (ac->doc[i].text != NULL && strcmp(ac->doc[i].key, key) == 0) {
			copy = strdup(ac->doc[i].text);
			*gen = ac->doc_generation;
			break;
		}
	pthread_mutex_unlock(&ac->mu);
	return copy;
}

void
authcache_doc_put(struct authcache *ac, const char *key, const char *text,
    uint64_t gen)
{
	struct authcache_doc	*d = NULL;
	char			*copy;
	size_t			 i;

	if (ac == NULL || strlen(key) >= AUTHCACHE_DOC_KEY ||
	    (copy = strdup(text)) == NULL)
		return;
	pthread_mutex_lock(&ac->mu);
	if (gen == ac->doc_generation) {
		for (i = 0; i < AUTHCACHE_DOCS && d == NULL; i++)
			if (strcmp(ac->doc[i].key, key) == 0)
				d = &ac->doc[i];
		if (d == NULL) {
			d = &ac->doc[ac->doc_next];
			ac->doc_next = (ac->doc_next + 1) % AUTHCACHE_DOCS;
		}
		free(d->text);
		snprintf(d->key, sizeof(d->key), "%s", key);
		d->text = copy;
		copy = NULL;
	}
	pthread_mutex_unlock(&ac->mu);
	free(copy);
}

/* Forget the documents. */
static void
authcache_docs_flush(struct authcache *ac)
{
	if (ac == NULL)
		return;
	pthread_mutex_lock(&ac->mu);
	authcache_docs_clear(ac);
	pthread_mutex_unlock(&ac->mu);
}

int
authcache_listen(PGconn *c)
{
	PGresult	*res = PQexec(c, "LISTEN spiderpig_auth_cache; "
			    "LISTEN spiderpig_read_cache");
	int		 rc;

	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc != 0)
		log_warn("LISTEN: %s", PQerrorMessage(c));
	PQclear(res);
	return rc;
}

int
authcache_drain(struct authcache *ac, PGconn *c)
{
	PGnotify	*n;
	int		 got = 0, auth = 0, docs = 0;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		authcache_flush_all(ac);
		return -1;
	}
	while ((n = PQnotifies(c)) != NULL) {
		got++;
		if (strcmp(n->relname, "spiderpig_read_cache") == 0)
			docs = 1;
		else
			auth = 1;
		PQfreemem(n);
	}
	if (auth)
		authcache_flush(ac);
	if (docs)
		authcache_docs_flush(ac);
	return got;
}
