-- 011_builtin.sql: the built-in mode's patch source and the failure prompt.
--  * settings.gerrit_host: the one Gerrit host change URLs may name
--    (enqueue refuses any other, for the API, the form and psql alike);
--  * deployment_changes: what the worker fetched from Gerrit about each
--    change, read through changes_json();
--  * a failed stage asks the failure prompt (retry, ignore, roll back,
--    exit; roll back when nobody answers) instead of rolling back at once.
-- Redefined here: stage_done, ask, request_rollback, enqueue, patch_change,
-- deployment_get (each "as before, plus ..."); apply_answer is wrapped, not
-- replaced (see below).
-- Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- Settings -----------------------------------------------------------------

-- gerrit_host is host[:port] in lower case, as it appears in a change URL.
-- NULL: no Gerrit is configured and URLs may name any host (as before).
-- A worker whose config has [gerrit] url sets it at startup
-- (gerrit_host_set); an admin may set it in psql for a Gerrit that the
-- worker does not talk to itself (scap mode).
ALTER TABLE settings
	ADD COLUMN failure_timeout interval NOT NULL DEFAULT '10 minutes'
		CHECK (failure_timeout > '0'),
	ADD COLUMN gerrit_host text
		CHECK (gerrit_host ~ '^[a-z0-9.-]+(:[0-9]{1,5})?$');

-- The state whose stage failed last, and why; set while the failure
-- prompt is open, kept afterwards as the record of the last failure.
ALTER TABLE deployments
	ADD COLUMN failed_state text,
	ADD COLUMN failure_detail text,
	ADD CONSTRAINT deployments_failure_known CHECK (
	    state <> 'awaiting_failure' OR failed_state IS NOT NULL);

-- Change URLs --------------------------------------------------------------

