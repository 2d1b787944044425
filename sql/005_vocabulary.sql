-- 005_vocabulary.sql: states, stages and prompt kinds come from one
-- definition (lib/vocab.def). The lists written out in 001 and 002 are
-- replaced by the functions sql/vocab.sql generates from it, and the
-- functions that walked the pipeline by name now ask those functions.
-- Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- The literal lists of 001 go; vocab.sql adds the derived ones back.
DO $$
DECLARE
	c	record;
BEGIN
	FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
	    WHERE connamespace = 'spiderpig'::regnamespace AND contype = 'c'
	    AND conrelid IN ('spiderpig.deployments'::regclass,
	        'spiderpig.prompts'::regclass)
	    AND (pg_get_constraintdef(oid) ~ '''(merging|sync_canary|done|continue)'''
	        AND pg_get_constraintdef(oid) !~ 'position')
	LOOP
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
	END LOOP;
END
$$;
DROP INDEX deployments_one_active;

\ir vocab.sql

-- Reset: vocab.sql ends its own SET LOCALs' scope only with the transaction.
SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

CREATE OR REPLACE VIEW queue AS
	SELECT id, requester, patches, state, position, created_at, started_at
	FROM deployments
	WHERE NOT state_is_terminal(state)
	ORDER BY position NULLS FIRST, id;

CREATE OR REPLACE FUNCTION request_rollback(actor text, deployment bigint, reason text DEFAULT NULL)
RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	d := lock_for_actor(actor, deployment);
	IF reason IS NOT NULL AND length(reason) > 500 THEN
		PERFORM raise_error('SP400', 'reason', 'at most 500 characters');
	END IF;
	IF NOT state_in_pipeline(d.state) THEN
		PERFORM raise_error('SP409', NULL, format(
		    'deployment %s is %s; nothing to roll back%s', d.id, d.state,
		    CASE WHEN d.state IN ('queued', 'awaiting_ready')
		    THEN ' (cancel it instead)' ELSE '' END));
	END IF;
	RETURN start_rollback(actor, d, coalesce(
	    format('%s asked for a rollback: %s', actor, reason),
	    format('%s asked for a rollback', actor)));
END
$$;

CREATE OR REPLACE FUNCTION offer_next() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d deployments;
BEGIN
	IF (freeze_in_force()).id IS NOT NULL THEN
		RETURN NULL;
	END IF;
	PERFORM lock_queue();
	IF EXISTS (SELECT 1 FROM deployments WHERE state_is_active(state)) THEN
		RETURN NULL;
	END IF;
	SELECT * INTO d FROM deployments WHERE state = 'queued' AND position = 1
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE deployments SET state = 'awaiting_ready', position = NULL
	    WHERE id = d.id;
	UPDATE deployments SET position = position - 1 WHERE state = 'queued';
	PERFORM ask(d.id, 'ready');
	PERFORM log_event('system', d.id, 'offered', '{}');
	RETURN d.id;
END
$$;

CREATE OR REPLACE FUNCTION claim_next(worker text, lease interval) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	prev	text;
BEGIN
	SELECT * INTO d FROM deployments
	    WHERE state_is_running(state)
	    AND (worker_id IS NULL OR worker_id = worker
	        OR lease_expires_at < now())
	    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	prev := d.worker_id;
	UPDATE deployments SET worker_id = worker,
	    lease_expires_at = now() + lease WHERE id = d.id RETURNING * INTO d;
	IF prev IS DISTINCT FROM worker THEN
		PERFORM log_event('system', d.id, 'claimed', jsonb_build_object(
		    'worker', worker, 'previous_worker', prev));
	END IF;
	IF prev IS NOT NULL AND prev <> worker AND d.state <> 'rolling_back'
	    AND d.stage_started_at IS NOT NULL THEN
		d := start_rollback('system', d, format(
		    '%s was interrupted: worker %s stopped renewing its lease',
		    d.state, prev));
	END IF;
	RETURN d;
END
$$;

CREATE OR REPLACE FUNCTION stage_begin(deployment bigint, worker text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	st	text;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = deployment AND worker_id = worker
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	st := stage_of(d.state);
	IF st IS NULL THEN
		RETURN d.state;
	END IF;
	UPDATE deployments SET stage_started_at = now(),
	    touched_stages = CASE WHEN st = ANY (rollback_stages())
	        AND NOT st = ANY (touched_stages)
	        THEN touched_stages || st ELSE touched_stages END
	    WHERE id = d.id;
	PERFORM log_event('system', d.id, 'stage_started', jsonb_build_object(
	    'stage', st, 'worker', worker));
	RETURN d.state;
END
$$;

-- The stage the worker ran finished; the next pipeline step is a stage the
-- worker goes on with, or a prompt that releases the row.
CREATE OR REPLACE FUNCTION stage_done(deployment bigint, worker text, ok boolean, detail text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	st	text;
	nxt	text;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = deployment AND worker_id = worker
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	st := stage_of(d.state);
	IF st IS NULL OR d.stage_started_at IS NULL THEN
		RETURN d.state;
	END IF;
	PERFORM log_event('system', d.id, 'stage_finished', jsonb_build_object(
	    'stage', st, 'ok', ok, 'detail', detail,
	    'seconds', round(extract(epoch FROM now() - d.stage_started_at)::numeric, 3)));
	UPDATE deployments SET stage_started_at = NULL WHERE id = d.id
	    RETURNING * INTO d;
	IF NOT ok THEN
		d := start_rollback('system', d, format('%s failed: %s', st,
		    coalesce(detail, 'no detail')));
		RETURN d.state;
	END IF;
	nxt := state_after(d.state);
	IF nxt IS NULL THEN
		PERFORM raise_error('SP500', NULL, format(
		    'the pipeline has no step after %s', d.state));
	END IF;
	IF prompt_of_state(nxt) IS NOT NULL THEN
		UPDATE deployments SET state = nxt, worker_id = NULL,
		    lease_expires_at = NULL WHERE id = d.id;
		PERFORM ask(d.id, prompt_of_state(nxt));
	ELSE
		UPDATE deployments SET state = nxt WHERE id = d.id;
	END IF;
	PERFORM log_event('system', d.id, 'state', jsonb_build_object('state', nxt));
	RETURN nxt;
END
$$;

-- Which migrations are applied, for readyz (the web role reads no table).
CREATE FUNCTION migrations_applied() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT coalesce(array_agg(version ORDER BY version), '{}')
	FROM schema_migrations
$$;
REVOKE ALL ON FUNCTION migrations_applied() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrations_applied()
    TO spiderpig_web, spiderpig_worker, spiderpig_admin;
