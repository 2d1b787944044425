-- 013_scale.sql: what the app needs to check identity itself and keep
-- verified credentials in memory, the indexes a year of history needs, and
-- a retention setting with a batched pruning function. Never edit once
-- released.
--
-- * The app caches a verified token or session per process. Any change to
--   the rows auth_token()/auth_session() read is announced on the channel
--   'spiderpig_auth_cache' (payload: the user name, or '' when it concerns
--   everyone) by triggers on the tables themselves, so a ban, logout, "log
--   out everyone", token revocation, role change or a psql edit all reach
--   every app process at COMMIT. The triggers ignore the bookkeeping
--   columns the gate writes itself (last_seen_at, last_used_at).
-- * auth_token_ttl / auth_session_ttl answer like auth_token /
--   auth_session plus how many seconds the answer stays true if nothing
--   changes (expiry, idle timeout, the provider's token idle limit).

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- Identity checks with a lifetime ---------------------------------------

CREATE FUNCTION auth_token_ttl(token_hash bytea)
RETURNS TABLE (username text, role text, valid_for double precision)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT a.username, a.role,
	    extract(epoch FROM least(k.expires_at,
	        CASE WHEN EXISTS (SELECT 1 FROM identities i
	            WHERE i.username = u.name)
	        THEN u.idp_login_at + make_interval(days =>
	            (SELECT s.token_idle_days FROM settings s)) END)
	        - now())::double precision
	    FROM auth_token(auth_token_ttl.token_hash) a
	    JOIN api_tokens k ON k.token_hash = auth_token_ttl.token_hash
	    JOIN users u ON u.name = k.username;
END
$$;

-- The session's idle limit counts from the last_seen_at read before
-- auth_session moved it: never longer than the truth.
CREATE FUNCTION auth_session_ttl(token_hash bytea)
RETURNS TABLE (username text, role text, valid_for double precision)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	s	sessions;
BEGIN
	SELECT k.* INTO s FROM sessions k
	    WHERE k.token_hash = auth_session_ttl.token_hash;
	RETURN QUERY SELECT a.username, a.role,
	    extract(epoch FROM least(s.expires_at,
	        s.last_seen_at + s.idle_timeout) - now())
	        ::double precision
	    FROM auth_session(auth_session_ttl.token_hash) a;
END
$$;

-- Cache invalidation ------------------------------------------------------

CREATE FUNCTION auth_cache_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_LEVEL = 'ROW' AND TG_TABLE_NAME IN ('sessions', 'api_tokens') THEN
		PERFORM pg_notify('spiderpig_auth_cache', OLD.username);
	ELSE
		PERFORM pg_notify('spiderpig_auth_cache', '');
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER sessions_auth_cache AFTER UPDATE ON sessions
	FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
	    OR OLD.aal IS DISTINCT FROM NEW.aal
	    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
	    OR OLD.idle_timeout IS DISTINCT FROM NEW.idle_timeout
	    OR OLD.username IS DISTINCT FROM NEW.username
	    OR OLD.token_hash IS DISTINCT FROM NEW.token_hash)
	EXECUTE FUNCTION auth_cache_notify();
CREATE TRIGGER sessions_auth_cache_delete AFTER DELETE OR TRUNCATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify();

CREATE TRIGGER api_tokens_auth_cache AFTER UPDATE ON api_tokens
	FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
	    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
	    OR OLD.role IS DISTINCT FROM NEW.role
	    OR OLD.username IS DISTINCT FROM NEW.username
	    OR OLD.token_hash IS DISTINCT FROM NEW.token_hash)
	EXECUTE FUNCTION auth_cache_notify();
CREATE TRIGGER api_tokens_auth_cache_delete AFTER DELETE OR TRUNCATE
	ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify();

-- users: role, ban, the provider's last sign-in and role; identities and
-- settings (token_idle_days) decide what a token may do.
CREATE TRIGGER users_auth_cache AFTER UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify();
CREATE TRIGGER identities_auth_cache AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON identities
	FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify();
CREATE TRIGGER settings_auth_cache AFTER UPDATE ON settings
	FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify();

REVOKE ALL ON FUNCTION auth_token_ttl(bytea), auth_session_ttl(bytea),
    auth_cache_notify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_token_ttl(bytea), auth_session_ttl(bytea)
    TO spiderpig_web;

-- Reads on the hot path ------------------------------------------------------

-- A LANGUAGE sql function that cannot be inlined (SECURITY DEFINER, SET, a
-- FROM clause) is parsed and planned again at every call; the same body in
-- plpgsql keeps its plan for the session. The queue read went from about
-- 1.4k to 8.7k calls a second on the project machine. Their statements are
-- small index lookups, so they use one generic plan: with a year of
-- history, planning them again at each call cost 0.7 ms against 0.09.
-- Same answers as sql/006, which these replace.

