-- 006_reads.sql: every read the web app makes, as functions. The app, psql
-- and a future daemon get the same answer, and spiderpig_web loses direct
-- access to the tables. Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- One deployment row as the API shows it. Formats the row it is given and
-- reads nothing, so it needs no privileges.
CREATE FUNCTION deployment_json(d deployments) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN d.id IS NOT NULL THEN json_build_object('id', d.id,
	    'state', d.state, 'position', d.position, 'patches', d.patches,
	    'requester', d.requester, 'created_at', d.created_at,
	    'updated_at', d.updated_at, 'started_at', d.started_at,
	    'finished_at', d.finished_at, 'rollback_reason', d.rollback_reason)
	END
$$;

-- The open prompt of a deployment, or NULL.
CREATE FUNCTION prompt_json(deployment bigint) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', p.id, 'kind', p.kind,
	    'question', p.question, 'choices', p.choices,
	    'default', p.default_answer, 'asked_at', p.asked_at,
	    'expires_at', p.expires_at)
	FROM prompts p
	WHERE p.deployment_id = prompt_json.deployment AND p.answered_at IS NULL
$$;

-- Each stage of a deployment in the vocabulary's order, with what its
-- latest event says.
CREATE FUNCTION stages_json(deployment bigint) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_agg(json_build_object('name', s.name,
	    'status', CASE WHEN l.action IS NULL THEN 'pending'
		WHEN l.action = 'stage_started' THEN 'running'
		WHEN (l.details->>'ok')::boolean THEN 'done' ELSE 'failed' END,
	    'started_at', b.at,
	    'finished_at', CASE WHEN l.action = 'stage_finished' THEN l.at END,
	    'detail', l.details->'detail') ORDER BY s.ord)
	FROM vocabulary() s
	LEFT JOIN LATERAL (SELECT e.action, e.at, e.details FROM events e
	    WHERE e.deployment_id = stages_json.deployment
	    AND e.action IN ('stage_started', 'stage_finished')
	    AND e.details->>'stage' = s.name ORDER BY e.id DESC LIMIT 1) l
	    ON true
	LEFT JOIN LATERAL (SELECT e.at FROM events e
	    WHERE e.deployment_id = stages_json.deployment
	    AND e.action = 'stage_started' AND e.details->>'stage' = s.name
	    ORDER BY e.id DESC LIMIT 1) b ON true
	WHERE s.kind = 'stage'
$$;

-- The freeze in force as {reason, by, since, until}, or NULL.
CREATE FUNCTION freeze_json() RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('reason', f.reason, 'by', f.frozen_by,
	    'since', f.since, 'until', f.until)
	FROM freezes f
	WHERE f.lifted_at IS NULL AND (f.until IS NULL OR f.until > now())
	ORDER BY f.id DESC LIMIT 1
$$;

-- Reads for the web app and psql -----------------------------------------

-- GET /api/v1/deployments/{id}: the row, touched stages, the open prompt,
-- every stage and the first 1000 events. NULL when there is no such row.
CREATE FUNCTION deployment_get(deployment bigint) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT (deployment_json(d)::jsonb || jsonb_build_object(
	    'touched_stages', d.touched_stages,
	    'prompt', prompt_json(d.id),
	    'stages', stages_json(d.id),
	    'events', (SELECT coalesce(json_agg(json_build_object('id', e.id,
		'at', e.at, 'actor', e.actor, 'action', e.action,
		'details', e.details) ORDER BY e.id), '[]')
		FROM (SELECT * FROM events e WHERE e.deployment_id = d.id
		ORDER BY e.id LIMIT 1000) e)))::json
	FROM deployments d WHERE d.id = deployment_get.deployment
$$;

-- GET /api/v1/deployments: newest first, at most max_rows, optionally
-- only one state, one requester, created in [since, until), and older than
-- the keyset cursor before. next_before is the cursor of the next page
-- (NULL on the last).
CREATE FUNCTION deployment_list(state text DEFAULT NULL,
    requester text DEFAULT NULL, since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL, before bigint DEFAULT NULL,
    max_rows integer DEFAULT 50) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT json_build_object(
	    'deployments', coalesce(json_agg(x.j ORDER BY x.id DESC), '[]'),
	    'next_before', CASE WHEN count(*) = max_rows THEN min(x.id) END)
	FROM (SELECT d.id, deployment_json(d) AS j FROM deployments d
	    WHERE (deployment_list.state IS NULL OR d.state = deployment_list.state)
	    AND (deployment_list.requester IS NULL
		OR d.requester = deployment_list.requester)
	    AND (deployment_list.since IS NULL OR d.created_at >= deployment_list.since)
	    AND (deployment_list.until IS NULL OR d.created_at < deployment_list.until)
	    AND (deployment_list.before IS NULL OR d.id < deployment_list.before)
	    ORDER BY d.id DESC
	    LIMIT least(greatest(max_rows, 1), 200)) x
