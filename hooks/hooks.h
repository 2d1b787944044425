/* hooks.h: spiderpig-hooks, the webhook sender: what its files share. */
#ifndef SPIDERPIG_HOOKS_H
#define SPIDERPIG_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct cfg;

/* --- sign.c: the pure parts (no I/O) ------------------------------------- */

#define HOOKS_SIG_HEX	64		/* SHA-256: 32 bytes in hex */

/*
 * The signature a receiver checks: lower-case hex of HMAC-SHA256 with key
 * secret over "<timestamp>.<body>", into out (HOOKS_SIG_HEX + 1 bytes).
 * 0, or -1 when out of memory.
 */
int	 hooks_sign(const char *secret, const char *timestamp,
	    const char *body, size_t body_len, char out[HOOKS_SIG_HEX + 1]);

/*
 * The delay before attempt + 1 after attempt (1, 2, ...) failed: base_ms
 * doubled per attempt, capped at max_ms, plus up to a quarter more from
 * jitter (0..UINT32_MAX; random in the daemon), still capped at max_ms.
 * Each delay below the cap is at least the previous one's base, so gaps
 * grow.
 */
int	 hooks_backoff_ms(int base_ms, int max_ms, int attempt,
	    uint32_t jitter);

/*
 * The body sent for outbox row id: payload (JSON object text from the
 * database) with "delivery": id and, when link_base is not NULL and the
 * payload names a deployment, "url": "<link_base>/deployments/<id>".
 * A new string (free()), or NULL when payload is not a JSON object.
 */
char	*hooks_body(const char *payload, long long id, const char *link_base);

/* --- outbox.c: the sql/018 functions ------------------------------------ */

/* One claimed outbox row; release with outbox_row_free. */
struct outbox_row {
	long long	 id;
	int		 attempt;	/* this attempt's number, from 1 */
	char		*event;
	char		*payload;
};

void	 outbox_row_free(struct outbox_row *);

/* Register [hooks] name as a receiver of [hooks] events (or update its
 * filter): announcements queued from now on are its. 0 or -1. */
int	 outbox_register(PGconn *, const struct cfg *);
/* The receiver's next row: 1 with *row filled, 0 when nothing is due, -1
 * on a database error (an unregistered receiver among them). */
int	 outbox_claim(PGconn *, const struct cfg *, struct outbox_row *row);
/* Record the answer to row's attempt: delivered, or failed with error and
 * a retry after retry_ms (-1: give up). 0 or -1. */
int	 outbox_delivered(PGconn *, const struct cfg *,
	    const struct outbox_row *);
int	 outbox_failed(PGconn *, const struct cfg *, const struct outbox_row *,
	    const char *error, int retry_ms);
/* Milliseconds until the receiver's oldest pending row is due; -1 when
 * none is pending, -2 on a database error. */
long long outbox_next_due(PGconn *, const struct cfg *);
/* Delete at most max_rows rows past the retention; how many, or -1. */
long long outbox_prune(PGconn *, int max_rows);

/* --- send.c: one delivery ------------------------------------------------ */

/*
 * POST row's body to the receiver, signed with secret. Returns 1 when the
 * receiver answered 2xx, 0 otherwise with why (an HTTP status or the
 * transport's error) in err.
 */
int	 hooks_send(const struct cfg *, const char *secret,
	    const struct outbox_row *, char *err, size_t errsz);

#endif
