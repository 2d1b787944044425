/*
 * vocab-gen.c: write what lib/vocab.def defines as SQL (`vocab-gen sql`:
 * sql/vocab.sql) or as a Markdown reference (`vocab-gen doc`:
 * doc/vocabulary.md). `make` runs it; t/142 checks the committed copies
 * are current.
 */
#include <stdio.h>
#include <string.h>

#include "vocab.h"

static const char *const class_names[] = {
	[VOCAB_QUEUED] = "queued", [VOCAB_PROMPT] = "prompt",
	[VOCAB_STAGE] = "stage", [VOCAB_ROLLBACK] = "rollback",
	[VOCAB_TERMINAL] = "terminal",
};

/* s as an SQL string literal (labels are ours; quotes doubled anyway). */
static void
sql_str(const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			putchar('\'');
		putchar(*s);
	}
	putchar('\'');
}

/* 'a', 'b', ... for the states whose class is in mask (1 << class). */
static void
sql_state_list(unsigned mask)
{
	size_t	i;
	int	first = 1;

	for (i = 0; i < STATE__COUNT; i++) {
		if (!(mask & (1u << vocab_states[i].class)))
			continue;
		printf("%s", first ? "" : ", ");
		sql_str(vocab_states[i].name);
		first = 0;
	}
}

/* A boolean predicate over states of the classes in mask. */
static void
sql_state_predicate(const char *fn, const char *what, unsigned mask)
{
	printf("-- %s\nCREATE OR REPLACE FUNCTION %s(s text) RETURNS boolean\n"
	    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$\n"
	    "\tSELECT s IN (", what, fn);
	sql_state_list(mask);
	printf(")\n$$;\n\n");
}

/* A text -> text mapping as a CASE over pairs (key[i], val[i]). */
static void
sql_case_begin(const char *fn, const char *arg, const char *what)
{
	printf("-- %s\nCREATE OR REPLACE FUNCTION %s(%s text) RETURNS text\n"
	    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$\n"
	    "\tSELECT CASE %s\n", what, fn, arg, arg);
}

static void
sql_case_when(const char *k, const char *v)
{
	printf("\t    WHEN ");
	sql_str(k);
	printf(" THEN ");
	sql_str(v);
	putchar('\n');
}

static void
sql_case_end(void)
{
	printf("\tEND\n$$;\n\n");
}