CREATE OR REPLACE FUNCTION active_json() RETURNS json
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (SELECT deployment_json(d) FROM queue q
	    JOIN deployments d ON d.id = q.id
	    WHERE q.position IS NULL LIMIT 1);
END
$$;

CREATE OR REPLACE FUNCTION queue_page(after_position integer DEFAULT 0,
    max_rows integer DEFAULT 500) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (WITH page AS (SELECT q.position, deployment_json(d) AS j
	    FROM queue q JOIN deployments d ON d.id = q.id
	    WHERE q.position > greatest(after_position, 0)
	    ORDER BY q.position LIMIT least(greatest(max_rows, 1), 500)),
	last AS (SELECT max(p.position) AS position FROM page p)
	SELECT json_build_object('active', active_json(),
	    'queued', coalesce((SELECT json_agg(p.j ORDER BY p.position)
		FROM page p), '[]'),
	    'next_after', (SELECT l.position FROM last l WHERE EXISTS (
		SELECT 1 FROM queue q WHERE q.position > l.position))));
END
$$;

CREATE OR REPLACE FUNCTION status() RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN json_build_object(
	    'frozen', freeze_json() IS NOT NULL,
	    'freeze', freeze_json(),
	    'active', active_json(),
	    'queue_length', (SELECT count(*) FROM queue q
		WHERE q.position IS NOT NULL),
	    'worker_heartbeat_age', (SELECT round(extract(epoch FROM
		now() - max(w.seen_at))::numeric, 3) FROM workers w),
	    'now', now());
END
$$;

-- What the dashboard and the admin page read (overview_jsonb, then per
-- deployment of the user's last 20 whether it can still be cancelled):
-- each of these ran its own planning at every call, 20 times per page.
-- Same answers as sql/006. (prompt_json stays 010's.)
CREATE OR REPLACE FUNCTION state_before_pipeline(s text) RETURNS boolean
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (SELECT v.ord < (SELECT min(p.ord) FROM vocabulary() p
	    WHERE p.kind = 'state' AND p.pipeline)
	    FROM vocabulary() v WHERE v.kind = 'state' AND v.name = s);
END
$$;

CREATE OR REPLACE FUNCTION queue_short_json(max_rows integer) RETURNS json
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (SELECT coalesce(json_agg(json_build_object('id', x.id,
	    'state', x.state, 'state_label', state_label(x.state),
	    'position', x.position, 'requester', x.requester,
	    'patches', x.patches) ORDER BY x.position NULLS FIRST, x.id), '[]')
	    FROM (SELECT * FROM queue q ORDER BY q.position NULLS FIRST, q.id
		LIMIT max_rows) x);
END
$$;

CREATE OR REPLACE FUNCTION overview_jsonb() RETURNS jsonb
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object('freeze', freeze_json(),
	    'queue', queue_short_json(200),
	    'queue_length', (SELECT count(*) FROM queue q));
END
$$;

-- A year of history ----------------------------------------------------------

-- The queue view reads the deployments that are not finished: a handful,
-- among every deployment ever made. Its own predicate and order as a
-- partial index, so the queue, the dashboard and the status stop reading
-- the history (35 ms against 0.1 ms with 10,000 finished deployments).
CREATE INDEX deployments_unfinished ON deployments (position NULLS FIRST, id)
	WHERE NOT state_is_terminal(state);
-- And the planner learns how few they are (it guesses a third otherwise).
CREATE STATISTICS deployments_terminal ON (state_is_terminal(state))
	FROM deployments;

-- The app keeps the queue document between requests; every change to
-- deployments (the only table it reads) is announced on
-- 'spiderpig_read_cache' at COMMIT.
CREATE FUNCTION read_cache_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('spiderpig_read_cache', TG_TABLE_NAME);
	RETURN NULL;
END
$$;
CREATE TRIGGER deployments_read_cache AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON deployments
	FOR EACH STATEMENT EXECUTE FUNCTION read_cache_notify();
REVOKE ALL ON FUNCTION read_cache_notify() FROM PUBLIC;

-- Ingest --------------------------------------------------------------------

-- The foreign key from log_lines to deployments checked every line with an
-- index probe of its own: two thirds of the time of a COPY of a million
-- lines (15 s against 5 s on the project machine). The same rule is now
-- checked once per statement over the distinct deployments of the new
-- rows. Deleting a deployment that still has lines is refused by its own
-- trigger (deployments are never deleted anyway: their events reference
-- them).
ALTER TABLE log_lines DROP CONSTRAINT log_lines_deployment_id_fkey;

CREATE FUNCTION log_lines_check_deployment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM (SELECT DISTINCT n.deployment_id
	    FROM new_lines n) x WHERE NOT EXISTS (SELECT 1 FROM deployments d
	    WHERE d.id = x.deployment_id)) THEN
		RAISE EXCEPTION 'log lines for a deployment that does not exist'
		    USING ERRCODE = '23503';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER log_lines_deployment_exists AFTER INSERT ON log_lines
	REFERENCING NEW TABLE AS new_lines
	FOR EACH STATEMENT EXECUTE FUNCTION log_lines_check_deployment();
CREATE TRIGGER log_lines_deployment_exists_update AFTER UPDATE ON log_lines
	REFERENCING NEW TABLE AS new_lines
	FOR EACH STATEMENT EXECUTE FUNCTION log_lines_check_deployment();

CREATE FUNCTION deployments_keep_lines() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM log_lines l WHERE l.deployment_id = OLD.id) THEN
		RAISE EXCEPTION 'deployment % still has log lines', OLD.id
		    USING ERRCODE = '23503';
	END IF;
	RETURN OLD;
