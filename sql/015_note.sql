-- 015_note.sql: a deployment carries an optional note from its requester
-- ("why this backport"), set when it is queued. Deployment JSON now lists
-- the row's public columns generically, so a new column reaches the API,
-- the pages and the stream without another function to edit.
-- Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

ALTER TABLE deployments ADD COLUMN note text
	CHECK (note IS NULL OR (length(note) BETWEEN 1 AND 500
	    AND note !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]'));

-- Queue with a note: the two-argument enqueue does the work (checks, cap,
-- position, event); the note is set in the same transaction.
CREATE FUNCTION enqueue(actor text, patches text[], note text) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	IF note IS NOT NULL AND length(note) > 500 THEN
		PERFORM raise_error('SP400', 'note', 'at most 500 characters');
	END IF;
	d := enqueue(actor, patches);
	IF note IS NOT NULL AND note <> '' THEN
		UPDATE deployments SET note = enqueue.note WHERE id = d.id
		    RETURNING * INTO d;
	END IF;
	RETURN d;
END
$$;

-- A deployment as the API shows it: every column but the worker's
-- bookkeeping (lease, holder, stage clock, rollback outcome).
CREATE OR REPLACE FUNCTION deployment_json(d deployments) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN d.id IS NOT NULL THEN (to_jsonb(d) - 'worker_id'
	    - 'lease_expires_at' - 'stage_started_at' - 'touched_stages'
	    - 'rollback_ok')::json END
$$;

-- The dashboard's own deployments: the same public columns plus what the
-- page needs.
CREATE OR REPLACE FUNCTION dashboard(actor text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_user(actor);
	RETURN (overview_jsonb() || jsonb_build_object(
	    'mine', (SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]')
		FROM (SELECT d.id, deployment_json(d)::jsonb || jsonb_build_object(
		    'state_label', state_label(d.state),
		    'cancellable', state_before_pipeline(d.state),
		    'prompt', prompt_json(d.id)) AS j FROM deployments d
		    WHERE d.requester = actor ORDER BY d.id DESC LIMIT 20) x)))::json;
END
$$;

REVOKE ALL ON FUNCTION enqueue(text, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enqueue(text, text[], text)
    TO spiderpig_web, spiderpig_admin;