$$;

-- The active deployment (NULL when none) as deployment_json.
CREATE FUNCTION active_json() RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT deployment_json(d) FROM queue q JOIN deployments d ON d.id = q.id
	WHERE q.position IS NULL LIMIT 1
$$;

-- GET /api/v1/queue: the active deployment and a page of the queue, in
-- order from the spiderpig.queue view: at most max_rows whose position is
-- after after_position. next_after is the cursor of the next page (absent
-- on the last).
CREATE FUNCTION queue_page(after_position integer DEFAULT 0,
    max_rows integer DEFAULT 500) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	WITH page AS (SELECT q.position, deployment_json(d) AS j
	    FROM queue q JOIN deployments d ON d.id = q.id
	    WHERE q.position > greatest(after_position, 0)
	    ORDER BY q.position LIMIT least(greatest(max_rows, 1), 500)),
	last AS (SELECT max(position) AS position FROM page)
	SELECT json_build_object('active', active_json(),
	    'queued', coalesce((SELECT json_agg(j ORDER BY position) FROM page),
		'[]'),
	    'next_after', (SELECT l.position FROM last l WHERE EXISTS (
		SELECT 1 FROM queue q WHERE q.position > l.position)))
$$;

-- GET /api/v1/status: the freeze, the active deployment, the queue length
-- and how many seconds ago a worker was last seen.
CREATE FUNCTION status() RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT json_build_object(
	    'frozen', freeze_json() IS NOT NULL,
	    'freeze', freeze_json(),
	    'active', active_json(),
	    'queue_length', (SELECT count(*) FROM queue q
		WHERE q.position IS NOT NULL),
	    'worker_heartbeat_age', (SELECT round(extract(epoch FROM
		now() - max(w.seen_at))::numeric, 3) FROM workers w),
	    'now', now())
$$;

-- A state before the pipeline starts (waiting in the queue or for the
-- "ready" answer): what a requester may still cancel. From the vocabulary's
-- order, so a new state needs no edit here.
CREATE FUNCTION state_before_pipeline(s text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT v.ord < (SELECT min(p.ord) FROM vocabulary() p
	    WHERE p.kind = 'state' AND p.pipeline)
	FROM vocabulary() v WHERE v.kind = 'state' AND v.name = s
$$;

-- The queue as the pages show it: the active deployment and the first
-- max_rows queued, in order.
CREATE FUNCTION queue_short_json(max_rows integer) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('id', x.id,
	    'state', x.state, 'state_label', state_label(x.state),
	    'position', x.position, 'requester', x.requester,
	    'patches', x.patches) ORDER BY x.position NULLS FIRST, x.id), '[]')
	FROM (SELECT * FROM queue q ORDER BY q.position NULLS FIRST, q.id
	    LIMIT max_rows) x
$$;

-- What the dashboard and the admin page both show: the freeze, the first
-- 200 of the queue and its length.
CREATE FUNCTION overview_jsonb() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('freeze', freeze_json(),
	    'queue', queue_short_json(200),
	    'queue_length', (SELECT count(*) FROM queue q))
$$;

