/* vocab.h: deployment states, stages and prompt kinds as C tables, derived
 * from lib/vocab.def (the one definition). */
#ifndef SPIDERPIG_VOCAB_H
#define SPIDERPIG_VOCAB_H

enum vocab_class {
	VOCAB_QUEUED,
	VOCAB_PROMPT,
	VOCAB_STAGE,
	VOCAB_ROLLBACK,
	VOCAB_TERMINAL
};

enum vocab_state_id {
#define VOCAB_STATE(name, class, pipeline, label)	STATE_##name,
#define VOCAB_STAGE(name, NAME, state, rollback, label)
#define VOCAB_PROMPT(kind, state, label)
#include "vocab.def"
#undef VOCAB_STATE
#undef VOCAB_STAGE
#undef VOCAB_PROMPT
	STATE__COUNT
};

enum cfg_stage {
#define VOCAB_STATE(name, class, pipeline, label)
#define VOCAB_STAGE(name, NAME, state, rollback, label)	STAGE_##NAME,
#define VOCAB_PROMPT(kind, state, label)
#include "vocab.def"
#undef VOCAB_STATE
#undef VOCAB_STAGE
#undef VOCAB_PROMPT
	STAGE__COUNT
};

enum vocab_prompt_id {
#define VOCAB_STATE(name, class, pipeline, label)
#define VOCAB_STAGE(name, NAME, state, rollback, label)
#define VOCAB_PROMPT(kind, state, label)	PROMPT_##kind,
#include "vocab.def"
#undef VOCAB_STATE
#undef VOCAB_STAGE
#undef VOCAB_PROMPT
	PROMPT__COUNT
};

struct vocab_state {
	const char		*name;		/* "awaiting_continue" */
	enum vocab_class	 class;
	int			 pipeline;
	const char		*label;		/* what a person reads */
};

struct vocab_stage {
	const char		*name;		/* "sync_test": SQL, config */
	const char		*state;		/* the state that runs it */
	int			 rollback;	/* rolled back with the deployment */
	const char		*label;
};

struct vocab_prompt {
	const char		*kind;		/* "continue" */
	const char		*state;		/* the state that asks it */
	const char		*label;
};

extern const struct vocab_state		vocab_states[STATE__COUNT];
extern const struct vocab_stage		vocab_stages[STAGE__COUNT];
extern const struct vocab_prompt	vocab_prompts[PROMPT__COUNT];

/* The state named name, or NULL. */
const struct vocab_state	*vocab_state(const char *name);
/* A state's label; the name itself when unknown (never NULL for non-NULL
 * name). */
const char			*vocab_state_label(const char *name);
/* The stage for a name ("sync_test"), or -1. */
int				 vocab_stage_from_name(const char *name);
/* The stage a state runs ("syncing_test" -> STAGE_SYNC_TEST), or -1. */
int				 vocab_stage_of_state(const char *state);
/* 1 when a deployment in this state holds the queue (prompt, stage or
 * rollback), else 0. */
int				 vocab_state_is_active(const char *name);

#endif
