-- 009_stream.sql: what the WebSocket stream daemon (stream/) reads, and the
-- NOTIFY it needs to close the sockets of users who were logged out or
-- banned. The daemon logs in as spiderpig_stream, which may only call the
-- stream_* functions below: no table SELECT. Never edit once released.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spiderpig_stream') THEN
		CREATE ROLE spiderpig_stream LOGIN;
	END IF;
END
$$;

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

GRANT USAGE ON SCHEMA spiderpig TO spiderpig_stream;

-- The placeholder that stands for a run of sensitive lines, as the log API
-- shows it (cgi/logmask.c).
CREATE FUNCTION stream_hidden_text() RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT '<sensitive information hidden>'::text
$$;

-- May viewer see the sensitive lines of deployment: the requester or an
-- admin, not banned.
CREATE FUNCTION stream_may_reveal(viewer text, deployment bigint)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT coalesce((SELECT NOT u.banned AND (u.role = 'admin'
	    OR d.requester = u.name)
	    FROM users u, deployments d
	    WHERE u.name = viewer AND d.id = deployment), false)
$$;

-- One deployment as the stream shows it: the row as the API shows it
-- (006's deployment_json), its state's label, the open prompt and the
-- stages (006's prompt_json and stages_json). NULL when there is no such
-- deployment.
CREATE FUNCTION stream_deployment(deployment bigint) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT (deployment_json(d)::jsonb || jsonb_build_object(
	    'state_label', state_label(d.state),
	    'prompt', prompt_json(d.id),
	    'stages', stages_json(d.id)))::json
	FROM deployments d WHERE d.id = stream_deployment.deployment
$$;

-- A viewer starts watching a deployment. Refuses an unknown or banned
-- viewer (SP401/SP403) and a missing deployment (SP404). Returns the
-- deployment's highest log seq now (0 without lines), whether the viewer
-- may reveal sensitive lines, and the deployment as stream_deployment.
CREATE FUNCTION stream_watch(viewer text, deployment bigint)
RETURNS TABLE (last_seq bigint, may_reveal boolean, summary json)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_user(viewer);
	IF NOT EXISTS (SELECT 1 FROM deployments d WHERE d.id = deployment) THEN
		PERFORM raise_error('SP404', 'deployment',
		    format('no deployment %s', deployment));
	END IF;
	RETURN QUERY SELECT coalesce((SELECT max(l.seq) FROM log_lines l
	    WHERE l.deployment_id = deployment), 0),
	    stream_may_reveal(viewer, deployment),
	    stream_deployment(deployment);
END
$$;

-- One page of a deployment's log: the lines with after < seq <= upto, at
-- most max_lines of them and no more than max_bytes of text (the first line
-- always), as a JSON array shaped like the log API's. Each run of
-- sensitive lines in the page is one placeholder {"seq": first,
-- "last_seq": last, "sensitive": true, "text": "<sensitive information
-- hidden>"} unless reveal is asked and viewer may reveal. last_seq is the
-- highest seq the page covers (NULL when it is empty): the next page starts
-- after it. The page's bounds depend on the raw lines only, so every
-- viewer's copy of a page covers the same seqs. (006's log_page serves the
-- API: it has no upper bound, and its budget counts the collapsed text, so
-- two viewers' pages would end at different seqs; the stream fetches each
-- page once per class and hands the same frame to every watcher, which
-- needs both.)
CREATE FUNCTION stream_log(viewer text, deployment bigint, after bigint,
    upto bigint, reveal boolean, max_lines integer, max_bytes integer)
RETURNS TABLE (last_seq bigint, lines json)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	WITH show AS (
		SELECT coalesce(reveal, false)
		    AND stream_may_reveal(viewer, deployment) AS ok
	), raw AS (
		SELECT l.seq, l.at, l.stream, l.sensitive, l.line
		FROM log_lines l
		WHERE l.deployment_id = deployment AND l.seq > after
		    AND l.seq <= upto
		ORDER BY l.seq
		LIMIT greatest(least(max_lines, 10000), 1)
	), sized AS (
		SELECT r.*, sum(octet_length(r.line)) OVER (ORDER BY r.seq)
		    AS total, row_number() OVER (ORDER BY r.seq) AS n
		FROM raw r
	), page AS (
		SELECT s.*, s.sensitive AND NOT (SELECT ok FROM show) AS hide
		FROM sized s
		WHERE s.n = 1 OR s.total <= max_bytes
	), starts AS (
		SELECT p.*, p.hide AND NOT coalesce(lag(p.hide)
		    OVER (ORDER BY p.seq), false) AS first_hidden
		FROM page p
	), marked AS (
		SELECT s.*, count(*) FILTER (WHERE s.first_hidden)
		    OVER (ORDER BY s.seq) AS run
		FROM starts s
	), shown AS (
		SELECT m.seq, json_build_object('seq', m.seq, 'at', m.at,
		    'stream', m.stream, 'sensitive', m.sensitive,
		    'text', m.line) AS j
		FROM marked m WHERE NOT m.hide
		UNION ALL
		SELECT min(m.seq), json_build_object('seq', min(m.seq),
		    'last_seq', max(m.seq), 'at', min(m.at), 'stream', 'system',
		    'sensitive', true, 'text', stream_hidden_text())
		FROM marked m WHERE m.hide GROUP BY m.run
	)
	SELECT (SELECT max(seq) FROM page),
	    coalesce((SELECT json_agg(j ORDER BY seq) FROM shown), '[]'::json)
$$;

-- What every client sees: what the dashboard and the admin page show
-- (006's overview_jsonb: the freeze, the queue with positions, its length).
CREATE FUNCTION stream_overview() RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT overview_jsonb()::json
$$;

-- Logouts, bans and "log out everyone" end sockets as well as requests:
-- the events they write are announced on 'spiderpig_auth' as
-- {"event": ..., "user": NAME or null for everyone}. A user logging
-- themselves out (session_end) is the event's actor. A user whose role is
-- set (add_user: user_set) is announced too: what a socket may see was
-- decided under the old role, so it reconnects and is checked again.
CREATE FUNCTION stream_notify_auth() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('spiderpig_auth', json_build_object(
	    'event', NEW.action,
	    'user', CASE WHEN NEW.action = 'logout_all' THEN NULL
	        ELSE coalesce(NEW.details->>'user', NEW.actor) END)::text);
	RETURN NULL;
END
$$;
CREATE TRIGGER events_notify_auth AFTER INSERT ON events
	FOR EACH ROW WHEN (NEW.action IN ('logout', 'logout_all', 'ban',
	    'user_set'))
	EXECUTE FUNCTION stream_notify_auth();

REVOKE ALL ON FUNCTION stream_hidden_text(), stream_may_reveal(text, bigint),
    stream_deployment(bigint), stream_watch(text, bigint),
    stream_log(text, bigint, bigint, bigint, boolean, integer, integer),
    stream_overview(), stream_notify_auth() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stream_deployment(bigint),
    stream_watch(text, bigint),
    stream_log(text, bigint, bigint, bigint, boolean, integer, integer),
    stream_overview()
    TO spiderpig_stream, spiderpig_admin;
