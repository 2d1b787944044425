-- 008_identity.sql: who a browser login is rests on the identity provider's
-- issuer + sub, never on the name it suggests; API tokens follow the
-- provider's say. Never edit once released.
--
-- * identities binds one (issuer, subject) to one user name, at the first
--   login of that subject (or by an admin in psql: bind_identity). Another
--   subject presenting a bound name is refused, with an event.
-- * root, the bootstrap admin, is bound only by bind_identity (tools/stack
--   run and the tests bind it to the bundled provider's root), or by its
--   first login while settings.bind_root_at_login is on.
-- * Another name that exists but is bound to no subject (made in psql, or
--   a user from before this migration) is bound by the first login that
--   presents it while settings.bind_existing_at_login is on (the default,
--   so that the users of an upgraded site can sign in); an admin turns it
--   off once they have, and binds later names with bind_identity.
-- * A login records when the user last signed in at the provider and the
--   role it gave (users.idp_login_at, users.idp_role); a role change is an
--   event. A user bound to the provider whose last sign-in is older than
--   settings.token_idle_days, or gave no role, has no working API token,
--   and a token never carries more than that role nor the role it was
--   made with. Accounts never bound to the provider (made in psql, e.g.
--   for CI) answer to the admins who made them: only the lifetime cap
--   (settings.token_max_days) applies to their tokens.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

CREATE TABLE identities (
	issuer		text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 1024),
	subject		text NOT NULL CHECK (length(subject) BETWEEN 1 AND 1024),
	username	text NOT NULL UNIQUE REFERENCES users (name),
	bound_at	timestamptz NOT NULL DEFAULT now(),
	bound_by	text NOT NULL,
	PRIMARY KEY (issuer, subject)
);

ALTER TABLE users
	ADD COLUMN idp_login_at	timestamptz,
	ADD COLUMN idp_role	text CHECK (idp_role IN ('deployer', 'admin'));

-- The role a token was made with; existing tokens keep their owner's.
ALTER TABLE api_tokens ADD COLUMN role text
	CHECK (role IN ('deployer', 'admin'));
UPDATE api_tokens t SET role = u.role FROM users u WHERE u.name = t.username;
ALTER TABLE api_tokens ALTER COLUMN role SET NOT NULL;

ALTER TABLE settings
	ADD COLUMN token_idle_days integer NOT NULL DEFAULT 14
		CHECK (token_idle_days BETWEEN 1 AND 366),
	ADD COLUMN token_max_days integer NOT NULL DEFAULT 90
		CHECK (token_max_days BETWEEN 1 AND 366),
	ADD COLUMN bind_root_at_login boolean NOT NULL DEFAULT false,
	ADD COLUMN bind_existing_at_login boolean NOT NULL DEFAULT true;