-- The host[:port] a change URL names, lower case; NULL for a bare number.
CREATE FUNCTION patch_host(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT lower((regexp_match(p, '^https://([^/]+)/'))[1])
$$;

-- The change number of a valid patch. Gerrit's URLs put it after "/+/"
-- and may add the patchset (".../+/12345/2"); other URLs end in it.
CREATE OR REPLACE FUNCTION patch_change(p text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce((regexp_match(p, '/\+/([0-9]+)(/[0-9]+)?/?$'))[1],
	    (regexp_match(p, '([0-9]+)/?$'))[1])::bigint
$$;

-- The patchset a URL pins (".../+/12345/2" -> 2), or NULL.
CREATE FUNCTION patch_patchset(p text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT (regexp_match(p, '/\+/[0-9]+/([1-9][0-9]{0,4})/?$'))[1]::integer
$$;

-- What Gerrit said about each change ---------------------------------------

CREATE TABLE deployment_changes (
	deployment_id	bigint NOT NULL REFERENCES deployments (id),
	ord		integer NOT NULL CHECK (ord BETWEEN 0 AND 19),
	change		bigint NOT NULL CHECK (change > 0),
	project		text NOT NULL CHECK (length(project) <= 255),
	branch		text NOT NULL CHECK (length(branch) <= 255),
	subject		text NOT NULL CHECK (length(subject) <= 1000),
	owner		text NOT NULL CHECK (length(owner) <= 255),
	status		text NOT NULL CHECK (status IN ('NEW', 'MERGED',
			    'ABANDONED')),
	patchset	integer NOT NULL CHECK (patchset > 0),
	pinned		boolean NOT NULL DEFAULT false,
	revision	text NOT NULL CHECK (revision ~ '^[0-9a-f]{40}$'),
	mergeable	boolean,
	-- Code-Review votes: [{"who": "name", "value": -2..2}, ...]
	code_review	jsonb NOT NULL DEFAULT '[]'
			CHECK (jsonb_typeof(code_review) = 'array'),
	-- The CI verdict: the lowest Verified vote (-1 fails), NULL: none.
	verified	integer CHECK (verified BETWEEN -2 AND 2),
	fetched_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (deployment_id, ord)
);

-- One line per change for prompts: "12345 PS3 mediawiki/core master
-- "Fix the thing" by alice, mergeable, CR +2, Verified +1".
CREATE FUNCTION changes_summary(deployment bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT string_agg(format('%s PS%s%s %s %s "%s" by %s, %s, CR %s, '
	    'Verified %s', c.change, c.patchset,
	    CASE WHEN c.pinned THEN ' (pinned)' ELSE '' END, c.project,
	    c.branch, c.subject, c.owner,
	    CASE WHEN c.status = 'MERGED' THEN 'merged'
	        WHEN c.status = 'ABANDONED' THEN 'ABANDONED'
	        WHEN c.mergeable THEN 'mergeable'
	        WHEN NOT c.mergeable THEN 'NOT mergeable'
	        ELSE 'mergeability unknown' END,
	    coalesce((SELECT string_agg(to_char((v->>'value')::int, 'SG0'),
	        ' ' ORDER BY (v->>'value')::int DESC)
	        FROM jsonb_array_elements(c.code_review) v
	        WHERE (v->>'value')::int <> 0), 'none'),
	    coalesce(to_char(c.verified, 'SG0'), 'none')), '; ' ORDER BY c.ord)
	FROM deployment_changes c
	WHERE c.deployment_id = changes_summary.deployment
$$;

-- Prompts ------------------------------------------------------------------

-- As in 002, with the fetched changes in the ready question and the
-- failure prompt.
CREATE OR REPLACE FUNCTION ask(deployment bigint, kind text) RETURNS prompts
LANGUAGE plpgsql AS $$
DECLARE
	s	settings;
	p	prompts;
	d	deployments;
	ch	text;
BEGIN
	SELECT * INTO s FROM settings;
	SELECT * INTO d FROM deployments WHERE id = deployment;
	ch := changes_summary(deployment);
	INSERT INTO prompts (deployment_id, kind, question, choices,
	    default_answer, expires_at)
	SELECT deployment, kind, q.question, q.choices, q.dflt, now() + q.ttl
	FROM (VALUES
	    ('ready', format('Ready to deploy %s?%s', array_to_string(d.patches, ', '),
	        CASE WHEN ch IS NOT NULL THEN ' ' || ch ELSE '' END),
	        ARRAY['yes', 'no'], 'no', s.ready_timeout),
	    ('continue', 'The patches are on the test servers. Continue to the canaries?',
	        ARRAY['yes', 'no'], 'no', s.continue_timeout),
	    ('finish', 'Deployed to production. Finish the deployment and free the queue?',
	        ARRAY['finish', 'rollback'], 'finish', s.finish_timeout),
	    ('ack', 'Rolled back. The patches are still merged in Gerrit: a revert is needed. Acknowledge?',
	        ARRAY['ack'], 'ack', s.ack_timeout),
	    ('failure', format('%s failed: %s. Retry, ignore it and go on '
	        '(admins only), roll back, or exit leaving everything as it is? '
	        'Nobody answering means roll back.',
	        coalesce(stage_label(stage_of(d.failed_state)), d.failed_state),
	        coalesce(d.failure_detail, 'no detail')),
	        ARRAY['retry', 'ignore', 'rollback', 'exit'], 'rollback',
	        s.failure_timeout)
	) AS q(k, question, choices, dflt, ttl)
	WHERE q.k = kind
	RETURNING * INTO p;
	RETURN p;
END
$$;

-- The stage the worker ran finished. As in 005, except that a failed stage
-- asks the failure prompt and releases the row.
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
		UPDATE deployments SET state = 'awaiting_failure',
		    failed_state = d.state,
		    failure_detail = left(coalesce(detail, 'no detail'), 1000),
		    worker_id = NULL, lease_expires_at = NULL WHERE id = d.id;
		PERFORM ask(d.id, 'failure');
		PERFORM log_event('system', d.id, 'state', jsonb_build_object(
		    'state', 'awaiting_failure', 'failed', st));
		RETURN 'awaiting_failure';
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

-- Move a deployment to the pipeline state s: a prompt state asks its
-- prompt, a stage state waits for a worker.
CREATE FUNCTION enter_state(d deployments, s text) RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	nd	deployments;
BEGIN
	UPDATE deployments SET state = s WHERE id = d.id RETURNING * INTO nd;
	IF prompt_of_state(s) IS NOT NULL THEN
		PERFORM ask(d.id, prompt_of_state(s));
	END IF;
	RETURN nd;
END
$$;

-- The failure prompt's answers. Every other kind keeps the rules it had
-- before this migration (002's, or those of a migration numbered before
-- this one that replaced them, e.g. scap mode's 010), now under the name
-- apply_answer_base: this function handles 'failure' and hands the rest on.
-- "ignore" needs an admin (a timeout never ignores: its default is
-- rollback); "exit" ends the deployment as abandoned, leaving every server
-- as it is.
ALTER FUNCTION apply_answer(text, deployments, prompts, text, boolean)
    RENAME TO apply_answer_base;

CREATE FUNCTION apply_answer(actor text, d deployments, p prompts,
    ans text, by_timeout boolean) RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	nd	deployments;
	det	jsonb;
	nxt	text;
BEGIN
	IF p.kind <> 'failure' THEN
		RETURN apply_answer_base(actor, d, p, ans, by_timeout);
	END IF;
	IF ans = 'ignore' AND (by_timeout OR require_user(actor) <> 'admin') THEN
		PERFORM raise_error('SP403', 'answer', format(
		    'only an admin may ignore a failed stage; %s may retry, '
		    'roll back or exit', actor));
	END IF;
	UPDATE prompts SET answered_at = now(), answered_by = actor,
	    answer = ans, timed_out = by_timeout WHERE id = p.id;
	det := jsonb_build_object('prompt', p.id, 'kind', p.kind,
	    'answer', ans, 'timed_out', by_timeout);
	PERFORM log_event(actor, d.id, 'answer', det);

	CASE ans
	WHEN 'retry' THEN
		nd := enter_state(d, d.failed_state);
	WHEN 'ignore' THEN
		nxt := state_after(d.failed_state);
		IF nxt IS NULL THEN
			PERFORM raise_error('SP500', NULL, format(
			    'the pipeline has no step after %s', d.failed_state));
		END IF;
		nd := enter_state(d, nxt);
	WHEN 'rollback' THEN
		nd := start_rollback(actor, d, format('%s failed: %s%s',
		    stage_of(d.failed_state), coalesce(d.failure_detail, 'no detail'),
		    CASE WHEN by_timeout THEN ' (the failure prompt timed out)'
		    ELSE format(' (%s chose to roll back)', actor) END));
	WHEN 'exit' THEN
		nd := finish(actor, d, 'abandoned', 'abandoned', det);
	END CASE;
	PERFORM log_event(actor, d.id, 'state', jsonb_build_object(
	    'state', nd.state));
	RETURN nd;
END
$$;

-- As in 005; a deployment waiting at the failure prompt may be rolled back
-- too.
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
	IF NOT state_in_pipeline(d.state) AND d.state <> 'awaiting_failure' THEN
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

-- Enqueue: as in 007, and change URLs must name settings.gerrit_host when
-- it is set.
CREATE OR REPLACE FUNCTION enqueue(actor text, patches text[]) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	i	integer;
	pos	integer;
	lim	integer;
	n	integer;
	gh	text;
	h	text;
BEGIN
	PERFORM require_user(actor);
	IF patches IS NULL OR cardinality(patches) = 0 THEN
		PERFORM raise_error('SP400', 'patches', 'at least one patch is required');
	END IF;
	IF cardinality(patches) > 20 THEN
		PERFORM raise_error('SP400', 'patches', format(
		    'at most 20 patches per deployment, got %s', cardinality(patches)));
	END IF;
	FOR i IN 1 .. cardinality(patches) LOOP
		IF patches[i] IS NULL OR NOT valid_patch(patches[i]) THEN
			PERFORM raise_error('SP400', format('patches[%s]', i - 1),
			    'not a Gerrit change number or change URL');
		END IF;
	END LOOP;
	SELECT gerrit_host INTO gh FROM settings;
	IF gh IS NOT NULL THEN
		FOR i IN 1 .. cardinality(patches) LOOP
			h := patch_host(patches[i]);
			IF h IS NOT NULL AND h <> gh THEN
				PERFORM raise_error('SP400', 'patches', format(
				    '%s names the host %s; only changes on %s '
				    'are accepted', patches[i], h, gh));
			END IF;
		END LOOP;
	END IF;
	IF (SELECT count(DISTINCT patch_change(x)) FROM unnest(patches) x)
	    <> cardinality(patches) THEN
		PERFORM raise_error('SP400', 'patches', 'the same change is listed twice');
	END IF;
	-- Counted under the queue lock, so parallel requests cannot all pass.
	PERFORM lock_queue();
	SELECT max_queued_per_user INTO lim FROM settings;
	SELECT count(*) INTO n FROM deployments
	    WHERE requester = actor AND state = 'queued';
	IF n >= lim THEN
		PERFORM raise_error('SP409', NULL, format(
		    'you already have %s deployment%s queued; the limit is %s',
		    n, CASE WHEN n = 1 THEN '' ELSE 's' END, lim));
	END IF;
	SELECT coalesce(max(position), 0) + 1 INTO pos
	    FROM deployments WHERE state = 'queued';
	INSERT INTO deployments (requester, patches, position)
	    VALUES (actor, patches, pos) RETURNING * INTO d;
	PERFORM log_event(actor, d.id, 'enqueued',
	    jsonb_build_object('patches', patches, 'position', pos));
	RETURN d;
END
$$;

-- Worker: Gerrit --------------------------------------------------------------

-- The worker's [gerrit] url names the host change URLs must name.
CREATE FUNCTION gerrit_host_set(worker text, host text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	old	text;
BEGIN
	SELECT gerrit_host INTO old FROM settings FOR UPDATE;
	IF old IS DISTINCT FROM lower(host) THEN
		UPDATE settings SET gerrit_host = lower(host);
		PERFORM log_event('system', NULL, 'gerrit_host', jsonb_build_object(
		    'worker', worker, 'old', old, 'new', lower(host)));
	END IF;
END
$$;

-- Deployments waiting at the ready prompt whose changes were not fetched
-- yet, with the patches: the worker fetches them.
CREATE FUNCTION changes_wanted() RETURNS TABLE (id bigint, patches text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT d.id, array_to_string(d.patches, ' ') FROM deployments d
	WHERE d.state = 'awaiting_ready' AND NOT EXISTS (
	    SELECT 1 FROM deployment_changes c WHERE c.deployment_id = d.id)
	ORDER BY d.id
$$;

-- Store what Gerrit says about the change at patches[ord] of an active
-- deployment (info: the fields of deployment_changes as JSON). The open
-- ready prompt's question is rewritten to show it.
CREATE FUNCTION change_record(deployment bigint, ord integer, info jsonb)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	ch	text;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = deployment FOR UPDATE;
	IF NOT FOUND OR NOT state_is_active(d.state) THEN
		RETURN;
	END IF;
	IF ord < 0 OR ord >= cardinality(d.patches)
	    OR (info->>'change')::bigint <> patch_change(d.patches[ord + 1]) THEN
		PERFORM raise_error('SP400', 'ord', format(
		    'deployment %s has no change %s at %s', d.id,
		    info->>'change', ord));
	END IF;
	INSERT INTO deployment_changes AS c (deployment_id, ord, change, project,
	    branch, subject, owner, status, patchset, pinned, revision,
	    mergeable, code_review, verified, fetched_at)
	VALUES (d.id, change_record.ord, (info->>'change')::bigint, info->>'project',
	    info->>'branch', left(info->>'subject', 1000), info->>'owner',
	    info->>'status', (info->>'patchset')::integer,
	    patch_patchset(d.patches[change_record.ord + 1]) IS NOT NULL,
	    info->>'revision',
	    (info->>'mergeable')::boolean, coalesce(info->'code_review', '[]'),
	    (info->>'verified')::integer, now())
	ON CONFLICT ON CONSTRAINT deployment_changes_pkey DO UPDATE SET change = EXCLUDED.change,
	    project = EXCLUDED.project, branch = EXCLUDED.branch,
	    subject = EXCLUDED.subject, owner = EXCLUDED.owner,
	    status = EXCLUDED.status, patchset = EXCLUDED.patchset,
	    pinned = EXCLUDED.pinned, revision = EXCLUDED.revision,
	    mergeable = EXCLUDED.mergeable, code_review = EXCLUDED.code_review,
	    verified = EXCLUDED.verified, fetched_at = EXCLUDED.fetched_at;
	IF d.state = 'awaiting_ready' THEN
		ch := changes_summary(d.id);
		UPDATE prompts SET question = format('Ready to deploy %s? %s',
		    array_to_string(d.patches, ', '), ch)
		    WHERE deployment_id = d.id AND kind = 'ready'
		    AND answered_at IS NULL;
	END IF;
END
$$;

-- The patches of a deployment in order, with the change each names, the
-- patchset it pins and the patchset last fetched (NULL: none), for the
-- worker's built-in merge stages.
CREATE FUNCTION deployment_patches(deployment bigint)
RETURNS TABLE (ord integer, patch text, change bigint, pinned integer,
    fetched integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT (p.n - 1)::integer, p.x, patch_change(p.x), patch_patchset(p.x),
	    c.patchset
	FROM deployments d
	CROSS JOIN LATERAL unnest(d.patches) WITH ORDINALITY AS p(x, n)
	LEFT JOIN deployment_changes c ON c.deployment_id = d.id
	    AND c.ord = p.n - 1
	WHERE d.id = deployment_patches.deployment
	ORDER BY p.n
$$;

-- Reads ----------------------------------------------------------------------

-- The changes of a deployment as the worker last fetched them, in patch
-- order: [{change, patchset, pinned, revision, project, branch, subject,
-- owner, status, mergeable, code_review, verified, fetched_at}], [] when
-- none was fetched. For the deployment page, the API and psql.
CREATE FUNCTION changes_json(deployment bigint) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT coalesce(json_agg(json_build_object('change', c.change,
	    'patchset', c.patchset, 'pinned', c.pinned, 'revision', c.revision,
	    'project', c.project, 'branch', c.branch, 'subject', c.subject,
	    'owner', c.owner, 'status', c.status, 'mergeable', c.mergeable,
	    'code_review', c.code_review, 'verified', c.verified,
	    'fetched_at', c.fetched_at) ORDER BY c.ord), '[]')
	FROM deployment_changes c
	WHERE c.deployment_id = changes_json.deployment
$$;

-- GET /api/v1/deployments/{id}: as in 006, with the changes (changes_json)
-- and the last failure (failed_stage, failure_detail).
CREATE OR REPLACE FUNCTION deployment_get(deployment bigint) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT (deployment_json(d)::jsonb || jsonb_build_object(
	    'touched_stages', d.touched_stages,
	    'prompt', prompt_json(d.id),
	    'stages', stages_json(d.id),
	    'changes', changes_json(d.id),
	    'failed_stage', stage_of(d.failed_state),
	    'failure_detail', d.failure_detail,
	    'events', (SELECT coalesce(json_agg(json_build_object('id', e.id,
		'at', e.at, 'actor', e.actor, 'action', e.action,
		'details', e.details) ORDER BY e.id), '[]')
		FROM (SELECT * FROM events e WHERE e.deployment_id = d.id
		ORDER BY e.id LIMIT 1000) e)))::json
	FROM deployments d WHERE d.id = deployment_get.deployment
$$;

-- Privileges -------------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
GRANT SELECT ON deployment_changes TO spiderpig_admin;
GRANT UPDATE (failure_timeout, gerrit_host) ON settings TO spiderpig_admin;
GRANT EXECUTE ON FUNCTION patch_host(text), patch_patchset(text),
    changes_json(bigint)
    TO spiderpig_web, spiderpig_worker, spiderpig_admin;
GRANT EXECUTE ON FUNCTION gerrit_host_set(text, text), changes_wanted(),
    change_record(bigint, integer, jsonb), deployment_patches(bigint)
    TO spiderpig_worker, spiderpig_admin;
