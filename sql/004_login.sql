-- 004_login.sql: browser login. OIDC state is single use and bound to the
-- browser; a session starts at AAL1 after the identity provider and is
-- replaced by a new AAL2 session after the second factor. Only AAL2 sessions
-- pass the /_auth gate. Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- One row per login round trip in flight. binding_hash is sha256 of a random
-- value kept in a short-lived __Host- cookie, so a state value stolen from a
-- URL is useless in another browser.
CREATE TABLE login_attempts (
	state		text PRIMARY KEY CHECK (length(state) BETWEEN 22 AND 128),
	binding_hash	bytea NOT NULL CHECK (length(binding_hash) = 32),
	nonce		text NOT NULL CHECK (length(nonce) BETWEEN 22 AND 128),
	code_verifier	text NOT NULL CHECK (length(code_verifier) BETWEEN 43 AND 128),
	return_to	text NOT NULL DEFAULT '/' CHECK (return_to ~ '^/[^/\\]'
			    OR return_to = '/'),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL DEFAULT now() + interval '10 minutes'
);

ALTER TABLE sessions
	ADD COLUMN aal smallint NOT NULL DEFAULT 2 CHECK (aal IN (1, 2)),
	ADD COLUMN csrf_token text NOT NULL DEFAULT new_secret('');

-- Start a login round trip; old attempts are pruned on the way.
CREATE FUNCTION login_begin(binding bytea, state text, nonce text,
    verifier text, return_to text DEFAULT '/') RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	DELETE FROM login_attempts WHERE expires_at < now();
	INSERT INTO login_attempts (state, binding_hash, nonce, code_verifier,
	    return_to) VALUES (state, binding, nonce, verifier,
	    coalesce(return_to, '/'));
END
$$;

-- Take (and consume) the attempt for state, only from the browser that
-- began it. A second use, another browser or an expired state is refused.
CREATE FUNCTION login_take(binding bytea, state text) RETURNS login_attempts
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	a login_attempts;
BEGIN
	DELETE FROM login_attempts la WHERE la.state = login_take.state
	    RETURNING * INTO a;
	IF NOT FOUND OR a.expires_at < now() THEN
		PERFORM raise_error('SP400', 'state',
		    'unknown, already used or expired login state; start the login again');
	END IF;
	IF a.binding_hash <> binding THEN
		PERFORM raise_error('SP400', 'state',
		    'this login was started in another browser; start the login again');
	END IF;
	RETURN a;
END
$$;

