-- 003_totp.sql: the TOTP second factor. The secret arrives sealed
-- (AES-256-GCM, lib/totp.c) under a key that lives in the config file and
-- never in the database; this file keeps the blob, the replay guard (the
-- newest time step accepted) and the failure throttle.
--
-- A login handler runs, in ONE transaction:
--   totp_locked_until(u)  -- refuse while locked
--   totp_get(u)           -- locks the user's row: attempts of one user run
--                         -- one after the other, so parallel guesses cannot
--                         -- outrun the throttle
--   (verify the code in C against last_step)
--   totp_accept(u, step)  on a match, false = replayed by a concurrent login
--   totp_fail(u)          on anything else
-- Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

CREATE TABLE totp (
	username	text PRIMARY KEY REFERENCES users (name),
	-- version || nonce(12) || ciphertext(20..64) || tag(16), see totp.h
	secret_sealed	bytea NOT NULL
			CHECK (length(secret_sealed) BETWEEN 49 AND 93),
	confirmed_at	timestamptz,
	-- Time step (unix time / 30) of the newest accepted code; 0 = none.
	last_step	bigint NOT NULL DEFAULT 0 CHECK (last_step >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	-- Confirming takes a valid code, which moves last_step.
	CHECK (confirmed_at IS NULL OR last_step > 0)
);

-- One row per refused code; rows older than a day are pruned by totp_fail
-- (the events table keeps the history).
CREATE TABLE totp_failures (
	id		bigserial PRIMARY KEY,
	username	text NOT NULL REFERENCES users (name),
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX totp_failures_user ON totp_failures (username, at);

-- The throttle: 5 failures within 10 minutes lock for 15 minutes from the 5th.
CREATE TABLE totp_settings (
	id		boolean PRIMARY KEY DEFAULT true CHECK (id),
	max_failures	integer NOT NULL DEFAULT 5 CHECK (max_failures > 0),
	failure_window	interval NOT NULL DEFAULT '10 minutes'
			CHECK (failure_window > '0'),
	lockout		interval NOT NULL DEFAULT '15 minutes'
			CHECK (lockout > '0')
);
INSERT INTO totp_settings DEFAULT VALUES;

-- Internal helpers ---------------------------------------------------------

-- The TOTP time step of the database clock.
CREATE FUNCTION totp_now_step() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT floor(extract(epoch FROM now()) / 30)::bigint
$$;

-- A step the app may store: near the database clock. Two steps of slack on
-- top of the verification window allow for skew between app and database;
-- the check stops a bug from storing a far-future step, which would refuse
-- every later code as a replay.
CREATE FUNCTION totp_check_step(step bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF step IS NULL OR step NOT BETWEEN totp_now_step() - 3
	    AND totp_now_step() + 3 THEN
		PERFORM raise_error('SP400', 'step', format(
		    'time step %s is not within 3 steps of now (%s)',
		    step, totp_now_step()));
	END IF;
END
$$;

-- End of the lock that the failures of who put in force, or NULL.
CREATE FUNCTION totp_lock_end(who text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT max(f.at + s.lockout)
	FROM (SELECT at, count(*) OVER (ORDER BY at RANGE BETWEEN
	          (SELECT failure_window FROM totp_settings) PRECEDING
	          AND CURRENT ROW) AS n
	      FROM totp_failures WHERE username = who) f,
	     totp_settings s
	WHERE f.n >= s.max_failures AND f.at + s.lockout > now()
$$;

CREATE FUNCTION totp_refuse_if_locked(who text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
	until timestamptz;
BEGIN
	until := totp_lock_end(who);
	IF until IS NOT NULL THEN
		PERFORM raise_error('SP429', NULL, format(
		    'too many wrong codes: locked until %s', until));
	END IF;
END
$$;

-- Users (through the web app's login and enrolment pages) -----------------

-- Store a new, unconfirmed secret for actor, replacing an unconfirmed one.
-- SP409 when actor already has a confirmed second factor: an admin resets it.
CREATE FUNCTION totp_begin_enrolment(actor text, sealed bytea) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	who text;
BEGIN
	PERFORM require_user(actor);
	IF sealed IS NULL OR length(sealed) NOT BETWEEN 49 AND 93 THEN
		PERFORM raise_error('SP400', 'sealed',
		    'a sealed secret is 49 to 93 bytes');
	END IF;
	INSERT INTO totp (username, secret_sealed) VALUES (actor, sealed)
	    ON CONFLICT (username) DO UPDATE
	    SET secret_sealed = EXCLUDED.secret_sealed, last_step = 0,
	        created_at = now()
	    WHERE totp.confirmed_at IS NULL
	    RETURNING username INTO who;
	IF who IS NULL THEN
		PERFORM raise_error('SP409', NULL, format(
		    '%s already has a confirmed second factor; an admin can reset it',
		    actor));
	END IF;
	PERFORM log_event(actor, NULL, 'totp_enrolment_started',
	    jsonb_build_object('user', actor));
END
$$;

-- The sealed secret, the last accepted step and whether it is confirmed; no
-- row when actor has not enrolled. Locks the row until the end of the
-- caller's transaction (see the top of this file).
CREATE FUNCTION totp_get(actor text)
RETURNS TABLE (secret_sealed bytea, last_step bigint, confirmed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_user(actor);
	RETURN QUERY SELECT t.secret_sealed, t.last_step,
	    t.confirmed_at IS NOT NULL
	    FROM totp t WHERE t.username = actor FOR UPDATE;
END
$$;

-- Record that a valid code for step was used. Returns false when step is
-- not newer than the last accepted one: the conditional UPDATE makes a
-- second login with the same code lose even when both run at once. SP429
-- while locked, SP409 before confirmation, SP404 without an enrolment.
CREATE FUNCTION totp_accept(actor text, step bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t totp;
BEGIN
	PERFORM require_user(actor);
	PERFORM totp_check_step(step);
	SELECT * INTO t FROM totp WHERE username = actor FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL, format(
		    '%s has no second factor', actor));
	END IF;
	IF t.confirmed_at IS NULL THEN
		PERFORM raise_error('SP409', NULL, format(
		    'the second factor of %s is not confirmed yet', actor));
	END IF;
	PERFORM totp_refuse_if_locked(actor);
	UPDATE totp SET last_step = step
	    WHERE username = actor AND last_step < step;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	DELETE FROM totp_failures WHERE username = actor;
	PERFORM log_event(actor, NULL, 'totp_accepted',
	    jsonb_build_object('user', actor, 'step', step));
	RETURN true;
END
$$;

-- The first valid code of an enrolment confirms it. SP404 without an
-- enrolment, SP409 when already confirmed or the step was used, SP429
-- while locked.
CREATE FUNCTION totp_confirm(actor text, step bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t totp;
BEGIN
	PERFORM require_user(actor);
	PERFORM totp_check_step(step);
	SELECT * INTO t FROM totp WHERE username = actor FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL, format(
		    '%s has not started an enrolment', actor));
	END IF;
	IF t.confirmed_at IS NOT NULL THEN
		PERFORM raise_error('SP409', NULL, format(
		    'the second factor of %s is already confirmed', actor));
	END IF;
	PERFORM totp_refuse_if_locked(actor);
	UPDATE totp SET confirmed_at = now(), last_step = step
	    WHERE username = actor AND last_step < step;
	IF NOT FOUND THEN
		PERFORM raise_error('SP409', 'step', 'this code was already used');
	END IF;
	DELETE FROM totp_failures WHERE username = actor;
	PERFORM log_event(actor, NULL, 'totp_confirmed',
	    jsonb_build_object('user', actor, 'step', step));
END
$$;

-- Record a refused code; returns the failures within the window, this one
-- included. Writes a totp_locked event when this failure starts a lock.
CREATE FUNCTION totp_fail(actor text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	s	totp_settings;
	n	integer;
	was	timestamptz;
	until	timestamptz;
BEGIN
	PERFORM require_user(actor);
	SELECT * INTO s FROM totp_settings;
	-- Serialise one user's failures so the count is exact.
	PERFORM pg_advisory_xact_lock(7366102, hashtext(actor));
	was := totp_lock_end(actor);
	DELETE FROM totp_failures
	    WHERE username = actor AND at < now() - interval '1 day';
	INSERT INTO totp_failures (username) VALUES (actor);
	SELECT count(*) INTO n FROM totp_failures
	    WHERE username = actor AND at > now() - s.failure_window;
	PERFORM log_event(actor, NULL, 'totp_failed',
	    jsonb_build_object('user', actor, 'recent', n));
	until := totp_lock_end(actor);
	IF until IS NOT NULL AND until IS DISTINCT FROM was THEN
		PERFORM log_event(actor, NULL, 'totp_locked',
		    jsonb_build_object('user', actor, 'until', until));
	END IF;
	RETURN n;
END
$$;

-- When actor's lock ends, or NULL when not locked.
CREATE FUNCTION totp_locked_until(actor text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_user(actor);
	RETURN totp_lock_end(actor);
END
$$;

-- Admins --------------------------------------------------------------------

-- Delete name's second factor (lost phone) so they enrol again at their
-- next login; their failures and any lock go with it.
CREATE FUNCTION totp_reset(actor text, name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t totp;
BEGIN
	PERFORM require_admin(actor);
	DELETE FROM totp WHERE username = totp_reset.name RETURNING * INTO t;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', 'name', format(
		    '%L has no second factor', name));
	END IF;
	DELETE FROM totp_failures WHERE username = totp_reset.name;
	PERFORM log_event(actor, NULL, 'totp_reset', jsonb_build_object(
	    'user', name, 'was_confirmed', t.confirmed_at IS NOT NULL));
END
$$;

-- Privileges: the secret and the counters only through the functions above.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
GRANT SELECT (username, confirmed_at, last_step, created_at) ON totp
    TO spiderpig_admin;
GRANT SELECT ON totp_failures, totp_settings TO spiderpig_admin;
GRANT EXECUTE ON FUNCTION totp_begin_enrolment(text, bytea), totp_get(text),
    totp_accept(text, bigint), totp_confirm(text, bigint), totp_fail(text),
    totp_locked_until(text), totp_reset(text, text)
    TO spiderpig_web, spiderpig_admin;