END
$$;
CREATE TRIGGER deployments_keep_lines BEFORE DELETE ON deployments
	FOR EACH ROW EXECUTE FUNCTION deployments_keep_lines();
REVOKE ALL ON FUNCTION log_lines_check_deployment(), deployments_keep_lines()
    FROM PUBLIC;

-- History, newest first: in a function that is not inlined, "before IS
-- NULL OR d.id < before" is not an index condition, so a page deep in the
-- history walked every newer row first (4.5 ms at 10,000 deployments,
-- growing with them). The same condition as a bound the primary key can
-- start from. Same answers as sql/006.
CREATE OR REPLACE FUNCTION deployment_list(state text DEFAULT NULL,
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
	    AND d.id < coalesce(deployment_list.before, 9223372036854775807)
	    ORDER BY d.id DESC
	    LIMIT least(greatest(max_rows, 1), 200)) x
$$;

-- Retention -------------------------------------------------------------------

-- psql: UPDATE spiderpig.settings SET log_retention_days = 180. NULL (the
-- default) keeps every log line forever.
ALTER TABLE settings ADD COLUMN log_retention_days integer
	CHECK (log_retention_days BETWEEN 1 AND 36500);

-- Delete at most max_rows log lines of deployments that finished more than
-- settings.log_retention_days ago, oldest deployment first, and return how
-- many went (0: nothing left to prune, or no retention set). One short
-- transaction per call: run it again until it returns 0, or CALL
-- prune_log_lines_all. It deletes only rows of finished deployments, so a
-- running deployment's writer never waits on it. Admins only; an event
-- records each call that deleted anything.
CREATE FUNCTION prune_log_lines(actor text, max_rows integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	keep	interval;
	cutoff	timestamptz;
	dep	bigint := 0;
	d	deployments;
	n	bigint := 0;
	got	bigint;
BEGIN
	PERFORM require_admin(actor);
	IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 1000000 THEN
		PERFORM raise_error('SP400', 'max_rows', 'between 1 and 1000000');
	END IF;
	SELECT make_interval(days => s.log_retention_days) INTO keep
	    FROM settings s;
	IF keep IS NULL THEN
		RETURN 0;
	END IF;
	cutoff := now() - keep;
	-- Walk the deployments that have lines, in id order, by the primary
	-- key (one probe each); a deployment made after the cutoff ends the
	-- walk, since it cannot have finished before it.
	WHILE n < max_rows LOOP
		SELECT min(l.deployment_id) INTO dep FROM log_lines l
		    WHERE l.deployment_id > dep;
		EXIT WHEN dep IS NULL;
		SELECT * INTO d FROM deployments WHERE id = dep;
		EXIT WHEN d.created_at >= cutoff;
		CONTINUE WHEN d.finished_at IS NULL OR d.finished_at >= cutoff;
		DELETE FROM log_lines l WHERE l.deployment_id = dep
		    AND l.seq IN (SELECT k.seq FROM log_lines k
			WHERE k.deployment_id = dep ORDER BY k.seq
			LIMIT max_rows - n);
		GET DIAGNOSTICS got = ROW_COUNT;
		n := n + got;
	END LOOP;
	IF n > 0 THEN
		PERFORM log_event(actor, NULL, 'log_pruned', jsonb_build_object(
		    'lines', n, 'before', cutoff));
	END IF;
	RETURN n;
END
$$;

-- Prune in batches of batch_rows, committing after each, until nothing is
-- left: CALL spiderpig.prune_log_lines_all('root');
CREATE PROCEDURE prune_log_lines_all(actor text, batch_rows integer DEFAULT 10000)
LANGUAGE plpgsql AS $$
BEGIN
	WHILE spiderpig.prune_log_lines(actor, batch_rows) > 0 LOOP
		COMMIT;
	END LOOP;
END
$$;

REVOKE ALL ON FUNCTION prune_log_lines(text, integer) FROM PUBLIC;
REVOKE ALL ON PROCEDURE prune_log_lines_all(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_log_lines(text, integer) TO spiderpig_admin;
GRANT EXECUTE ON PROCEDURE prune_log_lines_all(text, integer) TO spiderpig_admin;
GRANT UPDATE (log_retention_days) ON settings TO spiderpig_admin;
