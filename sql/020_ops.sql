-- 020_ops.sql: what operating the daemons needs beyond 017. Never edit once
-- released.
--
-- * Revoking one API token ends the sockets it opened, as a logout ends a
--   user's: a revocation (revoke_token, a psql edit of revoked_at, a
--   deleted row) is announced on 'spiderpig_auth' as {"event":
--   "token_revoked", "user": OWNER, "token": ID}, and the gate tells the
--   stream daemon each socket's token (auth_gate: X-Spiderpig-Token).
-- * Each stream daemon reports its open sockets (stream_report) and
--   GET /metrics shows them per instance (spiderpig_stream_connections),
--   leaving out instances silent for a minute (a daemon reports every 10
--   seconds at least).
-- * The worker heartbeat age is +Inf, not NaN, when no worker ever ran, so
--   that "older than N seconds" holds and the alert fires.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- Token revocation reaches the stream --------------------------------------

-- A ban revokes every token of the user after setting users.banned: its own
-- event closes all of the user's sockets as banned (4003), so the tokens it
-- revokes say nothing, or their 4001 would come first.
CREATE FUNCTION stream_notify_token() RETURNS trigger
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t	api_tokens := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
	IF EXISTS (SELECT 1 FROM users u WHERE u.name = t.username AND u.banned) THEN
		RETURN NULL;
	END IF;
	PERFORM pg_notify('spiderpig_auth', json_build_object(
	    'event', 'token_revoked', 'user', t.username, 'token', t.id)::text);
	RETURN NULL;
END
$$;
CREATE TRIGGER api_tokens_notify_stream AFTER UPDATE ON api_tokens
	FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
	EXECUTE FUNCTION stream_notify_token();
CREATE TRIGGER api_tokens_notify_stream_delete AFTER DELETE ON api_tokens
	FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
	EXECUTE FUNCTION stream_notify_token();

