-- 016_pages.sql: the reads of the HTML pages (the deployment page, the
-- history with durations, the admin audit of events) and the client
-- address on events. Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- Where a change number links to on the pages: prefix || number. A patch
-- given as an https URL links to itself.
ALTER TABLE settings ADD COLUMN change_url_prefix text NOT NULL
	DEFAULT 'https://gerrit.wikimedia.org/r/c/'
	CHECK (change_url_prefix ~ '^https://[^\s"<>]+$');

-- The address an action came from, when the app said so: it sets the
-- session setting spiderpig.client_addr before each action it runs, and
-- this trigger copies it onto the events row the action writes. The
-- worker and psql set nothing, so their events have none.
ALTER TABLE events ADD COLUMN address inet;

CREATE FUNCTION events_address() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	a	text := current_setting('spiderpig.client_addr', true);
BEGIN
	IF NEW.address IS NULL AND a IS NOT NULL AND a <> '' THEN
		BEGIN
			NEW.address := a::inet;
		EXCEPTION WHEN invalid_text_representation THEN
			NEW.address := NULL;
		END;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER events_address BEFORE INSERT ON events
	FOR EACH ROW EXECUTE FUNCTION events_address();

-- Seconds from a to b (b NULL: now), NULL when a is.
CREATE FUNCTION seconds_between(a timestamptz, b timestamptz) RETURNS numeric
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN a IS NOT NULL THEN
	    round(extract(epoch FROM coalesce(b, now()) - a)::numeric, 1) END
$$;