-- The lesser of two roles (deployer < admin); NULL (no role) is least.
CREATE FUNCTION role_min(a text, b text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL
	    WHEN a = 'admin' AND b = 'admin' THEN 'admin' ELSE 'deployer' END
$$;

-- The most an API token of u may carry: its role, and for a user bound to
-- the provider, the role of the last sign-in if that is recent enough.
-- NULL: no token of u works.
CREATE FUNCTION token_role_cap(u users) RETURNS text
LANGUAGE sql STABLE SET search_path = spiderpig, pg_temp AS $$
	SELECT CASE
	    WHEN u.banned THEN NULL
	    WHEN NOT EXISTS (SELECT 1 FROM identities i WHERE i.username = u.name)
		THEN u.role
	    WHEN u.idp_login_at IS NULL OR u.idp_login_at <
		now() - make_interval(days => (SELECT token_idle_days FROM settings))
		THEN NULL
	    ELSE role_min(u.role, u.idp_role) END
$$;

-- The identity provider vouched for (issuer, subject), suggesting name, with
-- role from its groups (NULL: in no group we know). Returns the new AAL1
-- session token and the user's bound name, or refusal: a sentence for the
-- browser, with a login_refused event written (and kept: nothing is
-- raised). A banned user is SP403 as before.
CREATE FUNCTION login_complete(issuer text, subject text, name text, role text)
RETURNS TABLE (token text, username text, refusal text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	idt	identities;
	u	users;
	who	text;
	tok	text;
	why	text;
	msg	text;
BEGIN
	IF issuer IS NULL OR subject IS NULL OR length(issuer) NOT BETWEEN 1 AND 1024
	    OR length(subject) NOT BETWEEN 1 AND 1024 THEN
		PERFORM raise_error('SP400', 'sub', 'the identity provider sent no usable subject');
	END IF;
	IF role IS NOT NULL AND role NOT IN ('deployer', 'admin') THEN
		PERFORM raise_error('SP400', 'role', 'must be deployer or admin');
	END IF;
	SELECT * INTO idt FROM identities i
	    WHERE i.issuer = login_complete.issuer AND i.subject = login_complete.subject
	    FOR UPDATE;
	IF FOUND THEN
		who := idt.username;
	ELSE
		IF name IS NULL OR name !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' THEN
			PERFORM raise_error('SP400', 'name', 'the identity provider sent an unusable user name');
		END IF;
		IF role IS NULL THEN
			-- Never seen, in no group: nothing to record.
			RETURN QUERY SELECT NULL::text, NULL::text,
			    'You signed in, but you are not in a group allowed to use spiderpig.'::text;
			RETURN;
		END IF;
		IF EXISTS (SELECT 1 FROM identities i WHERE i.username = name) THEN
			why := 'name_taken';
			msg := format('The name %s already belongs to another account; '
			    'ask an administrator.', name);
		ELSIF name = 'root' AND NOT (SELECT bind_root_at_login FROM settings) THEN
			why := 'reserved_name';
			msg := 'The name root is reserved for the bootstrap administrator; '
			    'an administrator binds it with spiderpig.bind_identity.';
		ELSIF name <> 'root' AND EXISTS (SELECT 1 FROM users WHERE users.name =
		    login_complete.name) AND NOT (SELECT bind_existing_at_login FROM settings) THEN
			why := 'unbound_name';
			msg := format('The name %s belongs to an account not yet linked to '
			    'the identity provider; ask an administrator to bind it.', name);
		END IF;
		IF why IS NOT NULL THEN
			PERFORM log_event(name, NULL, 'login_refused', jsonb_build_object(
			    'reason', why, 'issuer', issuer, 'sub', subject, 'role', role));
			RETURN QUERY SELECT NULL::text, NULL::text, msg;
			RETURN;
		END IF;
		-- Lock the name's row, if any, before binding it.
		PERFORM 1 FROM users WHERE users.name = login_complete.name FOR UPDATE;
		INSERT INTO users (name, role) VALUES (login_complete.name, login_complete.role)
		    ON CONFLICT ON CONSTRAINT users_pkey DO NOTHING;
		INSERT INTO identities (issuer, subject, username, bound_by)
		    VALUES (login_complete.issuer, login_complete.subject, login_complete.name, 'login');
		PERFORM log_event(name, NULL, 'identity_bound', jsonb_build_object(
		    'issuer', issuer, 'sub', subject));
		who := name;
	END IF;

	SELECT * INTO u FROM users WHERE users.name = who FOR UPDATE;
	IF u.banned THEN
		PERFORM raise_error('SP403', NULL, format('user %L is banned', who));
	END IF;
	IF u.role IS DISTINCT FROM role THEN
		PERFORM log_event(who, NULL, 'role_changed', jsonb_build_object(
		    'from', u.role, 'to', role, 'by', 'identity provider'));
	END IF;
	IF role IS NULL THEN
		-- Signed in, but in no group any more: tokens and sessions end.
		UPDATE users SET idp_login_at = now(), idp_role = NULL, updated_at = now()
		    WHERE users.name = who;
		UPDATE sessions SET revoked_at = now(), revoked_by = 'identity provider'
		    WHERE sessions.username = who AND revoked_at IS NULL;
		RETURN QUERY SELECT NULL::text, who,
		    'You signed in, but you are not in a group allowed to use spiderpig.'::text;
		RETURN;
	END IF;
	UPDATE users SET role = login_complete.role, idp_login_at = now(),
	    idp_role = login_complete.role, updated_at = now()
	    WHERE users.name = who;
	tok := new_secret('sps_');
	INSERT INTO sessions (token_hash, username, expires_at, idle_timeout, aal)
	    VALUES (sha256(convert_to(tok, 'UTF8')), who,
	    now() + interval '10 minutes', interval '10 minutes', 1);
	PERFORM log_event(who, NULL, 'login_idp', jsonb_build_object('role', role));
	RETURN QUERY SELECT tok, who, NULL::text;
END
$$;

-- An admin binds name (an existing user) to the provider account (issuer,
-- subject), replacing the name's earlier binding: how root's provider
-- account is named when bind_root_at_login stays off.
CREATE FUNCTION bind_identity(actor text, name text, issuer text, subject text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	old identities;
	other text;
BEGIN
	PERFORM require_admin(actor);
	IF issuer IS NULL OR subject IS NULL OR length(issuer) NOT BETWEEN 1 AND 1024
	    OR length(subject) NOT BETWEEN 1 AND 1024 THEN
		PERFORM raise_error('SP400', 'subject', 'issuer and subject of 1 to 1024 characters');
	END IF;
	PERFORM 1 FROM users WHERE users.name = bind_identity.name FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', 'name', format('no user %L', name));
	END IF;
	SELECT i.username INTO other FROM identities i
	    WHERE i.issuer = bind_identity.issuer AND i.subject = bind_identity.subject;
	IF other IS NOT NULL AND other <> name THEN
		PERFORM raise_error('SP409', 'subject', format('that account is bound to %L', other));
	END IF;
	DELETE FROM identities i WHERE i.username = bind_identity.name RETURNING * INTO old;
	INSERT INTO identities (issuer, subject, username, bound_by)
	    VALUES (bind_identity.issuer, bind_identity.subject, bind_identity.name, actor);
	PERFORM log_event(actor, NULL, 'identity_bound', jsonb_build_object(
	    'user', name, 'issuer', issuer, 'sub', subject,
	    'replaced_sub', old.subject));
END
$$;

DROP FUNCTION login_complete(text, text);

-- The gate for API tokens: the token's own role, capped by token_role_cap.
CREATE OR REPLACE FUNCTION auth_token(token_hash bytea)
RETURNS TABLE (username text, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t	api_tokens;
	u	users;
	cap	text;
BEGIN
	SELECT k.* INTO t FROM api_tokens k
	    WHERE k.token_hash = auth_token.token_hash AND k.revoked_at IS NULL
	    AND k.expires_at > now();
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT * INTO u FROM users WHERE users.name = t.username;
	cap := token_role_cap(u);
	IF cap IS NULL THEN
		RETURN;
	END IF;
	-- One write a minute at most per token, not one per request.
	IF t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' THEN
		UPDATE api_tokens SET last_used_at = now() WHERE id = t.id;
	END IF;
	RETURN QUERY SELECT u.name, role_min(t.role, cap);
END
$$;

-- A new API token for owner, valid for ttl (default and at most
-- settings.token_max_days), carrying at most the owner's role now.
DROP FUNCTION create_token(text, text, text, interval);
CREATE FUNCTION create_token(actor text, owner text, name text,
    ttl interval DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	tok	text;
	tid	bigint;
	maxttl	interval;
	u	users;
BEGIN
	IF require_user(actor) <> 'admin' AND actor <> owner THEN
		PERFORM raise_error('SP403', NULL,
		    'only admins create tokens for other users');
	END IF;
	PERFORM require_user(owner);
	SELECT * INTO u FROM users WHERE users.name = owner;
	IF name IS NULL OR length(name) NOT BETWEEN 1 AND 64 THEN
		PERFORM raise_error('SP400', 'name', 'a token name of 1 to 64 characters is required');
	END IF;
	SELECT make_interval(days => token_max_days) INTO maxttl FROM settings;
	ttl := coalesce(ttl, maxttl);
	IF ttl < interval '1 minute' OR ttl > maxttl THEN
		PERFORM raise_error('SP400', 'ttl', format('between 1 minute and %s days',
		    extract(day FROM maxttl)));
	END IF;
	tok := new_secret('spt_');
	INSERT INTO api_tokens (username, name, token_hash, expires_at, role)
	    VALUES (owner, name, sha256(convert_to(tok, 'UTF8')), now() + ttl,
	    coalesce(token_role_cap(u), 'deployer'))
	    RETURNING api_tokens.id INTO tid;
	PERFORM log_event(actor, NULL, 'token_created', jsonb_build_object(
	    'token', tid, 'owner', owner, 'name', name));
	RETURN tok;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
GRANT SELECT ON identities TO spiderpig_admin;
GRANT EXECUTE ON FUNCTION login_complete(text, text, text, text),
    create_token(text, text, text, interval), auth_token(bytea)
    TO spiderpig_web, spiderpig_admin;
GRANT EXECUTE ON FUNCTION bind_identity(text, text, text, text)
    TO spiderpig_admin;
-- psql: UPDATE spiderpig.settings SET token_idle_days = 30.
GRANT UPDATE (token_idle_days, token_max_days, bind_root_at_login,
    bind_existing_at_login) ON settings TO spiderpig_admin;
