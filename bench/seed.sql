-- seed.sql: a year of history for the scale benchmark, made in SQL with
-- generate_series (bench/seed runs it; psql variables ndep, nlines, big).
--
-- :ndep finished deployments spread over the last 365 days by up to 50
-- users (at least 20 deployments each, so every dashboard is full),
-- 8 events each (enqueue, the ready answer, three stages started and
-- finished, the end), and :nlines log lines in all: :big of them in the
-- newest deployment's log, the rest spread evenly over the others. Every
-- 1000th line is sensitive. Rows go straight into the tables as the
-- superuser: the functions would take hours for this many.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET search_path = spiderpig, pg_temp;

SELECT greatest(1, least(50, :ndep / 20)) AS nusers \gset
BEGIN;
INSERT INTO users (name, role)
SELECT 'seed' || g, 'deployer' FROM generate_series(1, :nusers) g
ON CONFLICT (name) DO NOTHING;

CREATE TEMP TABLE seeded AS
WITH ins AS (
	INSERT INTO deployments (requester, patches, state, created_at,
	    updated_at, started_at, finished_at)
	SELECT 'seed' || (g % :nusers + 1), ARRAY[(100000 + g)::text],
	    CASE WHEN g % 10 = 0 THEN 'rolled_back'
		WHEN g % 7 = 0 THEN 'cancelled' ELSE 'done' END,
	    t, t + interval '20 minutes', t + interval '1 minute',
	    t + interval '20 minutes'
	FROM generate_series(1, :ndep) g,
	    LATERAL (SELECT now() - interval '365 days'
		+ (interval '365 days' / :ndep) * g AS t) x
	RETURNING id, created_at, requester
) SELECT * FROM ins;

INSERT INTO events (at, actor, deployment_id, action, details)
SELECT s.created_at + e.off, CASE WHEN e.n IN (1, 2) THEN s.requester
    ELSE 'worker' END, s.id, e.action, e.details
FROM seeded s, (VALUES
	(1, interval '0', 'enqueued', '{}'::jsonb),
	(2, interval '30 seconds', 'answered', '{"prompt":"ready","answer":"yes"}'),
	(3, interval '1 minute', 'stage_started', '{"stage":"merge"}'),
	(4, interval '2 minutes', 'stage_finished', '{"stage":"merge","ok":true}'),
	(5, interval '3 minutes', 'stage_started', '{"stage":"sync_test"}'),
	(6, interval '5 minutes', 'stage_finished', '{"stage":"sync_test","ok":true}'),
	(7, interval '6 minutes', 'stage_started', '{"stage":"smoke_test"}'),
	(8, interval '8 minutes', 'stage_finished', '{"stage":"smoke_test","ok":true}'))
    AS e(n, off, action, details)
ORDER BY s.id, e.n;
COMMIT;

-- The big log: the newest seeded deployment.
INSERT INTO log_lines (deployment_id, seq, at, stream, sensitive, line)
SELECT (SELECT max(id) FROM seeded), g,
    (SELECT created_at FROM seeded ORDER BY id DESC LIMIT 1)
	+ g * interval '1 millisecond',
    CASE WHEN g % 50 = 0 THEN 'stderr' ELSE 'stdout' END, g % 1000 = 0,
    'line ' || g || ' of a long build: compiling module ' || (g % 977)
FROM generate_series(1, :big) g;

-- The rest, evenly.
INSERT INTO log_lines (deployment_id, seq, at, stream, sensitive, line)
SELECT s.id, g, s.created_at + g * interval '10 milliseconds',
    CASE WHEN g % 50 = 0 THEN 'stderr' ELSE 'stdout' END, g % 1000 = 0,
    'line ' || g || ' of deployment ' || s.id || ': syncing files'
FROM (SELECT * FROM seeded ORDER BY id DESC OFFSET 1) s,
    generate_series(1, greatest((:nlines - :big) / greatest(:ndep - 1, 1), 0)) g
ORDER BY s.id, g;

ANALYZE deployments;
ANALYZE events;
ANALYZE log_lines;
SELECT max(id) AS big FROM seeded \gset
\echo seeded :ndep deployments, big log :big lines in deployment :big
