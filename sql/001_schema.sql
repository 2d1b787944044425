-- 001_schema.sql: roles, tables and the constraints that keep the queue sane
-- even when an admin edits it by hand in psql. Never edit once released.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spiderpig_owner') THEN
		CREATE ROLE spiderpig_owner NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spiderpig_web') THEN
		CREATE ROLE spiderpig_web LOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spiderpig_worker') THEN
		CREATE ROLE spiderpig_worker LOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spiderpig_admin') THEN
		CREATE ROLE spiderpig_admin NOLOGIN;
	END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS spiderpig;
ALTER SCHEMA spiderpig OWNER TO spiderpig_owner;
GRANT USAGE ON SCHEMA spiderpig TO spiderpig_web, spiderpig_worker, spiderpig_admin;
GRANT SELECT, INSERT ON spiderpig.schema_migrations TO spiderpig_owner;

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- A patch is a Gerrit change number or an https change URL ending in one.
CREATE FUNCTION valid_patch(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT length(p) <= 300 AND (
	    p ~ '^[1-9][0-9]{0,8}$' OR
	    (p ~ '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._+-]+)*/[1-9][0-9]{0,8}/?$'
	     AND p !~ '/\.\.?/'))
$$;

-- The change number of a valid patch.
CREATE FUNCTION patch_change(p text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT (regexp_match(p, '([0-9]+)/?$'))[1]::bigint
$$;

CREATE FUNCTION patches_valid(ps text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT cardinality(ps) BETWEEN 1 AND 20
	    AND array_position(ps, NULL) IS NULL
	    AND (SELECT bool_and(spiderpig.valid_patch(x)) FROM unnest(ps) x)
	    AND (SELECT count(DISTINCT spiderpig.patch_change(x)) FROM unnest(ps) x) = cardinality(ps)
$$;

CREATE TABLE users (
	name		text PRIMARY KEY
			CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$'),
	role		text NOT NULL DEFAULT 'deployer'
			CHECK (role IN ('deployer', 'admin')),
	banned		boolean NOT NULL DEFAULT false,
	banned_reason	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- The bootstrap admin that psql sessions act as (see README).
INSERT INTO users (name, role) VALUES ('root', 'admin');

CREATE TABLE sessions (
	id		bigserial PRIMARY KEY,
	token_hash	bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	username	text NOT NULL REFERENCES users (name),
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	idle_timeout	interval NOT NULL DEFAULT '30 minutes',
	revoked_at	timestamptz,
	revoked_by	text
);
CREATE INDEX sessions_user ON sessions (username) WHERE revoked_at IS NULL;

CREATE TABLE api_tokens (
	id		bigserial PRIMARY KEY,
	username	text NOT NULL REFERENCES users (name),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	token_hash	bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	last_used_at	timestamptz,
	revoked_at	timestamptz,
	revoked_by	text
);
CREATE INDEX api_tokens_user ON api_tokens (username);

CREATE TABLE freezes (
	id		bigserial PRIMARY KEY,
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
	frozen_by	text NOT NULL,
	since		timestamptz NOT NULL DEFAULT now(),
	until		timestamptz CHECK (until IS NULL OR until > since),
	lifted_at	timestamptz,
	lifted_by	text
);
-- At most one freeze not yet lifted.
CREATE UNIQUE INDEX freezes_one_open ON freezes ((true)) WHERE lifted_at IS NULL;

CREATE TABLE settings (
	id		boolean PRIMARY KEY DEFAULT true CHECK (id),
	ready_timeout	interval NOT NULL DEFAULT '10 minutes'
			CHECK (ready_timeout > '0'),
	continue_timeout interval NOT NULL DEFAULT '10 minutes'
			CHECK (continue_timeout > '0'),
	finish_timeout	interval NOT NULL DEFAULT '10 minutes'
			CHECK (finish_timeout > '0'),
	ack_timeout	interval NOT NULL DEFAULT '1 hour'
			CHECK (ack_timeout > '0')
);
INSERT INTO settings DEFAULT VALUES;

CREATE TABLE deployments (
	id		bigserial PRIMARY KEY,
	requester	text NOT NULL REFERENCES users (name),
	patches		text[] NOT NULL CHECK (patches_valid(patches)),
	state		text NOT NULL DEFAULT 'queued' CHECK (state IN (
			    'queued', 'awaiting_ready', 'merging',
			    'syncing_test', 'smoke_testing',
			    'awaiting_continue', 'syncing_canary',
			    'checking_canary', 'syncing_production',
			    'awaiting_finish', 'rolling_back', 'awaiting_ack',
			    'done', 'rolled_back', 'rollback_failed',
			    'cancelled', 'expired')),
	position	integer CHECK (position > 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	started_at	timestamptz,
	finished_at	timestamptz,
	worker_id	text,
	lease_expires_at timestamptz,
	stage_started_at timestamptz,
	touched_stages	text[] NOT NULL DEFAULT '{}',
	rollback_reason	text,
	rollback_ok	boolean,
	-- Only queued rows have a place in the queue.
	CHECK ((state = 'queued') = (position IS NOT NULL)),
	-- Only rows a worker runs may be held by one.
	CHECK (worker_id IS NULL OR state IN ('merging', 'syncing_test',
	    'smoke_testing', 'syncing_canary', 'checking_canary',
	    'syncing_production', 'rolling_back')),
	CHECK ((worker_id IS NULL) = (lease_expires_at IS NULL)),
	CHECK (touched_stages <@ ARRAY['sync_test', 'sync_canary',
	    'sync_production']),
	-- Terminal rows say when they ended.
	CHECK ((state IN ('done', 'rolled_back', 'rollback_failed',
	    'cancelled', 'expired')) = (finished_at IS NOT NULL)),
	-- Positions are unique among queued rows; deferred so a reorder can
	-- shift several rows in one statement.
	EXCLUDE USING btree (position WITH =) WHERE (state = 'queued')
	    DEFERRABLE INITIALLY DEFERRED
);
-- At most one deployment holds the queue.
CREATE UNIQUE INDEX deployments_one_active ON deployments ((true))
	WHERE state IN ('awaiting_ready', 'merging', 'syncing_test',
	    'smoke_testing', 'awaiting_continue', 'syncing_canary',
	    'checking_canary', 'syncing_production', 'awaiting_finish',
	    'rolling_back', 'awaiting_ack');
CREATE INDEX deployments_state ON deployments (state, id);
CREATE INDEX deployments_requester ON deployments (requester, id);

-- Queue positions are exactly 1..n, checked at commit.
CREATE FUNCTION check_queue_dense() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	n	bigint;
	top	integer;
BEGIN
	SELECT count(*), coalesce(max(position), 0) INTO n, top
	    FROM spiderpig.deployments WHERE state = 'queued';
	IF n <> top THEN
		RAISE EXCEPTION 'queue positions must run 1..% without gaps (highest is %)', n, top
		    USING ERRCODE = 'SP409', COLUMN = 'position';
	END IF;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER deployments_queue_dense
	AFTER INSERT OR DELETE OR UPDATE OF position, state ON deployments
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	EXECUTE FUNCTION check_queue_dense();

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END
$$;
CREATE TRIGGER deployments_updated BEFORE UPDATE ON deployments
	FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE prompts (
	id		bigserial PRIMARY KEY,
	deployment_id	bigint NOT NULL REFERENCES deployments (id),
	kind		text NOT NULL
			CHECK (kind IN ('ready', 'continue', 'finish', 'ack')),
	question	text NOT NULL,
	choices		text[] NOT NULL CHECK (cardinality(choices) >= 1),
	default_answer	text NOT NULL,
	asked_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	answered_at	timestamptz,
	answered_by	text,
	answer		text,
	timed_out	boolean NOT NULL DEFAULT false,
	-- Closed without an answer (rollback requested, cancelled).
	withdrawn	boolean NOT NULL DEFAULT false,
	CHECK (default_answer = ANY (choices)),
	CHECK (answer IS NULL OR answer = ANY (choices)),
	CHECK (answered_at IS NOT NULL OR (answer IS NULL AND NOT withdrawn
	    AND NOT timed_out)),
	CHECK (answered_at IS NULL OR answer IS NOT NULL OR withdrawn)
);
-- At most one open prompt per deployment.
CREATE UNIQUE INDEX prompts_one_open ON prompts (deployment_id)
	WHERE answered_at IS NULL;
CREATE INDEX prompts_open_expiry ON prompts (expires_at)
	WHERE answered_at IS NULL;

CREATE TABLE log_lines (
	deployment_id	bigint NOT NULL REFERENCES deployments (id),
	seq		bigint NOT NULL CHECK (seq > 0),
	at		timestamptz NOT NULL DEFAULT now(),
	stream		text NOT NULL
			CHECK (stream IN ('stdout', 'stderr', 'system')),
	sensitive	boolean NOT NULL DEFAULT false,
	line		text NOT NULL,
	PRIMARY KEY (deployment_id, seq)
);

CREATE TABLE events (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	deployment_id	bigint REFERENCES deployments (id),
	action		text NOT NULL,
	details		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_deployment ON events (deployment_id, id);

-- The audit trail is append-only, for its owner too.
CREATE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'spiderpig.events is append-only'
	    USING ERRCODE = 'SP409';
END
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

CREATE TABLE workers (
	id		text PRIMARY KEY,
	started_at	timestamptz NOT NULL DEFAULT now(),
	seen_at		timestamptz NOT NULL DEFAULT now()
);