-- The identity provider vouched for name with role (from its groups): create
-- or update the user and open an AAL1 session (second factor pending).
CREATE FUNCTION login_complete(name text, role text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	u	users;
	tok	text;
BEGIN
	IF name IS NULL OR name !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' THEN
		PERFORM raise_error('SP400', 'name', 'the identity provider sent an unusable user name');
	END IF;
	IF role NOT IN ('deployer', 'admin') THEN
		PERFORM raise_error('SP403', NULL, 'not in a deployer or admin group');
	END IF;
	SELECT * INTO u FROM users WHERE users.name = login_complete.name FOR UPDATE;
	IF FOUND AND u.banned THEN
		PERFORM raise_error('SP403', NULL, format('user %L is banned', name));
	END IF;
	INSERT INTO users (name, role) VALUES (login_complete.name, login_complete.role)
	    ON CONFLICT ON CONSTRAINT users_pkey
	    DO UPDATE SET role = EXCLUDED.role, updated_at = now();
	tok := new_secret('sps_');
	INSERT INTO sessions (token_hash, username, expires_at, idle_timeout, aal)
	    VALUES (sha256(convert_to(tok, 'UTF8')), name,
	    now() + interval '10 minutes', interval '10 minutes', 1);
	PERFORM log_event(name, NULL, 'login_idp', jsonb_build_object('role', role));
	RETURN tok;
END
$$;

-- Any live session (AAL1 or AAL2), for the login and second-factor pages.
CREATE FUNCTION session_get(token_hash bytea)
RETURNS TABLE (id bigint, username text, role text, aal smallint,
    csrf_token text, created_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT s.id, u.name, u.role, s.aal, s.csrf_token, s.created_at
	FROM sessions s JOIN users u ON u.name = s.username
	WHERE s.token_hash = session_get.token_hash AND s.revoked_at IS NULL
	    AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
	    AND NOT u.banned
$$;

-- The second factor passed: replace the AAL1 session by a new AAL2 one
-- (new id, 12 h absolute, 30 min idle). Returns the new token.
CREATE FUNCTION session_upgrade(token_hash bytea) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	s	sessions;
	tok	text;
BEGIN
	SELECT k.* INTO s FROM sessions k JOIN users u ON u.name = k.username
	    WHERE k.token_hash = session_upgrade.token_hash AND k.revoked_at IS NULL
	    AND k.expires_at > now() AND k.aal = 1 AND NOT u.banned FOR UPDATE OF k;
	IF NOT FOUND THEN
		PERFORM raise_error('SP401', NULL, 'no login in progress; sign in again');
	END IF;
	UPDATE sessions SET revoked_at = now(), revoked_by = 'upgrade' WHERE id = s.id;
	tok := new_secret('sps_');
	INSERT INTO sessions (token_hash, username, expires_at, aal)
	    VALUES (sha256(convert_to(tok, 'UTF8')), s.username,
	    now() + interval '12 hours', 2);
	PERFORM log_event(s.username, NULL, 'login', jsonb_build_object('aal', 2));
	RETURN tok;
END
$$;

-- Log out the session presenting token_hash.
CREATE FUNCTION session_end(token_hash bytea) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	who text;
BEGIN
	UPDATE sessions SET revoked_at = now(), revoked_by = username
	    WHERE sessions.token_hash = session_end.token_hash AND revoked_at IS NULL
	    RETURNING username INTO who;
	IF who IS NOT NULL THEN
		PERFORM log_event(who, NULL, 'logout', jsonb_build_object('self', true));
	END IF;
END
$$;

-- The gate: only sessions that passed the second factor.
CREATE OR REPLACE FUNCTION auth_session(token_hash bytea)
RETURNS TABLE (username text, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	s sessions;
BEGIN
	SELECT k.* INTO s FROM sessions k JOIN users u ON u.name = k.username
	    WHERE k.token_hash = auth_session.token_hash AND k.revoked_at IS NULL
	    AND k.aal = 2 AND k.expires_at > now()
	    AND k.last_seen_at + k.idle_timeout > now() AND NOT u.banned;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF s.last_seen_at < now() - interval '30 seconds' THEN
		UPDATE sessions SET last_seen_at = now() WHERE id = s.id;
	END IF;
	RETURN QUERY SELECT u.name, u.role FROM users u WHERE u.name = s.username;
END
$$;

-- The caller's own tokens (never the hashes).
CREATE FUNCTION list_tokens(actor text)
RETURNS TABLE (id bigint, name text, created_at timestamptz,
    expires_at timestamptz, last_used_at timestamptz, revoked_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_user(actor);
	RETURN QUERY SELECT t.id, t.name, t.created_at, t.expires_at,
	    t.last_used_at, t.revoked_at FROM api_tokens t
	    WHERE t.username = actor ORDER BY t.id DESC;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
-- The web app may open only AAL1 sessions; create_session (a full session
-- with no second factor) stays with admins in psql.
REVOKE EXECUTE ON FUNCTION create_session(text, interval) FROM spiderpig_web;
GRANT EXECUTE ON FUNCTION login_begin(bytea, text, text, text, text),
    login_take(bytea, text), login_complete(text, text),
    session_get(bytea), session_upgrade(bytea), session_end(bytea),
    list_tokens(text)
    TO spiderpig_web, spiderpig_admin;
