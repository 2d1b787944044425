-- 014_faults.sql: readiness covers the worker side too. Without a worker
-- the API answers, but nothing moves: /api/v1/readyz says so while no
-- worker has renewed its heartbeat (workers.seen_at, refreshed by
-- worker_seen and heartbeat) within settings.worker_stale_after. NULL
-- turns the check off (an API-only host, or tests without a worker).
-- Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

ALTER TABLE settings
	ADD COLUMN worker_stale_after interval DEFAULT '30 seconds'
	    CHECK (worker_stale_after > '0');

-- NULL when a worker heartbeat is fresh (or the check is off); else why
-- the deployment side is not ready, in words for readyz's detail.
CREATE FUNCTION worker_readiness() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT CASE
	    WHEN s.worker_stale_after IS NULL THEN NULL
	    WHEN w.seen IS NULL THEN 'no worker has sent a heartbeat yet'
	    WHEN now() - w.seen > s.worker_stale_after THEN format(
		'no worker heartbeat for %s s (settings.worker_stale_after is %s s)',
		round(extract(epoch FROM now() - w.seen)),
		extract(epoch FROM s.worker_stale_after)::float8)
	END
	FROM settings s, (SELECT max(seen_at) AS seen FROM workers) w
$$;

REVOKE ALL ON FUNCTION worker_readiness() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION worker_readiness() TO spiderpig_web, spiderpig_admin;
-- psql: UPDATE spiderpig.settings SET worker_stale_after = '1 minute'.
GRANT UPDATE (worker_stale_after) ON settings TO spiderpig_admin;
