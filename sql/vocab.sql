-- vocab.sql: GENERATED from lib/vocab.def by `make` (tools/vocab-gen.c); do not edit.
-- tools/migrate applies it after the numbered migrations on every run (and
-- 005_vocabulary.sql includes it), so the functions below and the
-- constraints that use them always match the one definition.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- The constraints and index derived from the vocabulary go first and come
-- back last, checked against every row.
ALTER TABLE deployments
	DROP CONSTRAINT IF EXISTS deployments_state_known,
	DROP CONSTRAINT IF EXISTS deployments_worker_state,
	DROP CONSTRAINT IF EXISTS deployments_terminal_finished,
	DROP CONSTRAINT IF EXISTS deployments_touched_stages;
ALTER TABLE prompts DROP CONSTRAINT IF EXISTS prompts_kind_known;
DROP INDEX IF EXISTS deployments_one_active;

-- Every term with its class and label: states, stages (with the state
-- that runs them) and prompt kinds (with the state that asks them).
CREATE OR REPLACE FUNCTION vocabulary()
RETURNS TABLE (kind text, name text, ord integer, class text, pipeline boolean,
    state text, rollback boolean, label text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	VALUES
	    ('state', 'queued', 1, 'queued', false, NULL::text, NULL::boolean, 'Queued'),
	    ('state', 'awaiting_ready', 2, 'prompt', false, NULL::text, NULL::boolean, 'Waiting for you: ready to deploy?'),
	    ('state', 'merging', 3, 'stage', true, NULL::text, NULL::boolean, 'Merging the patches'),
	    ('state', 'syncing_test', 4, 'stage', true, NULL::text, NULL::boolean, 'Syncing the test servers'),
	    ('state', 'smoke_testing', 5, 'stage', true, NULL::text, NULL::boolean, 'Running the smoke tests'),
	    ('state', 'awaiting_continue', 6, 'prompt', true, NULL::text, NULL::boolean, 'Waiting for you: continue to canaries?'),
	    ('state', 'syncing_canary', 7, 'stage', true, NULL::text, NULL::boolean, 'Syncing the canaries'),
	    ('state', 'checking_canary', 8, 'stage', true, NULL::text, NULL::boolean, 'Checking the canaries'' error rate'),
	    ('state', 'syncing_production', 9, 'stage', true, NULL::text, NULL::boolean, 'Syncing production'),
	    ('state', 'awaiting_finish', 10, 'prompt', true, NULL::text, NULL::boolean, 'Waiting for you: finish and free the queue?'),
	    ('state', 'rolling_back', 11, 'rollback', false, NULL::text, NULL::boolean, 'Rolling back'),
	    ('state', 'awaiting_ack', 12, 'prompt', false, NULL::text, NULL::boolean, 'Waiting for you: acknowledge the rollback'),
	    ('state', 'done', 13, 'terminal', false, NULL::text, NULL::boolean, 'Done'),
	    ('state', 'rolled_back', 14, 'terminal', false, NULL::text, NULL::boolean, 'Rolled back'),
	    ('state', 'rollback_failed', 15, 'terminal', false, NULL::text, NULL::boolean, 'Rollback failed'),
	    ('state', 'cancelled', 16, 'terminal', false, NULL::text, NULL::boolean, 'Cancelled'),
	    ('state', 'expired', 17, 'terminal', false, NULL::text, NULL::boolean, 'Expired: not answered in time'),
	    ('state', 'awaiting_failure', 18, 'prompt', false, NULL::text, NULL::boolean, 'Waiting for you: a stage failed; retry, ignore, roll back or exit?'),
	    ('state', 'abandoned', 19, 'terminal', false, NULL::text, NULL::boolean, 'Exited after a failed stage: left as it was'),
	    ('stage', 'merge', 1, NULL, NULL, 'merging', false, 'Merge'),
	    ('stage', 'sync_test', 2, NULL, NULL, 'syncing_test', true, 'Sync test servers'),
	    ('stage', 'smoke_test', 3, NULL, NULL, 'smoke_testing', false, 'Smoke test'),
	    ('stage', 'sync_canary', 4, NULL, NULL, 'syncing_canary', true, 'Sync canaries'),
	    ('stage', 'canary_check', 5, NULL, NULL, 'checking_canary', false, 'Canary check'),
	    ('stage', 'sync_production', 6, NULL, NULL, 'syncing_production', true, 'Sync production'),
	    ('prompt', 'ready', 1, NULL, NULL, 'awaiting_ready', NULL, 'Ready to deploy?'),
	    ('prompt', 'continue', 2, NULL, NULL, 'awaiting_continue', NULL, 'Continue to the canaries?'),
	    ('prompt', 'finish', 3, NULL, NULL, 'awaiting_finish', NULL, 'Finish the deployment?'),
	    ('prompt', 'ack', 4, NULL, NULL, 'awaiting_ack', NULL, 'Acknowledge the rollback'),
	    ('prompt', 'scap', 5, NULL, NULL, 'merging', NULL, 'A question from scap'),
	    ('prompt', 'failure', 6, NULL, NULL, 'awaiting_failure', NULL, 'A stage failed: retry, ignore, roll back or exit?')
$$;

-- Every deployment state.
CREATE OR REPLACE FUNCTION state_known(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT s IN ('queued', 'awaiting_ready', 'merging', 'syncing_test', 'smoke_testing', 'awaiting_continue', 'syncing_canary', 'checking_canary', 'syncing_production', 'awaiting_finish', 'rolling_back', 'awaiting_ack', 'done', 'rolled_back', 'rollback_failed', 'cancelled', 'expired', 'awaiting_failure', 'abandoned')
$$;

-- The states that hold the queue: at most one deployment is in one.
CREATE OR REPLACE FUNCTION state_is_active(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT s IN ('awaiting_ready', 'merging', 'syncing_test', 'smoke_testing', 'awaiting_continue', 'syncing_canary', 'checking_canary', 'syncing_production', 'awaiting_finish', 'rolling_back', 'awaiting_ack', 'awaiting_failure')
$$;

-- The states a worker holds (a stage or a rollback runs).
CREATE OR REPLACE FUNCTION state_is_running(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT s IN ('merging', 'syncing_test', 'smoke_testing', 'syncing_canary', 'checking_canary', 'syncing_production', 'rolling_back')
$$;

-- The states a deployment ends in.
CREATE OR REPLACE FUNCTION state_is_terminal(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT s IN ('done', 'rolled_back', 'rollback_failed', 'cancelled', 'expired', 'abandoned')
$$;

-- The pipeline's steps: a deployment may be rolled back from these.
CREATE OR REPLACE FUNCTION state_in_pipeline(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT s IN ('merging', 'syncing_test', 'smoke_testing', 'awaiting_continue', 'syncing_canary', 'checking_canary', 'syncing_production', 'awaiting_finish')
$$;

-- What a person reads for a state.
CREATE OR REPLACE FUNCTION state_label(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE s
	    WHEN 'queued' THEN 'Queued'
	    WHEN 'awaiting_ready' THEN 'Waiting for you: ready to deploy?'
	    WHEN 'merging' THEN 'Merging the patches'
	    WHEN 'syncing_test' THEN 'Syncing the test servers'
	    WHEN 'smoke_testing' THEN 'Running the smoke tests'
	    WHEN 'awaiting_continue' THEN 'Waiting for you: continue to canaries?'
	    WHEN 'syncing_canary' THEN 'Syncing the canaries'
	    WHEN 'checking_canary' THEN 'Checking the canaries'' error rate'
	    WHEN 'syncing_production' THEN 'Syncing production'
	    WHEN 'awaiting_finish' THEN 'Waiting for you: finish and free the queue?'
	    WHEN 'rolling_back' THEN 'Rolling back'
	    WHEN 'awaiting_ack' THEN 'Waiting for you: acknowledge the rollback'
	    WHEN 'done' THEN 'Done'
	    WHEN 'rolled_back' THEN 'Rolled back'
	    WHEN 'rollback_failed' THEN 'Rollback failed'
	    WHEN 'cancelled' THEN 'Cancelled'
	    WHEN 'expired' THEN 'Expired: not answered in time'
	    WHEN 'awaiting_failure' THEN 'Waiting for you: a stage failed; retry, ignore, roll back or exit?'
	    WHEN 'abandoned' THEN 'Exited after a failed stage: left as it was'
	END
$$;

-- The stage a state runs, or NULL.
CREATE OR REPLACE FUNCTION stage_of(state text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE state
	    WHEN 'merging' THEN 'merge'
	    WHEN 'syncing_test' THEN 'sync_test'
	    WHEN 'smoke_testing' THEN 'smoke_test'
	    WHEN 'syncing_canary' THEN 'sync_canary'
	    WHEN 'checking_canary' THEN 'canary_check'
	    WHEN 'syncing_production' THEN 'sync_production'
	END
$$;

-- What a person reads for a stage.
CREATE OR REPLACE FUNCTION stage_label(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE s
	    WHEN 'merge' THEN 'Merge'
	    WHEN 'sync_test' THEN 'Sync test servers'
	    WHEN 'smoke_test' THEN 'Smoke test'
	    WHEN 'sync_canary' THEN 'Sync canaries'
	    WHEN 'canary_check' THEN 'Canary check'
	    WHEN 'sync_production' THEN 'Sync production'
	END
$$;

-- The prompt kind a state asks, or NULL.
CREATE OR REPLACE FUNCTION prompt_of_state(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE s
	    WHEN 'awaiting_ready' THEN 'ready'
	    WHEN 'awaiting_continue' THEN 'continue'
	    WHEN 'awaiting_finish' THEN 'finish'
	    WHEN 'awaiting_ack' THEN 'ack'
	    WHEN 'awaiting_failure' THEN 'failure'
	END
$$;

-- The pipeline step after a pipeline state, or NULL after the last.
CREATE OR REPLACE FUNCTION state_after(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE s
	    WHEN 'merging' THEN 'syncing_test'
	    WHEN 'syncing_test' THEN 'smoke_testing'
	    WHEN 'smoke_testing' THEN 'awaiting_continue'
	    WHEN 'awaiting_continue' THEN 'syncing_canary'
	    WHEN 'syncing_canary' THEN 'checking_canary'
	    WHEN 'checking_canary' THEN 'syncing_production'
	    WHEN 'syncing_production' THEN 'awaiting_finish'
	END
$$;

-- Prompt kinds.
CREATE OR REPLACE FUNCTION prompt_kind_known(k text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT k IN ('ready', 'continue', 'finish', 'ack', 'scap', 'failure')
$$;

-- The stages rolled back with a deployment, in pipeline order.
CREATE OR REPLACE FUNCTION rollback_stages() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY['sync_test', 'sync_canary', 'sync_production']::text[]
$$;

ALTER TABLE deployments
	ADD CONSTRAINT deployments_state_known CHECK (state_known(state)),
	ADD CONSTRAINT deployments_worker_state CHECK (worker_id IS NULL OR state_is_running(state)),
	ADD CONSTRAINT deployments_terminal_finished CHECK (state_is_terminal(state) = (finished_at IS NOT NULL)),
	ADD CONSTRAINT deployments_touched_stages CHECK (touched_stages <@ rollback_stages());
ALTER TABLE prompts ADD CONSTRAINT prompts_kind_known CHECK (prompt_kind_known(kind));
-- At most one deployment holds the queue.
CREATE UNIQUE INDEX deployments_one_active ON deployments ((true))
	WHERE state_is_active(state);

REVOKE ALL ON FUNCTION vocabulary(), state_known(text), state_is_active(text),
    state_is_running(text), state_is_terminal(text), state_in_pipeline(text),
    state_label(text), stage_of(text), stage_label(text), prompt_of_state(text), state_after(text),
    prompt_kind_known(text), rollback_stages() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vocabulary(), state_known(text), state_is_active(text),
    state_is_running(text), state_is_terminal(text), state_in_pipeline(text),
    state_label(text), stage_of(text), stage_label(text), prompt_of_state(text), state_after(text),
    prompt_kind_known(text), rollback_stages()
    TO spiderpig_web, spiderpig_worker, spiderpig_admin;
