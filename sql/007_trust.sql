-- 007_trust.sql: trust boundaries of the web role (issue 7). The second
-- factor and the AAL2 session become one step, so the web role cannot open a
-- session the gate accepts without consuming a TOTP step of that session's
-- own user. Never edit once released.
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

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION session_upgrade(bytea), totp_accept(text, bigint),
    totp_confirm(text, bigint) FROM spiderpig_web, spiderpig_admin;
GRANT EXECUTE ON FUNCTION totp_login(bytea, bigint)
    TO spiderpig_web, spiderpig_admin;
