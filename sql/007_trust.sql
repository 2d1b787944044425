-- 007_trust.sql: trust boundaries of the web role (issue 7). The second
-- factor and the AAL2 session become one step, so the web role cannot open a
-- session the gate accepts without consuming a TOTP step of that session's
-- own user; and one user cannot flood the queue (max_queued_per_user).
-- Never edit once released.
--
-- The /totp handler now runs, in ONE transaction:
--   totp_locked_until(u)     refuse while locked
--   totp_get(u)              locks the user's TOTP row (see 003)
--   (verify the code in C against last_step)
--   totp_login(hash, step)   on a match: records the step (totp_accept, or
--                            totp_confirm for the first code of an
--                            enrolment) and replaces the AAL1 session by a
--                            new AAL2 one; NULL = the step was already used
--   totp_fail(u)             on anything else, NULL included
-- totp_accept, totp_confirm and session_upgrade are no longer callable by
-- the web role (nor by admins, who have create_session): on their own they
-- record a step without a session or open a session without a step.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- The second factor passed for the AAL1 session presenting token_hash, with
-- a code of time step step: in one transaction, record the step for the
-- session's user and replace the session by a new AAL2 one (session_upgrade:
-- new id, 12 h absolute, 30 min idle). Returns the new token, or NULL when
-- step is not newer than the last accepted one (a replay, or a concurrent
-- login with the same code won); the session is then left as it was.
-- The user is the session's, never a name the caller passes. SP401 without
-- a live AAL1 session (ended, expired, upgraded, banned user), SP404 without
-- an enrolment, SP409 when an enrolment's confirming step was used, SP429
-- while locked, SP400 for a step far from now.
CREATE FUNCTION totp_login(token_hash bytea, step bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	s		sessions;
	confirmed	boolean;
BEGIN
	-- Locks are taken in the order of the handler (TOTP row by totp_get,
	-- then the session in session_upgrade, which checks the session again
	-- under its lock and undoes the step by raising when it is gone).
	SELECT k.* INTO s FROM sessions k JOIN users u ON u.name = k.username
	    WHERE k.token_hash = totp_login.token_hash AND k.revoked_at IS NULL
	    AND k.expires_at > now() AND k.last_seen_at + k.idle_timeout > now()
	    AND k.aal = 1 AND NOT u.banned;
	IF NOT FOUND THEN
		PERFORM raise_error('SP401', NULL, 'no login in progress; sign in again');
	END IF;
	SELECT t.confirmed_at IS NOT NULL INTO confirmed FROM totp t
	    WHERE t.username = s.username FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL, format(
		    '%s has no second factor', s.username));
	END IF;
	IF confirmed THEN
		IF NOT totp_accept(s.username, step) THEN
			RETURN NULL;
		END IF;
	ELSE
		PERFORM totp_confirm(s.username, step);
	END IF;
	RETURN session_upgrade(token_hash);
END
$$;

-- Queue flooding ------------------------------------------------------------

-- How many deployments one user may have waiting in the queue (state
-- queued; the one offered or running does not count). Admins change it in
-- psql: UPDATE spiderpig.settings SET max_queued_per_user = 5.
ALTER TABLE settings ADD COLUMN max_queued_per_user integer NOT NULL
    DEFAULT 3 CHECK (max_queued_per_user > 0);
CREATE INDEX deployments_queued_requester ON deployments (requester)
    WHERE state = 'queued';

-- As in 002, and refused with SP409 when actor already has
-- max_queued_per_user deployments queued. 409, not 429: the refusal comes
-- from the state of the queue, not from a request rate; waiting does not
-- help until one of them leaves the queue (offered, cancelled), so there is
-- no Retry-After to give, and 429 stays the answer that means "slow down"
-- (nginx's limits, the TOTP lockout). Admins are held to it as well: a
-- stolen admin token floods like any other, and an admin who needs more
-- raises the setting or reorders with move().
CREATE OR REPLACE FUNCTION enqueue(actor text, patches text[]) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	i	integer;
	pos	integer;
	lim	integer;
	n	integer;
BEGIN
	PERFORM require_user(actor);
	IF patches IS NULL OR cardinality(patches) = 0 THEN
		PERFORM raise_error('SP400', 'patches', 'at least one patch is required');
	END IF;
	IF cardinality(patches) > 20 THEN
		PERFORM raise_error('SP400', 'patches', format(
		    'at most 20 patches per deployment, got %s', cardinality(patches)));
	END IF;
	FOR i IN 1 .. cardinality(patches) LOOP
		IF patches[i] IS NULL OR NOT valid_patch(patches[i]) THEN
			PERFORM raise_error('SP400', format('patches[%s]', i - 1),
			    'not a Gerrit change number or change URL');
		END IF;
	END LOOP;
	IF (SELECT count(DISTINCT patch_change(x)) FROM unnest(patches) x)
	    <> cardinality(patches) THEN
		PERFORM raise_error('SP400', 'patches', 'the same change is listed twice');
	END IF;
	-- Counted under the queue lock, so parallel requests cannot all pass.
	PERFORM lock_queue();
	SELECT max_queued_per_user INTO lim FROM settings;
	SELECT count(*) INTO n FROM deployments
	    WHERE requester = actor AND state = 'queued';
	IF n >= lim THEN
		PERFORM raise_error('SP409', NULL, format(
		    'you already have %s deployment%s queued; the limit is %s',
		    n, CASE WHEN n = 1 THEN '' ELSE 's' END, lim));
	END IF;
	SELECT coalesce(max(position), 0) + 1 INTO pos
	    FROM deployments WHERE state = 'queued';
	INSERT INTO deployments (requester, patches, position)
	    VALUES (actor, patches, pos) RETURNING * INTO d;
	PERFORM log_event(actor, d.id, 'enqueued',
	    jsonb_build_object('patches', patches, 'position', pos));
	RETURN d;
END
$$;

-- Privileges -----------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION session_upgrade(bytea), totp_accept(text, bigint),
    totp_confirm(text, bigint) FROM spiderpig_web, spiderpig_admin;
GRANT EXECUTE ON FUNCTION totp_login(bytea, bigint)
    TO spiderpig_web, spiderpig_admin;
GRANT UPDATE (max_queued_per_user) ON settings TO spiderpig_admin;