static void
sql_vocabulary(void)
{
	size_t	i;

	printf("-- Every term with its class and label: states, stages (with the "
	    "state\n-- that runs them) and prompt kinds (with the state that "
	    "asks them).\n"
	    "CREATE OR REPLACE FUNCTION vocabulary()\nRETURNS TABLE (kind text, "
	    "name text, ord integer, class text, pipeline boolean,\n"
	    "    state text, rollback boolean, label text)\n"
	    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$\n\tVALUES\n");
	for (i = 0; i < STATE__COUNT; i++) {
		printf("\t    ('state', ");
		sql_str(vocab_states[i].name);
		printf(", %zu, '%s', %s, NULL::text, NULL::boolean, ", i + 1,
		    class_names[vocab_states[i].class],
		    vocab_states[i].pipeline ? "true" : "false");
		sql_str(vocab_states[i].label);
		printf("),\n");
	}
	for (i = 0; i < STAGE__COUNT; i++) {
		printf("\t    ('stage', ");
		sql_str(vocab_stages[i].name);
		printf(", %zu, NULL, NULL, ", i + 1);
		sql_str(vocab_stages[i].state);
		printf(", %s, ", vocab_stages[i].rollback ? "true" : "false");
		sql_str(vocab_stages[i].label);
		printf("),\n");
	}
	for (i = 0; i < PROMPT__COUNT; i++) {
		printf("\t    ('prompt', ");
		sql_str(vocab_prompts[i].kind);
		printf(", %zu, NULL, NULL, ", i + 1);
		sql_str(vocab_prompts[i].state);
		printf(", NULL, ");
		sql_str(vocab_prompts[i].label);
		printf(")%s\n", i + 1 < PROMPT__COUNT ? "," : "");
	}
	printf("$$;\n\n");
}

static void
sql_mappings(void)
{
	size_t	i, j;

	sql_case_begin("state_label", "s", "What a person reads for a state.");
	for (i = 0; i < STATE__COUNT; i++)
		sql_case_when(vocab_states[i].name, vocab_states[i].label);
	sql_case_end();

	sql_case_begin("stage_of", "state", "The stage a state runs, or NULL.");
	for (i = 0; i < STAGE__COUNT; i++)
		sql_case_when(vocab_stages[i].state, vocab_stages[i].name);
	sql_case_end();

	sql_case_begin("stage_label", "s", "What a person reads for a stage.");
	for (i = 0; i < STAGE__COUNT; i++)
		sql_case_when(vocab_stages[i].name, vocab_stages[i].label);
	sql_case_end();

	sql_case_begin("prompt_of_state", "s",
	    "The prompt kind a state asks, or NULL.");
	/* Only a prompt state asks its prompt on entry; a prompt named with
	 * a stage state (scap's) is asked by the command while it runs. */
	for (i = 0; i < PROMPT__COUNT; i++)
		if (vocab_state(vocab_prompts[i].state) != NULL &&
		    vocab_state(vocab_prompts[i].state)->class == VOCAB_PROMPT)
			sql_case_when(vocab_prompts[i].state,
			    vocab_prompts[i].kind);
	sql_case_end();

	sql_case_begin("state_after", "s", "The pipeline step after a "
	    "pipeline state, or NULL after the last.");
	for (i = 0; i < STATE__COUNT; i++) {
		if (!vocab_states[i].pipeline)
			continue;
		for (j = i + 1; j < STATE__COUNT; j++)
			if (vocab_states[j].pipeline)
				break;
		if (j < STATE__COUNT)
			sql_case_when(vocab_states[i].name,
			    vocab_states[j].name);
	}
	sql_case_end();

	printf("-- Prompt kinds.\nCREATE OR REPLACE FUNCTION prompt_kind_known("
	    "k text) RETURNS boolean\nLANGUAGE sql IMMUTABLE STRICT PARALLEL "
	    "SAFE AS $$\n\tSELECT k IN (");
	for (i = 0; i < PROMPT__COUNT; i++) {
		printf("%s", i ? ", " : "");
		sql_str(vocab_prompts[i].kind);
	}
	printf(")\n$$;\n\n");

	printf("-- The stages rolled back with a deployment, in pipeline "
	    "order.\nCREATE OR REPLACE FUNCTION rollback_stages() RETURNS "
	    "text[]\nLANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$\n\tSELECT "
	    "ARRAY[");
	for (i = 0, j = 0; i < STAGE__COUNT; i++) {
		if (!vocab_stages[i].rollback)
			continue;
		printf("%s", j++ ? ", " : "");
		sql_str(vocab_stages[i].name);
	}
	printf("]::text[]\n$$;\n\n");
}

#define C(x)	(1u << (x))

static void
sql_pipeline_predicate(void)
{
	size_t	i;
	int	first = 1;

	printf("-- The pipeline's steps: a deployment may be rolled back from "
	    "these.\nCREATE OR REPLACE FUNCTION state_in_pipeline(s text) "
	    "RETURNS boolean\nLANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
	    "$$\n\tSELECT s IN (");
	for (i = 0; i < STATE__COUNT; i++) {
		if (!vocab_states[i].pipeline)
			continue;
		printf("%s", first ? "" : ", ");
		sql_str(vocab_states[i].name);
		first = 0;
	}
	printf(")\n$$;\n\n");
}

static void
sql_file(void)
{
	printf("-- vocab.sql: GENERATED from lib/vocab.def by `make` "
	    "(tools/vocab-gen.c); do not edit.\n"
	    "-- tools/migrate applies it after the numbered migrations on "
	    "every run (and\n-- 005_vocabulary.sql includes it), so the "
	    "functions below and the\n-- constraints that use them always "
	    "match the one definition.\n\n"
	    "SET LOCAL ROLE spiderpig_owner;\n"
	    "SET LOCAL search_path = spiderpig, pg_temp;\n\n"
	    "-- The constraints and index derived from the vocabulary go first "
	    "and come\n-- back last, checked against every row.\n"
	    "ALTER TABLE deployments\n"
	    "\tDROP CONSTRAINT IF EXISTS deployments_state_known,\n"
	    "\tDROP CONSTRAINT IF EXISTS deployments_worker_state,\n"
	    "\tDROP CONSTRAINT IF EXISTS deployments_terminal_finished,\n"
	    "\tDROP CONSTRAINT IF EXISTS deployments_touched_stages;\n"
	    "ALTER TABLE prompts DROP CONSTRAINT IF EXISTS prompts_kind_known;\n"
	    "DROP INDEX IF EXISTS deployments_one_active;\n\n");
	sql_vocabulary();
	sql_state_predicate("state_known", "Every deployment state.",
	    C(VOCAB_QUEUED) | C(VOCAB_PROMPT) | C(VOCAB_STAGE) |
	    C(VOCAB_ROLLBACK) | C(VOCAB_TERMINAL));
	sql_state_predicate("state_is_active", "The states that hold the "
	    "queue: at most one deployment is in one.",
	    C(VOCAB_PROMPT) | C(VOCAB_STAGE) | C(VOCAB_ROLLBACK));
	sql_state_predicate("state_is_running", "The states a worker holds "
	    "(a stage or a rollback runs).",
	    C(VOCAB_STAGE) | C(VOCAB_ROLLBACK));
	sql_state_predicate("state_is_terminal", "The states a deployment "
	    "ends in.", C(VOCAB_TERMINAL));
	sql_pipeline_predicate();
	sql_mappings();
	printf("ALTER TABLE deployments\n"
	    "\tADD CONSTRAINT deployments_state_known CHECK "
	    "(state_known(state)),\n"
	    "\tADD CONSTRAINT deployments_worker_state CHECK (worker_id IS "
	    "NULL OR state_is_running(state)),\n"
	    "\tADD CONSTRAINT deployments_terminal_finished CHECK "
	    "(state_is_terminal(state) = (finished_at IS NOT NULL)),\n"
	    "\tADD CONSTRAINT deployments_touched_stages CHECK (touched_stages "
	    "<@ rollback_stages());\n"
	    "ALTER TABLE prompts ADD CONSTRAINT prompts_kind_known CHECK "
	    "(prompt_kind_known(kind));\n"
	    "-- At most one deployment holds the queue.\n"
	    "CREATE UNIQUE INDEX deployments_one_active ON deployments "
	    "((true))\n\tWHERE state_is_active(state);\n\n"
	    "REVOKE ALL ON FUNCTION vocabulary(), state_known(text), "
	    "state_is_active(text),\n    state_is_running(text), "
	    "state_is_terminal(text), state_in_pipeline(text),\n    state_label(text), stage_of(text), "
	    "stage_label(text), prompt_of_state(text), state_after(text),\n"
	    "    prompt_kind_known(text), rollback_stages() FROM PUBLIC;\n"
	    "GRANT EXECUTE ON FUNCTION vocabulary(), state_known(text), "
	    "state_is_active(text),\n    state_is_running(text), "
	    "state_is_terminal(text), state_in_pipeline(text),\n    state_label(text), stage_of(text), "
	    "stage_label(text), prompt_of_state(text), state_after(text),\n"
	    "    prompt_kind_known(text), rollback_stages()\n"
	    "    TO spiderpig_web, spiderpig_worker, spiderpig_admin;\n");
}

static void
doc_file(void)
{
	size_t	i;

	printf("# Vocabulary\n\n"
	    "Generated from `lib/vocab.def` by `make` (`tools/vocab-gen.c`); "
	    "do not edit.\nThe same definition gives the C tables "
	    "(`lib/vocab.h`) and the SQL\nfunctions (`sql/vocab.sql`: "
	    "`spiderpig.vocabulary()`, `state_label()`,\n`state_is_active()`, "
	    "`stage_of()`, `state_after()` ...).\n\n"
	    "## Deployment states\n\n"
	    "A deployment in a *prompt*, *stage* or *rollback* state holds the "
	    "queue\n(at most one does). *Pipeline* states follow each other in "
	    "this order\nafter the ready prompt is answered yes.\n\n"
	    "| state | class | pipeline | shown as |\n|---|---|---|---|\n");
	for (i = 0; i < STATE__COUNT; i++)
		printf("| `%s` | %s | %s | %s |\n", vocab_states[i].name,
		    class_names[vocab_states[i].class],
		    vocab_states[i].pipeline ? "yes" : "", vocab_states[i].label);
	printf("\n## Stages\n\nEach runs the `[stage NAME]` command of the "
	    "worker's config while the\ndeployment is in its state. Stages "
	    "marked *rollback* are rolled back,\nnewest first, when a "
	    "deployment is.\n\n"
	    "| stage | runs in state | rollback | shown as |\n|---|---|---|---|\n");
	for (i = 0; i < STAGE__COUNT; i++)
		printf("| `%s` | `%s` | %s | %s |\n", vocab_stages[i].name,
		    vocab_stages[i].state, vocab_stages[i].rollback ? "yes" : "",
		    vocab_stages[i].label);
	printf("\n## Prompts\n\n| kind | asked in state | shown as |\n"
	    "|---|---|---|\n");
	for (i = 0; i < PROMPT__COUNT; i++)
		printf("| `%s` | `%s` | %s |\n", vocab_prompts[i].kind,
		    vocab_prompts[i].state, vocab_prompts[i].label);
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "sql") == 0)
		sql_file();
	else if (argc == 2 && strcmp(argv[1], "doc") == 0)
		doc_file();
	else {
		fprintf(stderr, "usage: vocab-gen sql|doc\n");
		return 2;
	}
	return ferror(stdout) ? 1 : 0;
}
