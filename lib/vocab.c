/* vocab.c: the C tables of lib/vocab.def and lookups over them. */
#include <stddef.h>
#include <string.h>

#include "vocab.h"

const struct vocab_state vocab_states[STATE__COUNT] = {
#define VOCAB_STATE(n, c, p, l)	{ .name = #n, .class = VOCAB_##c, .pipeline = p, .label = l },
#define VOCAB_STAGE(n, N, s, r, l)
#define VOCAB_PROMPT(k, s, l)
#include "vocab.def"
#undef VOCAB_STATE
#undef VOCAB_STAGE
#undef VOCAB_PROMPT
};

const struct vocab_stage vocab_stages[STAGE__COUNT] = {
#define VOCAB_STATE(n, c, p, l)
#define VOCAB_STAGE(n, N, s, r, l)	{ .name = #n, .state = #s, .rollback = r, .label = l },
#define VOCAB_PROMPT(k, s, l)
#include "vocab.def"
#undef VOCAB_STATE
#undef VOCAB_STAGE
#undef VOCAB_PROMPT
};

const struct vocab_prompt vocab_prompts[PROMPT__COUNT] = {
#define VOCAB_STATE(n, c, p, l)
#define VOCAB_STAGE(n, N, s, r, l)
#define VOCAB_PROMPT(k, s, l)	{ .kind = #k, .state = #s, .label = l },
#include "vocab.def"
#undef VOCAB_STATE
#undef VOCAB_STAGE
#undef VOCAB_PROMPT
};

const struct vocab_state *
vocab_state(const char *name)
{
	size_t	i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < STATE__COUNT; i++)
		if (strcmp(vocab_states[i].name, name) == 0)
			return &vocab_states[i];
	return NULL;
}

const char *
vocab_state_label(const char *name)
{
	const struct vocab_state	*s = vocab_state(name);

	return s != NULL ? s->label : name;
}

int
vocab_stage_from_name(const char *name)
{
	int	i;

	if (name == NULL)
		return -1;
	for (i = 0; i < STAGE__COUNT; i++)
		if (strcmp(vocab_stages[i].name, name) == 0)
			return i;
	return -1;
}

int
vocab_stage_of_state(const char *state)
{
	int	i;

	if (state == NULL)
		return -1;
	for (i = 0; i < STAGE__COUNT; i++)
		if (strcmp(vocab_stages[i].state, state) == 0)
			return i;
	return -1;
}

int
vocab_state_is_active(const char *name)
{
	const struct vocab_state	*s = vocab_state(name);

	return s != NULL && s->class != VOCAB_QUEUED &&
	    s->class != VOCAB_TERMINAL;
}