-- The link of one patch (a change number or an https URL).
CREATE FUNCTION patch_link(p text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p ~ '^https://' THEN p
	    ELSE (SELECT s.change_url_prefix FROM settings s) || p END
$$;

-- Each stage with its label, status, start, end and duration in seconds.
CREATE FUNCTION stages_page_json(deployment bigint) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_agg(s.j::jsonb || jsonb_build_object(
	    'label', stage_label(s.j->>'name'),
	    'duration', CASE WHEN s.j->>'status' IN ('running', 'done', 'failed')
		THEN seconds_between((s.j->>'started_at')::timestamptz,
		    (s.j->>'finished_at')::timestamptz) END))
	FROM json_array_elements(stages_json(stages_page_json.deployment)) s(j)
$$;

-- The error-rate samples of a deployment's canary checks, oldest first:
-- [{at, elapsed, canary, control, verdict}] with the rates as error
-- fractions (NULL without requests). The samples' table comes with the
-- canary check's migration; until it exists this is '[]'. The query is a
-- fixed text; the deployment is a parameter.
CREATE FUNCTION error_samples(deployment bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	out	json;
BEGIN
	IF to_regclass('spiderpig.canary_samples') IS NULL THEN
		RETURN '[]';
	END IF;
	EXECUTE $q$SELECT coalesce(json_agg(json_build_object('at', s.at,
	    'elapsed', s.elapsed,
	    'canary', s.canary_errors / nullif(s.canary_requests, 0),
	    'control', s.control_errors / nullif(s.control_requests, 0),
	    'verdict', s.verdict) ORDER BY s.seq), '[]')
	    FROM spiderpig.canary_samples s WHERE s.deployment_id = $1$q$
	    INTO out USING deployment;
	RETURN out;
END
$$;

-- A deployment as the page shows it to viewer: the API's answer plus the
-- labels, durations, patch links and what the viewer may do (answer the
-- prompt, roll back, cancel, see sensitive lines). NULL when there is no
-- such deployment.
CREATE FUNCTION deployment_page(viewer text, deployment bigint) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	r	text;
	owns	boolean;
BEGIN
	r := require_user(viewer);
	SELECT * INTO d FROM deployments WHERE id = deployment_page.deployment;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	owns := d.requester = viewer OR r = 'admin';
	RETURN (deployment_get(d.id)::jsonb - 'stages' || jsonb_build_object(
	    'state_label', state_label(d.state),
	    'stages', stages_page_json(d.id),
	    'patch_links', (SELECT json_agg(json_build_object('patch', p,
		'url', patch_link(p)) ORDER BY o) FROM unnest(d.patches)
		WITH ORDINALITY u(p, o)),
	    'duration', seconds_between(d.started_at, d.finished_at),
	    'active', state_is_active(d.state),
	    'may_answer', owns,
	    'may_rollback', owns AND state_in_pipeline(d.state),
	    'may_cancel', owns AND state_before_pipeline(d.state),
	    'may_reveal', owns,
	    'has_sensitive', EXISTS (SELECT 1 FROM log_lines l
		WHERE l.deployment_id = d.id AND l.sensitive),
	    'last_seq', (SELECT max(l.seq) FROM log_lines l
		WHERE l.deployment_id = d.id),
	    'samples', error_samples(d.id),
	    'now', now()))::json;
END
$$;

-- The history page: deployment_list's filters and keyset cursor, each
-- entry with its label, outcome and duration in seconds.
CREATE FUNCTION deployment_history(viewer text, state text,
    requester text, since timestamptz, until timestamptz, before bigint,
    max_rows integer) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	page	jsonb;
BEGIN
	PERFORM require_user(viewer);
	page := deployment_list(state, requester, since, until, before,
	    max_rows)::jsonb;
	RETURN jsonb_set(page, '{deployments}', coalesce((SELECT jsonb_agg(
	    x.j || jsonb_build_object(
		'state_label', state_label(x.j->>'state'),
		'outcome', CASE WHEN state_is_terminal(x.j->>'state')
		    THEN x.j->>'state' WHEN state_is_active(x.j->>'state')
		    THEN 'in progress' ELSE 'waiting' END,
		'duration', seconds_between((x.j->>'started_at')::timestamptz,
		    (x.j->>'finished_at')::timestamptz)) ORDER BY x.o)
	    FROM jsonb_array_elements(page->'deployments') WITH ORDINALITY
		x(j, o)), '[]'))::json;
END
$$;

-- The admin's audit page: events newest first, older than before (an
-- event id), at most max_rows (1..200); next_before continues. SP403 for a
-- non-admin.
CREATE FUNCTION audit_page(actor text, before bigint, max_rows integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	n	integer := least(greatest(coalesce(max_rows, 100), 1), 200);
BEGIN
	PERFORM require_admin(actor);
	RETURN (SELECT json_build_object(
	    'events', coalesce(json_agg(json_build_object('id', e.id,
		'at', e.at, 'actor', e.actor, 'action', e.action,
		'deployment', e.deployment_id, 'address', host(e.address),
		'details', e.details) ORDER BY e.id DESC), '[]'),
	    'next_before', CASE WHEN count(*) = n THEN min(e.id) END)
	    FROM (SELECT * FROM events e
		WHERE audit_page.before IS NULL OR e.id < audit_page.before
		ORDER BY e.id DESC LIMIT n) e);
END
$$;

-- The admin page's token list: every token with its owner, newest first.
CREATE FUNCTION admin_tokens(actor text) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_admin(actor);
	RETURN (SELECT coalesce(json_agg(json_build_object('id', t.id,
	    'owner', t.username, 'name', t.name, 'created_at', t.created_at,
	    'expires_at', t.expires_at, 'last_used_at', t.last_used_at)
	    ORDER BY t.id DESC), '[]')
	    FROM (SELECT * FROM api_tokens t WHERE t.revoked_at IS NULL
		AND t.expires_at > now() ORDER BY t.id DESC LIMIT 500) t);
END
$$;

REVOKE ALL ON FUNCTION deployment_page(text, bigint),
    deployment_history(text, text, text, timestamptz, timestamptz, bigint,
    integer), audit_page(text, bigint, integer), admin_tokens(text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deployment_page(text, bigint),
    deployment_history(text, text, text, timestamptz, timestamptz, bigint,
    integer), audit_page(text, bigint, integer), admin_tokens(text)
    TO spiderpig_web, spiderpig_admin;