-- The gate's answer for an API token (/_auth): auth_token's user and role
-- and the token's id, which nginx hands the stream daemon with the user.
CREATE FUNCTION auth_gate_token(token_hash bytea)
RETURNS TABLE (username text, role text, token bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT a.username, a.role, k.id
	FROM auth_token(auth_gate_token.token_hash) a
	JOIN api_tokens k ON k.token_hash = auth_gate_token.token_hash
$$;

-- Stream daemons' sockets ---------------------------------------------------

-- One row per stream daemon: instance is "<host>:<socket path>", unique
-- while it runs and the same after a restart. It goes into a Prometheus
-- label value, hence no quote, backslash or control character.
CREATE TABLE stream_instances (
	instance	text PRIMARY KEY CHECK (length(instance) BETWEEN 1 AND 300
			    AND instance !~ '["\\\x01-\x1f\x7f]'),
	host		text NOT NULL CHECK (length(host) BETWEEN 1 AND 255),
	pid		integer NOT NULL CHECK (pid > 0),
	connections	integer NOT NULL CHECK (connections >= 0),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- A stream daemon's count of open sockets, sent when it changes (at most
-- every few seconds) and every few seconds regardless. Rows silent for a
-- day are removed on the way.
CREATE FUNCTION stream_report(instance text, host text, pid integer,
    connections integer) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	DELETE FROM stream_instances s
	    WHERE s.updated_at < now() - interval '1 day';
	INSERT INTO stream_instances AS s (instance, host, pid, connections)
	    VALUES (stream_report.instance, stream_report.host,
		stream_report.pid, stream_report.connections)
	    ON CONFLICT ON CONSTRAINT stream_instances_pkey DO UPDATE
	    SET host = EXCLUDED.host, pid = EXCLUDED.pid,
		connections = EXCLUDED.connections, updated_at = now();
$$;

-- GET /metrics ----------------------------------------------------------------

-- As in 017, with +Inf and -Inf written the way Prometheus reads them.
CREATE OR REPLACE FUNCTION metrics_family(name text, kind text, help text,
    samples text[], vals double precision[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = spiderpig, pg_temp AS $$
	SELECT '# HELP spiderpig_' || name || ' ' || help || E'\n' ||
	    '# TYPE spiderpig_' || name || ' ' || kind || E'\n' ||
	    coalesce((SELECT string_agg('spiderpig_' || name ||
		CASE WHEN s.l = '' THEN '' ELSE '{' || s.l || '}' END || ' ' ||
		CASE WHEN s.v IS NULL OR s.v = 'NaN' THEN 'NaN'
		    WHEN s.v = 'Infinity' THEN '+Inf'
		    WHEN s.v = '-Infinity' THEN '-Inf'
		    ELSE s.v::text END, E'\n'
		ORDER BY s.o) || E'\n'
	    FROM unnest(samples, vals) WITH ORDINALITY AS s(l, v, o)), '')
$$;

-- 017's metrics (metrics_core since 018, which adds the webhook outbox
-- after them), and: the worker heartbeat age is +Inf when no worker ever
-- ran; spiderpig_stream_connections{stream} for each stream daemon heard
-- from in the last minute. The label is not "instance", which Prometheus
-- gives every scraped series (the app's address) and would rename.
CREATE OR REPLACE FUNCTION metrics_core(actor text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	out	text := '';
	a	deployments;
BEGIN
	IF actor IS NOT NULL THEN
		PERFORM require_admin(actor);
	END IF;
	SELECT * INTO a FROM deployments WHERE state_is_active(state) LIMIT 1;

	out := out || metrics_family('queue_length', 'gauge',
	    'Deployments waiting in the queue.', ARRAY[''],
	    ARRAY[(SELECT count(*) FROM deployments WHERE state = 'queued')::float8]);
	out := out || metrics_family('active_deployment_age_seconds', 'gauge',
	    'Seconds since the active deployment started (0 when none).',
	    ARRAY[''], ARRAY[coalesce(extract(epoch FROM now() -
		coalesce(a.started_at, a.updated_at)), 0)::float8]);
	out := out || metrics_family('active_state_age_seconds', 'gauge',
	    'Seconds the active deployment has been in its current state, by state.',
	    CASE WHEN a.id IS NULL THEN ARRAY[]::text[]
		ELSE ARRAY['state="' || a.state || '"'] END,
	    CASE WHEN a.id IS NULL THEN ARRAY[]::float8[]
		ELSE ARRAY[extract(epoch FROM now() -
		    coalesce(a.stage_started_at, a.updated_at))::float8] END);
	out := out || metrics_family('prompts_waiting', 'gauge',
	    'Open prompts waiting for an answer.', ARRAY[''],
	    ARRAY[(SELECT count(*) FROM prompts WHERE answered_at IS NULL)::float8]);

	out := out || (SELECT metrics_family('stage_runs_total', 'counter',
	    'Stage runs finished, by stage and outcome.',
	    coalesce(array_agg(format('stage="%s",outcome="%s"', s.stage, s.outcome)
		ORDER BY s.stage, s.outcome), '{}'),
	    coalesce(array_agg(s.n::float8 ORDER BY s.stage, s.outcome), '{}'))
	    FROM (SELECT e.details->>'stage' AS stage,
		    CASE WHEN (e.details->>'ok')::boolean THEN 'ok' ELSE 'failed' END
		    AS outcome, count(*) AS n, sum((e.details->>'seconds')::numeric) AS secs
		FROM events e WHERE e.action = 'stage_finished'
		    AND e.details->>'stage' ~ '^[a-z_]{1,40}$'
		GROUP BY 1, 2) s);
	out := out || (SELECT metrics_family('stage_seconds_total', 'counter',
	    'Seconds spent in finished stage runs, by stage and outcome.',
	    coalesce(array_agg(format('stage="%s",outcome="%s"', s.stage, s.outcome)
		ORDER BY s.stage, s.outcome), '{}'),
	    coalesce(array_agg(s.secs::float8 ORDER BY s.stage, s.outcome), '{}'))
	    FROM (SELECT e.details->>'stage' AS stage,
		    CASE WHEN (e.details->>'ok')::boolean THEN 'ok' ELSE 'failed' END
		    AS outcome, coalesce(sum((e.details->>'seconds')::numeric), 0) AS secs
		FROM events e WHERE e.action = 'stage_finished'
		    AND e.details->>'stage' ~ '^[a-z_]{1,40}$'
		GROUP BY 1, 2) s);
	out := out || (SELECT metrics_family('deployments_finished_total', 'counter',
	    'Deployments that ended, by end state (rolled_back and rollback_failed are rollbacks).',
	    array_agg(format('state="%s"', s.state) ORDER BY s.state),
	    array_agg(coalesce(c.n, 0)::float8 ORDER BY s.state))
	    FROM unnest(ARRAY['done', 'rolled_back', 'rollback_failed',
		'cancelled', 'expired', 'abandoned']) AS s(state)
	    LEFT JOIN (SELECT d.state, count(*) AS n FROM deployments d
		WHERE d.finished_at IS NOT NULL GROUP BY 1) c USING (state));
	out := out || metrics_family('worker_heartbeat_age_seconds', 'gauge',
	    'Seconds since the freshest worker heartbeat (+Inf when no worker ever ran).',
	    ARRAY[''], ARRAY[coalesce((SELECT extract(epoch FROM now() - max(seen_at))
		FROM workers)::float8, 'Infinity'::float8)]);
	out := out || (SELECT metrics_family('stream_connections', 'gauge',
	    'Open WebSocket connections, by stream daemon (host:socket).',
	    coalesce(array_agg(format('stream="%s"', i.instance)
		ORDER BY i.instance), '{}'),
	    coalesce(array_agg(i.connections::float8 ORDER BY i.instance), '{}'))
	    FROM stream_instances i
	    WHERE i.updated_at >= now() - interval '60 seconds');
	RETURN out;
END
$$;

REVOKE ALL ON FUNCTION stream_notify_token(), auth_gate_token(bytea),
    stream_report(text, text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_gate_token(bytea) TO spiderpig_web;
GRANT EXECUTE ON FUNCTION stream_report(text, text, integer, integer)
    TO spiderpig_stream;
GRANT SELECT ON stream_instances TO spiderpig_admin;
