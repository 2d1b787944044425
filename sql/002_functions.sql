-- 002_functions.sql: every state change and admin action. The FastCGI app,
-- the worker and an admin in psql all go through these, so the checks live
-- in one place. Each change writes an events row and a NOTIFY on 'spiderpig'.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- Internal helpers ---------------------------------------------------------

CREATE FUNCTION raise_error(code text, field text, msg text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg,
	    COLUMN = coalesce(field, '');
END
$$;

-- Record an event and wake listeners; the NOTIFY is sent at commit.
CREATE FUNCTION log_event(actor text, deployment bigint, action text,
    details jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	st text;
BEGIN
	INSERT INTO events (actor, deployment_id, action, details)
	    VALUES (actor, deployment, action, coalesce(details, '{}'));
	IF deployment IS NOT NULL THEN
		SELECT state INTO st FROM deployments WHERE id = deployment;
	END IF;
	PERFORM pg_notify('spiderpig', json_build_object('deployment',
	    deployment, 'state', st, 'event', action)::text);
END
$$;

-- The acting user's role; SP401 for an unknown or banned user.
CREATE FUNCTION require_user(actor text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	u users;
BEGIN
	SELECT * INTO u FROM users WHERE name = actor;
	IF NOT FOUND THEN
		PERFORM raise_error('SP401', NULL, format('unknown user %L', actor));
	END IF;
	IF u.banned THEN
		PERFORM raise_error('SP403', NULL, format('user %L is banned', actor));
	END IF;
	RETURN u.role;
END
$$;

CREATE FUNCTION require_admin(actor text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF require_user(actor) <> 'admin' THEN
		PERFORM raise_error('SP403', NULL,
		    format('%s is not an admin', actor));
	END IF;
END
$$;

-- Lock the deployment row and check the actor may act on it.
CREATE FUNCTION lock_for_actor(actor text, deployment bigint) RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	d	deployments;
	r	text;
BEGIN
	r := require_user(actor);
	SELECT * INTO d FROM deployments WHERE id = deployment FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL,
		    format('no deployment %s', deployment));
	END IF;
	IF d.requester <> actor AND r <> 'admin' THEN
		PERFORM raise_error('SP403', NULL, format(
		    'deployment %s belongs to %s', deployment, d.requester));
	END IF;
	RETURN d;
END
$$;

-- Queue mutations are serialised by one transaction-scoped advisory lock.
CREATE FUNCTION lock_queue() RETURNS void
LANGUAGE sql AS $$
	SELECT pg_advisory_xact_lock(7366101)
$$;

CREATE FUNCTION freeze_in_force() RETURNS freezes
LANGUAGE sql STABLE AS $$
	SELECT * FROM freezes WHERE lifted_at IS NULL
	    AND (until IS NULL OR until > now())
$$;

CREATE FUNCTION close_prompt(deployment bigint, actor text) RETURNS void
LANGUAGE sql AS $$
	UPDATE prompts SET answered_at = now(), answered_by = actor,
	    withdrawn = true
	WHERE deployment_id = deployment AND answered_at IS NULL
$$;

CREATE FUNCTION ask(deployment bigint, kind text) RETURNS prompts
LANGUAGE plpgsql AS $$
DECLARE
	s	settings;
	p	prompts;
	d	deployments;
BEGIN
	SELECT * INTO s FROM settings;
	SELECT * INTO d FROM deployments WHERE id = deployment;
	INSERT INTO prompts (deployment_id, kind, question, choices,
	    default_answer, expires_at)
	SELECT deployment, kind, q.question, q.choices, q.dflt, now() + q.ttl
	FROM (VALUES
	    ('ready', format('Ready to deploy %s?', array_to_string(d.patches, ', ')),
	        ARRAY['yes', 'no'], 'no', s.ready_timeout),
	    ('continue', 'The patches are on the test servers. Continue to the canaries?',
	        ARRAY['yes', 'no'], 'no', s.continue_timeout),
	    ('finish', 'Deployed to production. Finish the deployment and free the queue?',
	        ARRAY['finish', 'rollback'], 'finish', s.finish_timeout),
	    ('ack', 'Rolled back. The patches are still merged in Gerrit: a revert is needed. Acknowledge?',
	        ARRAY['ack'], 'ack', s.ack_timeout)
	) AS q(k, question, choices, dflt, ttl)
	WHERE q.k = kind
	RETURNING * INTO p;
	RETURN p;
END
$$;

-- Move a deployment into rolling_back (keeping its worker, if any, so the
-- worker that was running a stage performs the rollback).
CREATE FUNCTION start_rollback(actor text, d deployments, reason text)
RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	nd deployments;
BEGIN
	PERFORM close_prompt(d.id, actor);
	UPDATE deployments SET state = 'rolling_back', rollback_reason = reason
	    WHERE id = d.id RETURNING * INTO nd;
	PERFORM log_event(actor, d.id, 'rollback_started',
	    jsonb_build_object('reason', reason, 'from', d.state));
	RETURN nd;
END
$$;

CREATE FUNCTION finish(actor text, d deployments, final_state text, action text,
    details jsonb DEFAULT '{}') RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	nd deployments;
BEGIN
	UPDATE deployments SET state = final_state, finished_at = now(),
	    worker_id = NULL, lease_expires_at = NULL, stage_started_at = NULL
	    WHERE id = d.id RETURNING * INTO nd;
	PERFORM log_event(actor, d.id, action, details);
	RETURN nd;
END
$$;

-- Apply an answer (given or by timeout) to a locked deployment and prompt.
CREATE FUNCTION apply_answer(actor text, d deployments, p prompts,
    ans text, by_timeout boolean) RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	nd	deployments;
	f	freezes;
	det	jsonb;
BEGIN
	IF p.kind = 'ready' AND ans = 'yes' THEN
		f := freeze_in_force();
		IF f.id IS NOT NULL THEN
			PERFORM raise_error('SP409', NULL, format(
			    'deployments are frozen by %s: %s', f.frozen_by, f.reason));
		END IF;
	END IF;
	UPDATE prompts SET answered_at = now(), answered_by = actor,
	    answer = ans, timed_out = by_timeout WHERE id = p.id;
	det := jsonb_build_object('prompt', p.id, 'kind', p.kind,
	    'answer', ans, 'timed_out', by_timeout);
	PERFORM log_event(actor, d.id, 'answer', det);

	CASE p.kind || ':' || ans
	WHEN 'ready:yes' THEN
		UPDATE deployments SET state = 'merging', started_at = now()
		    WHERE id = d.id RETURNING * INTO nd;
	WHEN 'ready:no' THEN
		nd := finish(actor, d, CASE WHEN by_timeout THEN 'expired'
		    ELSE 'cancelled' END, CASE WHEN by_timeout THEN 'expired'
		    ELSE 'cancelled' END, det);
	WHEN 'continue:yes' THEN
		UPDATE deployments SET state = 'syncing_canary'
		    WHERE id = d.id RETURNING * INTO nd;
	WHEN 'continue:no' THEN
		nd := start_rollback(actor, d, CASE WHEN by_timeout
		    THEN 'continue prompt timed out'
		    ELSE format('%s declined to continue', actor) END);
	WHEN 'finish:finish' THEN
		nd := finish(actor, d, 'done', 'done', det);
	WHEN 'finish:rollback' THEN
		nd := start_rollback(actor, d, format('%s asked for a rollback at finish', actor));
	WHEN 'ack:ack' THEN
		nd := finish(actor, d, CASE WHEN d.rollback_ok THEN 'rolled_back'
		    ELSE 'rollback_failed' END, 'acknowledged', det);
	END CASE;
	RETURN nd;
END
$$;

-- Deployers (through the web app or psql) ---------------------------------

CREATE FUNCTION enqueue(actor text, patches text[]) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	i	integer;
	pos	integer;
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
	PERFORM lock_queue();
	SELECT coalesce(max(position), 0) + 1 INTO pos
	    FROM deployments WHERE state = 'queued';
	INSERT INTO deployments (requester, patches, position)
	    VALUES (actor, patches, pos) RETURNING * INTO d;
	PERFORM log_event(actor, d.id, 'enqueued',
	    jsonb_build_object('patches', patches, 'position', pos));
	RETURN d;
END
$$;

CREATE FUNCTION cancel(actor text, deployment bigint) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	PERFORM lock_queue();
	d := lock_for_actor(actor, deployment);
	IF d.state = 'queued' THEN
		UPDATE deployments SET position = position - 1
		    WHERE state = 'queued' AND position > d.position;
		UPDATE deployments SET state = 'cancelled', position = NULL,
		    finished_at = now() WHERE id = d.id RETURNING * INTO d;
		PERFORM log_event(actor, d.id, 'cancelled');
		RETURN d;
	ELSIF d.state = 'awaiting_ready' THEN
		PERFORM close_prompt(d.id, actor);
		RETURN finish(actor, d, 'cancelled', 'cancelled');
	END IF;
	PERFORM raise_error('SP409', NULL, format(
	    'deployment %s is %s; only queued deployments can be cancelled%s',
	    d.id, d.state, CASE
	    WHEN d.state = 'awaiting_ack' THEN ' (acknowledge its prompt instead)'
	    WHEN d.finished_at IS NULL AND d.state <> 'rolling_back'
	    THEN ' (ask for a rollback instead)' ELSE '' END));
	RETURN NULL;
END
$$;

CREATE FUNCTION answer(actor text, deployment bigint, prompt bigint, answer text)
RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	p	prompts;
BEGIN
	d := lock_for_actor(actor, deployment);
	SELECT * INTO p FROM prompts WHERE id = prompt FOR UPDATE;
	IF NOT FOUND OR p.deployment_id <> d.id THEN
		PERFORM raise_error('SP404', 'prompt', format(
		    'deployment %s has no prompt %s', d.id, prompt));
	END IF;
	IF p.answered_at IS NOT NULL THEN
		PERFORM raise_error('SP409', 'prompt', format(
		    'prompt %s is already closed (%s by %s at %s)', p.id,
		    coalesce(p.answer, 'withdrawn'), p.answered_by, p.answered_at));
	END IF;
	IF p.expires_at <= now() THEN
		PERFORM raise_error('SP409', 'prompt', format(
		    'prompt %s expired at %s', p.id, p.expires_at));
	END IF;
	IF answer IS NULL OR NOT answer = ANY (p.choices) THEN
		PERFORM raise_error('SP400', 'answer', format(
		    'answer must be one of: %s', array_to_string(p.choices, ', ')));
	END IF;
	RETURN apply_answer(actor, d, p, answer, false);
END
$$;

CREATE FUNCTION request_rollback(actor text, deployment bigint, reason text DEFAULT NULL)
RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	d := lock_for_actor(actor, deployment);
	IF reason IS NOT NULL AND length(reason) > 500 THEN
		PERFORM raise_error('SP400', 'reason', 'at most 500 characters');
	END IF;
	IF d.state NOT IN ('merging', 'syncing_test', 'smoke_testing',
	    'awaiting_continue', 'syncing_canary', 'checking_canary',
	    'syncing_production', 'awaiting_finish') THEN
		PERFORM raise_error('SP409', NULL, format(
		    'deployment %s is %s; nothing to roll back%s', d.id, d.state,
		    CASE WHEN d.state IN ('queued', 'awaiting_ready')
		    THEN ' (cancel it instead)' ELSE '' END));
	END IF;
	RETURN start_rollback(actor, d, coalesce(
	    format('%s asked for a rollback: %s', actor, reason),
	    format('%s asked for a rollback', actor)));
END
$$;

-- Authentication (hash = sha256 of the token string) ----------------------

CREATE FUNCTION auth_token(token_hash bytea)
RETURNS TABLE (username text, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t api_tokens;
BEGIN
	SELECT k.* INTO t FROM api_tokens k JOIN users u ON u.name = k.username
	    WHERE k.token_hash = auth_token.token_hash AND k.revoked_at IS NULL
	    AND k.expires_at > now() AND NOT u.banned;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	-- One write a minute at most per token, not one per request.
	IF t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' THEN
		UPDATE api_tokens SET last_used_at = now() WHERE id = t.id;
	END IF;
	RETURN QUERY SELECT u.name, u.role FROM users u WHERE u.name = t.username;
END
$$;

CREATE FUNCTION auth_session(token_hash bytea)
RETURNS TABLE (username text, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	s sessions;
BEGIN
	SELECT k.* INTO s FROM sessions k JOIN users u ON u.name = k.username
	    WHERE k.token_hash = auth_session.token_hash AND k.revoked_at IS NULL
	    AND k.expires_at > now() AND k.last_seen_at + k.idle_timeout > now()
	    AND NOT u.banned;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF s.last_seen_at < now() - interval '30 seconds' THEN
		UPDATE sessions SET last_seen_at = now() WHERE id = s.id;
	END IF;
	RETURN QUERY SELECT u.name, u.role FROM users u WHERE u.name = s.username;
END
$$;

-- 244 random bits (two v4 UUIDs from the server's strong random source),
-- base64url.
CREATE FUNCTION new_secret(prefix text) RETURNS text
LANGUAGE sql VOLATILE AS $$
	SELECT prefix || rtrim(translate(encode(uuid_send(gen_random_uuid()) ||
	    uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$$;

-- A new API token for owner; the plaintext is returned once, only its hash
-- is stored.
CREATE FUNCTION create_token(actor text, owner text, name text,
    ttl interval DEFAULT '90 days') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	tok	text;
	tid	bigint;
BEGIN
	IF require_user(actor) <> 'admin' AND actor <> owner THEN
		PERFORM raise_error('SP403', NULL,
		    'only admins create tokens for other users');
	END IF;
	PERFORM require_user(owner);
	IF name IS NULL OR length(name) NOT BETWEEN 1 AND 64 THEN
		PERFORM raise_error('SP400', 'name', 'a token name of 1 to 64 characters is required');
	END IF;
	IF ttl IS NULL OR ttl < interval '1 minute' OR ttl > interval '366 days' THEN
		PERFORM raise_error('SP400', 'ttl', 'between 1 minute and 366 days');
	END IF;
	tok := new_secret('spt_');
	INSERT INTO api_tokens (username, name, token_hash, expires_at)
	    VALUES (owner, name, sha256(convert_to(tok, 'UTF8')), now() + ttl)
	    RETURNING api_tokens.id INTO tid;
	PERFORM log_event(actor, NULL, 'token_created', jsonb_build_object(
	    'token', tid, 'owner', owner, 'name', name));
	RETURN tok;
END
$$;

CREATE FUNCTION revoke_token(actor text, token bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	t api_tokens;
BEGIN
	SELECT * INTO t FROM api_tokens WHERE id = token FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL, format('no token %s', token));
	END IF;
	IF require_user(actor) <> 'admin' AND actor <> t.username THEN
		PERFORM raise_error('SP403', NULL, 'not your token');
	END IF;
	IF t.revoked_at IS NOT NULL THEN
		PERFORM raise_error('SP409', NULL, format('token %s is already revoked', token));
	END IF;
	UPDATE api_tokens SET revoked_at = now(), revoked_by = actor WHERE id = token;
	PERFORM log_event(actor, NULL, 'token_revoked', jsonb_build_object(
	    'token', token, 'owner', t.username));
END
$$;

-- A new browser session for owner (called after a completed login).
CREATE FUNCTION create_session(owner text, ttl interval DEFAULT '12 hours')
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	tok text;
BEGIN
	PERFORM require_user(owner);
	tok := new_secret('sps_');
	INSERT INTO sessions (token_hash, username, expires_at)
	    VALUES (sha256(convert_to(tok, 'UTF8')), owner, now() + ttl);
	PERFORM log_event(owner, NULL, 'login', '{}');
	RETURN tok;
END
$$;

-- Admin actions ------------------------------------------------------------

CREATE FUNCTION freeze(actor text, reason text, until timestamptz DEFAULT NULL)
RETURNS freezes
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	f freezes;
BEGIN
	PERFORM require_admin(actor);
	IF reason IS NULL OR length(btrim(reason)) = 0 OR length(reason) > 500 THEN
		PERFORM raise_error('SP400', 'reason', 'a reason of 1 to 500 characters is required');
	END IF;
	IF until IS NOT NULL AND until <= now() THEN
		PERFORM raise_error('SP400', 'until', 'must be in the future');
	END IF;
	-- A freeze whose end has passed is lifted by time.
	UPDATE freezes SET lifted_at = freezes.until, lifted_by = 'expired'
	    WHERE lifted_at IS NULL AND freezes.until <= now();
	f := freeze_in_force();
	IF f.id IS NOT NULL THEN
		PERFORM raise_error('SP409', NULL, format(
		    'already frozen by %s since %s: %s', f.frozen_by, f.since, f.reason));
	END IF;
	INSERT INTO freezes (reason, frozen_by, until)
	    VALUES (reason, actor, until) RETURNING * INTO f;
	PERFORM log_event(actor, NULL, 'freeze', jsonb_build_object(
	    'reason', reason, 'until', until));
	RETURN f;
END
$$;

CREATE FUNCTION unfreeze(actor text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_admin(actor);
	UPDATE freezes SET lifted_at = least(now(), coalesce(until, now())),
	    lifted_by = actor WHERE lifted_at IS NULL;
	IF NOT FOUND THEN
		PERFORM raise_error('SP409', NULL, 'deployments are not frozen');
	END IF;
	PERFORM log_event(actor, NULL, 'unfreeze', '{}');
END
$$;

CREATE FUNCTION add_user(actor text, name text, role text DEFAULT 'deployer')
RETURNS users
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	u users;
BEGIN
	PERFORM require_admin(actor);
	IF name IS NULL OR name !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' THEN
		PERFORM raise_error('SP400', 'name',
		    'letters, digits and ._@- only, at most 128 characters');
	END IF;
	IF role IS NULL OR role NOT IN ('deployer', 'admin') THEN
		PERFORM raise_error('SP400', 'role', 'must be deployer or admin');
	END IF;
	INSERT INTO users (name, role) VALUES (add_user.name, add_user.role)
	    ON CONFLICT ON CONSTRAINT users_pkey
	    DO UPDATE SET role = EXCLUDED.role, updated_at = now()
	    RETURNING * INTO u;
	PERFORM log_event(actor, NULL, 'user_set', jsonb_build_object(
	    'user', name, 'role', role));
	RETURN u;
END
$$;

CREATE FUNCTION revoke_sessions(actor text, who text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	UPDATE sessions SET revoked_at = now(), revoked_by = actor
	    WHERE revoked_at IS NULL AND (who IS NULL OR username = who);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- Ban: no new requests (sessions and tokens revoked, checked on every
-- request), and their waiting deployments are cancelled. A deployment
-- already running goes on: stopping it half-synced is worse; an admin can
-- roll it back.
CREATE FUNCTION ban_user(actor text, name text, reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d deployments;
BEGIN
	PERFORM require_admin(actor);
	IF reason IS NULL OR length(btrim(reason)) = 0 OR length(reason) > 500 THEN
		PERFORM raise_error('SP400', 'reason', 'a reason of 1 to 500 characters is required');
	END IF;
	IF name = actor THEN
		PERFORM raise_error('SP400', 'name', 'you cannot ban yourself');
	END IF;
	UPDATE users SET banned = true, banned_reason = reason, updated_at = now()
	    WHERE users.name = ban_user.name;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', 'name', format('no user %L', name));
	END IF;
	PERFORM revoke_sessions(actor, name);
	UPDATE api_tokens SET revoked_at = now(), revoked_by = actor
	    WHERE username = ban_user.name AND revoked_at IS NULL;
	PERFORM lock_queue();
	FOR d IN SELECT * FROM deployments WHERE requester = ban_user.name
	    AND state IN ('queued', 'awaiting_ready') ORDER BY position NULLS FIRST
	LOOP
		IF d.state = 'queued' THEN
			SELECT * INTO d FROM deployments WHERE id = d.id;
			UPDATE deployments SET position = position - 1
			    WHERE state = 'queued' AND position > d.position;
			UPDATE deployments SET state = 'cancelled', position = NULL,
			    finished_at = now() WHERE id = d.id;
			PERFORM log_event(actor, d.id, 'cancelled',
			    jsonb_build_object('why', 'requester banned'));
		ELSE
			PERFORM close_prompt(d.id, actor);
			PERFORM finish(actor, d, 'cancelled', 'cancelled',
			    jsonb_build_object('why', 'requester banned'));
		END IF;
	END LOOP;
	PERFORM log_event(actor, NULL, 'ban', jsonb_build_object(
	    'user', name, 'reason', reason));
END
$$;

CREATE FUNCTION unban_user(actor text, name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM require_admin(actor);
	UPDATE users SET banned = false, banned_reason = NULL, updated_at = now()
	    WHERE users.name = unban_user.name AND banned;
	IF NOT FOUND THEN
		PERFORM raise_error('SP409', 'name', format('%L is not banned', name));
	END IF;
	PERFORM log_event(actor, NULL, 'unban', jsonb_build_object('user', name));
END
$$;

CREATE FUNCTION logout_user(actor text, name text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	n integer;
BEGIN
	IF require_user(actor) <> 'admin' AND actor <> name THEN
		PERFORM raise_error('SP403', NULL, 'only admins log out other users');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM users WHERE users.name = logout_user.name) THEN
		PERFORM raise_error('SP404', 'name', format('no user %L', name));
	END IF;
	n := revoke_sessions(actor, name);
	PERFORM log_event(actor, NULL, 'logout', jsonb_build_object(
	    'user', name, 'sessions', n));
	RETURN n;
END
$$;

CREATE FUNCTION logout_all(actor text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	n integer;
BEGIN
	PERFORM require_admin(actor);
	n := revoke_sessions(actor, NULL);
	PERFORM log_event(actor, NULL, 'logout_all', jsonb_build_object('sessions', n));
	RETURN n;
END
$$;

-- Move a queued deployment to new_position (1 = next), shifting the rest.
CREATE FUNCTION move(actor text, deployment bigint, new_position integer)
RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	n	integer;
BEGIN
	PERFORM require_admin(actor);
	PERFORM lock_queue();
	SELECT * INTO d FROM deployments WHERE id = deployment FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL, format('no deployment %s', deployment));
	END IF;
	IF d.state <> 'queued' THEN
		PERFORM raise_error('SP409', NULL, format(
		    'deployment %s is %s, not queued', d.id, d.state));
	END IF;
	SELECT count(*) INTO n FROM deployments WHERE state = 'queued';
	IF new_position IS NULL OR new_position < 1 OR new_position > n THEN
		PERFORM raise_error('SP400', 'position', format(
		    'must be between 1 and %s', n));
	END IF;
	IF new_position < d.position THEN
		UPDATE deployments SET position = position + 1 WHERE state = 'queued'
		    AND position >= new_position AND position < d.position;
	ELSIF new_position > d.position THEN
		UPDATE deployments SET position = position - 1 WHERE state = 'queued'
		    AND position > d.position AND position <= new_position;
	END IF;
	UPDATE deployments SET position = new_position WHERE id = d.id
	    RETURNING * INTO d;
	PERFORM log_event(actor, d.id, 'moved', jsonb_build_object(
	    'position', new_position));
	RETURN d;
END
$$;

-- Worker ----------------------------------------------------------------

CREATE FUNCTION worker_seen(worker text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	INSERT INTO workers (id) VALUES (worker)
	    ON CONFLICT (id) DO UPDATE SET seen_at = now()
$$;

-- Offer the head of the queue when nothing holds it and no freeze is in
-- force. Returns the deployment offered, or NULL.
CREATE FUNCTION offer_next() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d deployments;
BEGIN
	IF (freeze_in_force()).id IS NOT NULL THEN
		RETURN NULL;
	END IF;
	PERFORM lock_queue();
	IF EXISTS (SELECT 1 FROM deployments WHERE state IN ('awaiting_ready',
	    'merging', 'syncing_test', 'smoke_testing', 'awaiting_continue',
	    'syncing_canary', 'checking_canary', 'syncing_production',
	    'awaiting_finish', 'rolling_back', 'awaiting_ack')) THEN
		RETURN NULL;
	END IF;
	SELECT * INTO d FROM deployments WHERE state = 'queued' AND position = 1
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE deployments SET state = 'awaiting_ready', position = NULL
	    WHERE id = d.id;
	UPDATE deployments SET position = position - 1 WHERE state = 'queued';
	PERFORM ask(d.id, 'ready');
	PERFORM log_event('system', d.id, 'offered', '{}');
	RETURN d.id;
END
$$;

-- Apply the default answer to every prompt past its expiry.
CREATE FUNCTION expire_prompts() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	p	prompts;
	d	deployments;
	n	integer := 0;
BEGIN
	FOR p IN SELECT * FROM prompts WHERE answered_at IS NULL
	    AND expires_at <= now() ORDER BY id FOR UPDATE SKIP LOCKED
	LOOP
		SELECT * INTO d FROM deployments WHERE id = p.deployment_id FOR UPDATE;
		PERFORM apply_answer('system', d, p, p.default_answer, true);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;

-- Claim one runnable deployment under a lease. A row whose holder's lease
-- ran out in the middle of a stage was interrupted: it is rolled back.
CREATE FUNCTION claim_next(worker text, lease interval) RETURNS deployments
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	prev	text;
BEGIN
	SELECT * INTO d FROM deployments
	    WHERE state IN ('merging', 'syncing_test', 'smoke_testing',
	        'syncing_canary', 'checking_canary', 'syncing_production',
	        'rolling_back')
	    AND (worker_id IS NULL OR worker_id = worker
	        OR lease_expires_at < now())
	    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	prev := d.worker_id;
	UPDATE deployments SET worker_id = worker,
	    lease_expires_at = now() + lease WHERE id = d.id RETURNING * INTO d;
	IF prev IS DISTINCT FROM worker THEN
		PERFORM log_event('system', d.id, 'claimed', jsonb_build_object(
		    'worker', worker, 'previous_worker', prev));
	END IF;
	IF prev IS NOT NULL AND prev <> worker AND d.state <> 'rolling_back'
	    AND d.stage_started_at IS NOT NULL THEN
		d := start_rollback('system', d, format(
		    '%s was interrupted: worker %s stopped renewing its lease',
		    d.state, prev));
	END IF;
	RETURN d;
END
$$;

CREATE FUNCTION stage_of(state text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE state
	    WHEN 'merging' THEN 'merge'
	    WHEN 'syncing_test' THEN 'sync_test'
	    WHEN 'smoke_testing' THEN 'smoke_test'
	    WHEN 'syncing_canary' THEN 'sync_canary'
	    WHEN 'checking_canary' THEN 'canary_check'
	    WHEN 'syncing_production' THEN 'sync_production'
	END
$$;

-- The worker holding the row starts its stage. NULL when it does not hold it.
CREATE FUNCTION stage_begin(deployment bigint, worker text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	st	text;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = deployment AND worker_id = worker
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	st := stage_of(d.state);
	IF st IS NULL THEN
		RETURN d.state;
	END IF;
	UPDATE deployments SET stage_started_at = now(),
	    touched_stages = CASE WHEN st LIKE 'sync_%' AND NOT st = ANY (touched_stages)
	        THEN touched_stages || st ELSE touched_stages END
	    WHERE id = d.id;
	PERFORM log_event('system', d.id, 'stage_started', jsonb_build_object(
	    'stage', st, 'worker', worker));
	RETURN d.state;
END
$$;

-- The stage the worker ran finished; returns the new state (or the current
-- one, unchanged, when the row moved on without it, e.g. a rollback request).
CREATE FUNCTION stage_done(deployment bigint, worker text, ok boolean, detail text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	st	text;
	nxt	text;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = deployment AND worker_id = worker
	    FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	st := stage_of(d.state);
	IF st IS NULL OR d.stage_started_at IS NULL THEN
		RETURN d.state;
	END IF;
	PERFORM log_event('system', d.id, 'stage_finished', jsonb_build_object(
	    'stage', st, 'ok', ok, 'detail', detail,
	    'seconds', round(extract(epoch FROM now() - d.stage_started_at)::numeric, 3)));
	UPDATE deployments SET stage_started_at = NULL WHERE id = d.id
	    RETURNING * INTO d;
	IF NOT ok THEN
		d := start_rollback('system', d, format('%s failed: %s', st,
		    coalesce(detail, 'no detail')));
		RETURN d.state;
	END IF;
	nxt := CASE d.state
	    WHEN 'merging' THEN 'syncing_test'
	    WHEN 'syncing_test' THEN 'smoke_testing'
	    WHEN 'smoke_testing' THEN 'awaiting_continue'
	    WHEN 'syncing_canary' THEN 'checking_canary'
	    WHEN 'checking_canary' THEN 'syncing_production'
	    WHEN 'syncing_production' THEN 'awaiting_finish'
	END;
	IF nxt LIKE 'awaiting_%' THEN
		UPDATE deployments SET state = nxt, worker_id = NULL,
		    lease_expires_at = NULL WHERE id = d.id;
		PERFORM ask(d.id, CASE nxt WHEN 'awaiting_continue' THEN 'continue'
		    ELSE 'finish' END);
	ELSE
		UPDATE deployments SET state = nxt WHERE id = d.id;
	END IF;
	PERFORM log_event('system', d.id, 'state', jsonb_build_object('state', nxt));
	RETURN nxt;
END
$$;

CREATE FUNCTION rollback_done(deployment bigint, worker text, ok boolean, detail text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d deployments;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = deployment AND worker_id = worker
	    AND state = 'rolling_back' FOR UPDATE;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE deployments SET state = 'awaiting_ack', worker_id = NULL,
	    lease_expires_at = NULL, stage_started_at = NULL, rollback_ok = ok
	    WHERE id = d.id;
	PERFORM ask(d.id, 'ack');
	PERFORM log_event('system', d.id, 'rollback_finished', jsonb_build_object(
	    'ok', ok, 'detail', detail, 'stages', d.touched_stages));
	RETURN 'awaiting_ack';
END
$$;

-- Renew the lease; returns the row's state, or NULL when the lease is lost.
CREATE FUNCTION heartbeat(worker text, deployment bigint, lease interval)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	st text;
BEGIN
	PERFORM worker_seen(worker);
	UPDATE deployments SET lease_expires_at = now() + lease
	    WHERE id = deployment AND worker_id = worker RETURNING state INTO st;
	RETURN st;
END
$$;

-- A worker shutting down hands back the rows it holds with no stage in
-- flight, so the next worker takes them at once instead of after the lease.
-- A row with a stage in flight stays held: its lease runs out and the next
-- claim rolls it back. Returns how many rows were released.
CREATE FUNCTION release_held(worker text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d deployments;
	n integer := 0;
BEGIN
	FOR d IN UPDATE deployments SET worker_id = NULL, lease_expires_at = NULL
	    WHERE worker_id = worker
	    AND (stage_started_at IS NULL OR state = 'rolling_back')
	    RETURNING *
	LOOP
		PERFORM log_event('system', d.id, 'released',
		    jsonb_build_object('worker', worker));
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;

CREATE FUNCTION schema_version() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT max(version) FROM schema_migrations
$$;

-- Read-only views for the web app and admins.
CREATE VIEW queue AS
	SELECT id, requester, patches, state, position, created_at, started_at
	FROM deployments
	WHERE state NOT IN ('done', 'rolled_back', 'rollback_failed',
	    'cancelled', 'expired')
	ORDER BY position NULLS FIRST, id;

-- Privileges: nothing by default, then exactly what each role needs.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA spiderpig FROM PUBLIC;
GRANT SELECT ON deployments, prompts, log_lines, events, freezes, workers,
    settings, queue TO spiderpig_web, spiderpig_admin;
GRANT SELECT (name, role, banned, created_at) ON users TO spiderpig_web;
GRANT SELECT ON users, api_tokens, sessions TO spiderpig_admin;
GRANT SELECT ON deployments, settings TO spiderpig_worker;
GRANT SELECT, INSERT ON log_lines TO spiderpig_worker;
GRANT EXECUTE ON FUNCTION enqueue(text, text[]), cancel(text, bigint),
    answer(text, bigint, bigint, text), request_rollback(text, bigint, text),
    auth_token(bytea), auth_session(bytea), create_token(text, text, text, interval),
    revoke_token(text, bigint), create_session(text, interval),
    freeze(text, text, timestamptz), unfreeze(text), add_user(text, text, text),
    ban_user(text, text, text), unban_user(text, text), logout_user(text, text),
    logout_all(text), move(text, bigint, integer), schema_version(),
    valid_patch(text), patch_change(text), stage_of(text)
    TO spiderpig_web, spiderpig_admin;
GRANT EXECUTE ON FUNCTION worker_seen(text), offer_next(), expire_prompts(),
    claim_next(text, interval), stage_begin(bigint, text),
    stage_done(bigint, text, boolean, text),
    rollback_done(bigint, text, boolean, text),
    heartbeat(text, bigint, interval), release_held(text), schema_version(),
    stage_of(text)
    TO spiderpig_worker, spiderpig_admin;