-- GET /: the overview and the actor's last 20 deployments with their open
-- prompt and whether they can still be cancelled.
CREATE FUNCTION dashboard(actor text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_user(actor);
	RETURN (overview_jsonb() || jsonb_build_object(
	    'mine', (SELECT coalesce(json_agg(x ORDER BY x.id DESC), '[]')
		FROM (SELECT d.id, d.state, state_label(d.state) AS state_label,
		    d.patches, d.created_at,
		    state_before_pipeline(d.state) AS cancellable,
		    prompt_json(d.id) AS prompt FROM deployments d
		    WHERE d.requester = actor ORDER BY d.id DESC LIMIT 20) x)))::json;
END
$$;

-- GET /admin: the overview and every user.
CREATE FUNCTION admin_overview(actor text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_admin(actor);
	RETURN (overview_jsonb() || jsonb_build_object(
	    'users', (SELECT coalesce(json_agg(json_build_object('name', u.name,
		'role', u.role, 'banned', u.banned) ORDER BY u.name), '[]')
		FROM users u)))::json;
END
$$;

-- The log -------------------------------------------------------------------

-- Who reads a log and how: {deployment, requester, state}. SP404 when there
-- is no such deployment; SP403 when viewer asks to see sensitive lines
-- (reveal) but is neither the requester nor an admin.
CREATE FUNCTION log_head(viewer text, deployment bigint, reveal boolean)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	viewer_role	text;
BEGIN
	viewer_role := require_user(viewer);
	SELECT * INTO d FROM deployments WHERE id = log_head.deployment;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL,
		    format('no deployment %s', log_head.deployment));
	END IF;
	IF reveal AND viewer_role <> 'admin' AND d.requester <> viewer THEN
		PERFORM raise_error('SP403', 'sensitive',
		    'only the requester or an admin may see sensitive lines');
	END IF;
	RETURN json_build_object('deployment', d.id, 'requester', d.requester,
	    'state', d.state);
END
$$;

-- One page of a deployment's log for viewer: the lines after after_seq, at
-- most max_lines of them and at most budget bytes of JSON text (always at
-- least one line). Each run of sensitive lines is one placeholder row
-- (seq, last_seq, text '<sensitive information hidden>') unless the viewer
-- may see them (requester or admin) and asked to (reveal). A line longer
-- than cut characters is cut there: truncated is true and length is its
-- full length in bytes. With only_seq, just that line, whole. more, set on
-- the last row only, says whether lines follow the page.
CREATE FUNCTION log_page(viewer text, deployment bigint, after_seq bigint,
    max_lines integer, reveal boolean, only_seq bigint DEFAULT NULL,
    budget integer DEFAULT 2097152, cut integer DEFAULT 8192)
RETURNS TABLE (seq bigint, last_seq bigint, at timestamptz, stream text,
    sensitive boolean, text text, truncated boolean, length integer,
    more boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	l		record;
	may_see		boolean;
	used		bigint := 0;
	cost		bigint;
	n		integer := 0;
	pend		boolean := false;	-- a row is held back in the OUT columns
	run_open	boolean := false;
	stopped		boolean := false;
	last_read	bigint;
BEGIN
	may_see := reveal AND (require_user(viewer) = 'admin' OR EXISTS (
	    SELECT 1 FROM deployments d WHERE d.id = log_page.deployment
	    AND d.requester = viewer));
	FOR l IN SELECT k.seq, k.at, k.stream, k.sensitive,
	    CASE WHEN only_seq IS NULL THEN left(k.line, cut) ELSE k.line END
		AS line,
	    octet_length(k.line) AS full_len
	    FROM log_lines k
	    WHERE k.deployment_id = log_page.deployment
	    AND (only_seq IS NULL OR k.seq = only_seq)
	    AND k.seq > coalesce(after_seq, 0)
	    ORDER BY k.seq LIMIT CASE WHEN only_seq IS NULL THEN max_lines
		ELSE 1 END
	LOOP
		IF l.sensitive AND NOT may_see AND run_open THEN
			last_seq := l.seq;		-- the run grows
			last_read := l.seq;
			n := n + 1;
			CONTINUE;
		END IF;
		IF l.sensitive AND NOT may_see THEN
			cost := 100;
		ELSE
			cost := octet_length(to_json(l.line)::text) + 100;
		END IF;
		IF n > 0 AND used + cost > budget THEN
			stopped := true;
			EXIT;
		END IF;
		IF pend THEN
			RETURN NEXT;
		END IF;
		used := used + cost;
		n := n + 1;
		last_read := l.seq;
		seq := l.seq;
		more := false;
		IF l.sensitive AND NOT may_see THEN
			run_open := true;
			last_seq := l.seq;
			at := NULL;
			stream := NULL;
			sensitive := true;
			text := '<sensitive information hidden>';
			truncated := NULL;
			length := NULL;
		ELSE
			run_open := false;
			last_seq := NULL;
			at := l.at;
			stream := l.stream;
			sensitive := l.sensitive;
			text := l.line;
			truncated := octet_length(l.line) < l.full_len;
			length := l.full_len;
		END IF;
		pend := true;
	END LOOP;
	IF pend THEN
		more := only_seq IS NULL AND (stopped OR EXISTS (SELECT 1
		    FROM log_lines k WHERE k.deployment_id = log_page.deployment
		    AND k.seq > last_read));
		RETURN NEXT;
	END IF;
END
$$;

-- Privileges -----------------------------------------------------------------

-- The queue check is a deferred trigger: it runs at commit, outside the
-- SECURITY DEFINER function that changed the queue, as whoever commits.
-- It reads deployments, which the web role no longer may.
ALTER FUNCTION check_queue_dense() SECURITY DEFINER
    SET search_path = spiderpig, pg_temp;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
-- The web app reads only through functions now. (Quietly: REVOKE warns
-- about each table the role had nothing on.)
SET LOCAL client_min_messages = error;
REVOKE ALL ON ALL TABLES IN SCHEMA spiderpig FROM spiderpig_web;
GRANT EXECUTE ON FUNCTION deployment_json(deployments), deployment_get(bigint),
    deployment_list(text, text, timestamptz, timestamptz, bigint, integer),
    queue_page(integer, integer), status(), dashboard(text),
    admin_overview(text), log_head(text, bigint, boolean),
    log_page(text, bigint, bigint, integer, boolean, bigint, integer, integer)
    TO spiderpig_web, spiderpig_admin;
