-- 017_metrics.sql: what GET /metrics reports from the database, as
-- Prometheus text exposition lines (the app adds its own request counters
-- after them). Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- One metric family: its HELP and TYPE lines and its samples, each sample
-- (labels, value); labels is the text inside the braces, or ''.
CREATE FUNCTION metrics_family(name text, kind text, help text,
    samples text[], vals double precision[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = spiderpig, pg_temp AS $$
	SELECT '# HELP spiderpig_' || name || ' ' || help || E'\n' ||
	    '# TYPE spiderpig_' || name || ' ' || kind || E'\n' ||
	    coalesce((SELECT string_agg('spiderpig_' || name ||
		CASE WHEN s.l = '' THEN '' ELSE '{' || s.l || '}' END || ' ' ||
		CASE WHEN s.v IS NULL THEN 'NaN' ELSE s.v::text END, E'\n'
		ORDER BY s.o) || E'\n'
	    FROM unnest(samples, vals) WITH ORDINALITY AS s(l, v, o)), '')
$$;

-- The database's metrics for an admin (SP403 otherwise): queue length, the
-- active deployment's age and the age of its stage, prompts waiting,
-- stage runs by stage and outcome with their total seconds (canary
-- verdicts are the canary_check stage's outcomes), finished deployments
-- by end state (rollbacks among them), the freshest worker heartbeat's
-- age. Stage runs are counted from the stage_finished events. actor NULL
-- is the app's scraper, whose [fcgi] metrics_token the app checked: only
-- the web role (the app) and admins may call this, and it tells counts,
-- never names.
CREATE FUNCTION metrics(actor text) RETURNS text
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
	    'Seconds since the freshest worker heartbeat (NaN when no worker ever ran).',
	    ARRAY[''], ARRAY[(SELECT extract(epoch FROM now() - max(seen_at))
		FROM workers)::float8]);
	RETURN out;
END
$$;

REVOKE ALL ON FUNCTION metrics_family(text, text, text, text[],
    double precision[]), metrics(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION metrics(text) TO spiderpig_web, spiderpig_admin;
