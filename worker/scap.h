/* scap.h: scap's SPIDERPIG_IO records: which stdout lines are records,
 * what they say, and which of scap's steps and prompts a deployment's
 * states stand for. Pure (no I/O, no globals): unit-tested through the
 * scap tests and fuzzed by fuzz/scap_record.c. */
#ifndef SPIDERPIG_SCAP_H
#define SPIDERPIG_SCAP_H

#include <stddef.h>

/* SPIDERPIG_IO_KEY: 256 bits as 64 hex digits. */
#define SCAP_KEY_HEX		64
/* Caps on what a record may carry into the database (longer text is cut
 * at a character boundary; more choices make the record malformed). */
#define SCAP_TEXT_MAX		2000	/* a prompt's question */
#define SCAP_STATUS_MAX		500
#define SCAP_MAX_CHOICES	16
#define SCAP_LABEL_MAX		200
#define SCAP_CHOICE_KEY_MAX	32	/* the API's longest answer */

enum scap_type {
	SCAP_PLAIN,	/* not a record: plain output */
	SCAP_BAD,	/* carries the key but cannot be used (why says) */
	SCAP_LINE,
	SCAP_STATUS,
	SCAP_PROGRESS,
	SCAP_CHOICES,
	SCAP_INPUT,
};

/* What a prompt is for, as far as it can be recognised. */
enum scap_role {
	SCAP_ROLE_OTHER,
	SCAP_ROLE_CONFIRM,	/* "Backport the changes?" */
	SCAP_ROLE_CONTINUE,	/* after the test servers */
	SCAP_ROLE_FAILURE,	/* retry / ignore / roll back / exit */
	SCAP_ROLE_ACK,		/* acknowledge the rollback */
};

/* One parsed record; every string is owned (scap_record_free). */
struct scap_record {
	enum scap_type	 type;
	const char	*why;		/* SCAP_BAD: a static reason */
	char		*text;		/* line, status (NULL clears), prompt */
	int		 sensitive;	/* SCAP_LINE */
	double		 progress;	/* SCAP_PROGRESS: percent, 0..100 */
	size_t		 nchoices;	/* SCAP_CHOICES */
	char		*labels[SCAP_MAX_CHOICES];
	char		*keys[SCAP_MAX_CHOICES];
	int		 dflt;		/* index of the default choice */
};

/*
 * Read one complete stdout line (never a piece of a cut one) of len bytes.
 * A line is a record only when it starts with '{', parses as a JSON
 * object and its "iokey" equals key (compared in constant time); anything
 * else is SCAP_PLAIN and rec holds nothing. A record that cannot be used
 * is SCAP_BAD with the reason in rec->why. Returns rec->type; 
 * free rec with scap_record_free() whatever it returned.
 */
enum scap_type	 scap_record_parse(const char *line, size_t len,
		    const char *key, struct scap_record *rec);
void		 scap_record_free(struct scap_record *);

/* What a prompt record is for, from its question and labels. */
enum scap_role	 scap_prompt_role(const struct scap_record *);

/* The choice a prompt takes when nobody answers: for the continue and
 * failure prompts the one that rolls back, else the record's default. */
int		 scap_prompt_default(const struct scap_record *,
		    enum scap_role);

/* 1 when choosing labels[i] of the prompt means rolling back. */
int		 scap_choice_rolls_back(const struct scap_record *, size_t i);

/* The deployment state a status text stands for ("rolling_back",
 * "syncing_canary", ...), or NULL when it names no step we know. */
const char	*scap_state_of_status(const char *status);

#endif
