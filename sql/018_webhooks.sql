-- 018_webhooks.sql: the webhook outbox. Triggers on the tables whose rows
-- say what happened (deployments, prompts, freezes) write one outbox row
-- per announced event in the transaction that made the change, so an event
-- is announced exactly when its change commits, and a rolled-back change
-- announces nothing. The sender (hooks/, spiderpig-hooks) logs in as
-- spiderpig_hooks, which may only call the hooks_* functions below:
-- register its receiver, claim the receiver's oldest due row, record the
-- answer, prune. Each receiver (one sender process each, [hooks] name)
-- has its own delivery state, so one that is slow or down holds back no
-- other. Never edit once released.
--
-- The trigger functions carry their own search_path: a change an admin
-- makes by hand in psql runs them with the admin's.
--
-- The triggers watch the rows rather than the events rows of log_event:
-- every path that starts, rolls back or ends a deployment (the web app,
-- the worker, scap mode, an admin in psql, lease recovery) changes the
-- deployments row, but not all of them name it with the same action.

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spiderpig_hooks') THEN
		CREATE ROLE spiderpig_hooks LOGIN;
	END IF;
END
$$;

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

GRANT USAGE ON SCHEMA spiderpig TO spiderpig_hooks;

-- A freeze that ends by its end time changes no row when it ends (the
-- next freeze() marks it lifted, later): the sender announces the end
-- itself when the time comes (hook_freeze_ends), once.
ALTER TABLE freezes ADD COLUMN end_announced boolean NOT NULL DEFAULT false;

-- psql: UPDATE spiderpig.settings SET hook_retention_days = 30. Announcements
-- every receiver is done with (delivered, failed or filtered) longer than
-- this, and receivers not seen for this long, are pruned by the sender.
ALTER TABLE settings ADD COLUMN hook_retention_days integer NOT NULL
	DEFAULT 14 CHECK (hook_retention_days BETWEEN 1 AND 36500);

-- One announcement: what happened, once, whoever receives it. Each
-- receiver's progress with it is its hook_deliveries row.
CREATE TABLE hook_outbox (
	id		bigserial PRIMARY KEY,
	event		text NOT NULL CHECK (event IN ('started', 'prompt',
			    'rolled_back', 'finished', 'freeze')),
	deployment_id	bigint,
	payload		jsonb NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- A receiver: one sender process ([hooks] name in its config) and the
-- events it wants. A sender registers its receiver when it starts
-- (hooks_register) and keeps last_seen fresh while it runs; a receiver
-- not seen for settings.hook_retention_days is dropped, with its
-- deliveries. A receiver gets the events queued after it registered,
-- not the history before it.
CREATE TABLE hook_receivers (
	name		text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,40}$'),
	events		text[] NOT NULL,
	registered_at	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now()
);

-- One announcement to one receiver. status: pending until the receiver
-- answered 2xx (delivered), its sender gave up after its attempts
-- (failed), or its events filter left it out (filtered). next_attempt_at
-- is when a pending row may be sent; a claimed row's is pushed out by
-- the lease, so a sender that dies mid-send only delays it.
CREATE TABLE hook_deliveries (
	outbox_id	bigint NOT NULL REFERENCES hook_outbox ON DELETE CASCADE,
	receiver	text NOT NULL REFERENCES hook_receivers
			    ON DELETE CASCADE ON UPDATE CASCADE,
	status		text NOT NULL DEFAULT 'pending' CHECK (status IN
			    ('pending', 'delivered', 'failed', 'filtered')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	delivered_at	timestamptz,
	done_at		timestamptz,
	last_error	text,
	PRIMARY KEY (receiver, outbox_id),
	CHECK ((status = 'pending') = (done_at IS NULL)),
	CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX hook_deliveries_pending ON hook_deliveries (receiver, outbox_id)
	WHERE status = 'pending';
CREATE INDEX hook_deliveries_outbox ON hook_deliveries (outbox_id);

-- Queue one announcement: the payload is the event's own fields over the
-- deployment's (id, user, patches, state and its label, rollback reason),
-- with the time. The sender adds the link. Each registered receiver gets
-- its delivery row: pending, or filtered when it does not want the event.
CREATE FUNCTION hook_queue(ev text, d deployments, extra jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
DECLARE
	base	jsonb := jsonb_build_object('event', ev, 'at', now());
	new_id	bigint;
BEGIN
	IF d.id IS NOT NULL THEN
		base := base || jsonb_build_object('deployment', d.id,
		    'user', d.requester, 'patches', to_jsonb(d.patches),
		    'state', d.state, 'state_label', state_label(d.state),
		    'reason', d.rollback_reason);
	END IF;
	INSERT INTO hook_outbox (event, deployment_id, payload)
	    VALUES (ev, d.id, base || coalesce(extra, '{}'))
	    RETURNING id INTO new_id;
	INSERT INTO hook_deliveries (outbox_id, receiver, status, done_at,
	    last_error)
	    SELECT new_id, r.name, CASE WHEN ev = ANY (r.events) THEN 'pending'
		ELSE 'filtered' END,
		CASE WHEN ev = ANY (r.events) THEN NULL ELSE now() END,
		CASE WHEN ev = ANY (r.events) THEN NULL
		ELSE 'not in the events filter' END
	    FROM hook_receivers r;
END
$$;

-- A deployment started (its first stage: started_at set), its rollback
-- ran (it left rolling_back; ok says whether every stage rolled back),
-- or it ended (any terminal state).
CREATE FUNCTION hook_deployment() RETURNS trigger
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
BEGIN
	IF OLD.started_at IS NULL AND NEW.started_at IS NOT NULL THEN
		PERFORM hook_queue('started', NEW, '{}');
	END IF;
	IF OLD.state = 'rolling_back' AND NEW.state <> 'rolling_back' THEN
		PERFORM hook_queue('rolled_back', NEW,
		    jsonb_build_object('ok', NEW.rollback_ok));
	END IF;
	IF NOT state_is_terminal(OLD.state) AND state_is_terminal(NEW.state) THEN
		PERFORM hook_queue('finished', NEW, '{}');
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER deployments_hooks AFTER UPDATE OF state, started_at
	ON deployments FOR EACH ROW
	WHEN (OLD.state IS DISTINCT FROM NEW.state
	    OR OLD.started_at IS DISTINCT FROM NEW.started_at)
	EXECUTE FUNCTION hook_deployment();

-- A prompt waits for a person (ready, continue, finish, ack, failure, or
-- scap's own question).
CREATE FUNCTION hook_prompt() RETURNS trigger
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	SELECT * INTO d FROM deployments WHERE id = NEW.deployment_id;
	PERFORM hook_queue('prompt', d, jsonb_build_object('prompt',
	    jsonb_build_object('id', NEW.id, 'kind', NEW.kind,
		'question', NEW.question, 'choices', to_jsonb(NEW.choices),
		'default', NEW.default_answer, 'expires_at', NEW.expires_at)));
	RETURN NULL;
END
$$;
CREATE TRIGGER prompts_hooks AFTER INSERT ON prompts
	FOR EACH ROW EXECUTE FUNCTION hook_prompt();

-- The announcement of freeze f: frozen, or lifted at lifted_at by by.
CREATE FUNCTION hook_queue_freeze(f freezes, frozen boolean, lifted_at
    timestamptz, by text) RETURNS void
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
DECLARE
	none	deployments;
BEGIN
	PERFORM hook_queue('freeze', none, jsonb_build_object(
	    'frozen', frozen, 'reason', f.reason, 'user', by,
	    'since', f.since, 'until', f.until, 'lifted_at', lifted_at));
END
$$;

-- A freeze began, or an admin lifted it (its end time had not been
-- announced yet).
CREATE FUNCTION hook_freeze() RETURNS trigger
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
BEGIN
	IF NEW.lifted_at IS NULL THEN
		PERFORM hook_queue_freeze(NEW, true, NULL, NEW.frozen_by);
	ELSE
		PERFORM hook_queue_freeze(NEW, false, NEW.lifted_at,
		    NEW.lifted_by);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER freezes_hooks AFTER INSERT ON freezes
	FOR EACH ROW WHEN (NEW.lifted_at IS NULL)
	EXECUTE FUNCTION hook_freeze();
CREATE TRIGGER freezes_hooks_lifted AFTER UPDATE OF lifted_at ON freezes
	FOR EACH ROW WHEN (OLD.lifted_at IS NULL AND NEW.lifted_at IS NOT NULL
	    AND NOT OLD.end_announced)
	EXECUTE FUNCTION hook_freeze();

-- Announce the end of each freeze whose end time has come, once: it stays
-- unlifted until the next freeze() or unfreeze() (which then announce
-- nothing more). Called by hooks_claim.
CREATE FUNCTION hook_freeze_ends() RETURNS void
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
DECLARE
	f	freezes;
BEGIN
	FOR f IN UPDATE freezes SET end_announced = true
	    WHERE lifted_at IS NULL AND until <= now() AND NOT end_announced
	    RETURNING *
	LOOP
		PERFORM hook_queue_freeze(f, false, f.until, 'expired');
	END LOOP;
END
$$;

-- Wake the sender at commit.
CREATE FUNCTION hook_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = spiderpig, pg_temp AS $$
BEGIN
	PERFORM pg_notify('spiderpig_hooks', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER hook_outbox_notify AFTER INSERT ON hook_outbox
	FOR EACH STATEMENT EXECUTE FUNCTION hook_notify();

-- The sender's functions ------------------------------------------------------
-- Each names its receiver; a sender only ever touches its receiver's
-- delivery rows, so senders of different receivers never hold each
-- other back.

-- The receiver the sender of name sends to, wanting events: registered
-- (from now on, new announcements are queued for it), or its filter
-- updated (its pending rows the filter now leaves out are marked
-- filtered) and last_seen refreshed. A new receiver also gets the
-- announcements of the hour before it registered (a sender started just
-- after a deployment still announces it), never the older history.
CREATE FUNCTION hooks_register(name text, events text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	fresh	boolean;
BEGIN
	IF name IS NULL OR name !~ '^[a-z0-9_-]{1,40}$' OR events IS NULL
	    OR array_position(events, NULL) IS NOT NULL
	    OR NOT events <@ ARRAY['started', 'prompt', 'rolled_back',
		'finished', 'freeze'] THEN
		PERFORM raise_error('SP400', NULL,
		    'a name of [a-z0-9_-]{1,40}, events from the five');
	END IF;
	INSERT INTO hook_receivers AS r (name, events)
	    VALUES (hooks_register.name, hooks_register.events)
	    ON CONFLICT ON CONSTRAINT hook_receivers_pkey DO UPDATE
	    SET events = excluded.events, last_seen = now()
	    RETURNING r.xmax = 0 INTO fresh;
	IF fresh THEN
		INSERT INTO hook_deliveries (outbox_id, receiver, status,
		    done_at, last_error)
		    SELECT o.id, hooks_register.name, 'pending', NULL, NULL
		    FROM hook_outbox o
		    WHERE o.created_at >= now() - interval '1 hour'
		    ON CONFLICT DO NOTHING;
	END IF;
	UPDATE hook_deliveries h SET status = 'filtered', done_at = now(),
	    last_error = 'not in the events filter'
	    FROM hook_outbox o
	    WHERE h.receiver = hooks_register.name AND h.status = 'pending'
	    AND o.id = h.outbox_id AND NOT (o.event = ANY (hooks_register.events));
END
$$;

-- Claim receiver's oldest pending row if it is due: count the attempt,
-- push its next_attempt_at out by lease (the time a send may take), and
-- return it. Freezes whose end time has come are announced first
-- (hook_freeze_ends); a row that already had max_attempts claims without
-- an answer recorded (its sender died each time) is marked failed.
-- Announcements go out in order: a newer row is not sent to a receiver
-- while an older one is pending for it, and SKIP LOCKED on the oldest row
-- means a second sender of the same receiver claiming at the same moment
-- gets nothing rather than the next row (or the same one). SP404 when
-- the receiver is not registered (or was dropped): register again.
CREATE FUNCTION hooks_claim(receiver text, max_attempts integer,
    lease interval)
RETURNS TABLE (id bigint, event text, payload json, attempts integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	head	bigint;
	h	hook_deliveries;
	o	hook_outbox;
BEGIN
	IF max_attempts IS NULL OR max_attempts < 1 OR lease IS NULL
	    OR lease <= '0' THEN
		PERFORM raise_error('SP400', NULL, 'max_attempts >= 1, lease > 0');
	END IF;
	-- Seen now (written at most once a minute).
	PERFORM 1 FROM hook_receivers r WHERE r.name = hooks_claim.receiver;
	IF NOT FOUND THEN
		PERFORM raise_error('SP404', NULL, 'no such receiver');
	END IF;
	UPDATE hook_receivers r SET last_seen = now()
	    WHERE r.name = hooks_claim.receiver
	    AND r.last_seen < now() - interval '1 minute';
	PERFORM hook_freeze_ends();
	LOOP
		SELECT min(d.outbox_id) INTO head FROM hook_deliveries d
		    WHERE d.receiver = hooks_claim.receiver
		    AND d.status = 'pending';
		IF head IS NULL THEN
			RETURN;
		END IF;
		SELECT * INTO h FROM hook_deliveries d
		    WHERE d.receiver = hooks_claim.receiver
		    AND d.outbox_id = head AND d.status = 'pending'
		    AND d.next_attempt_at <= now()
		    FOR UPDATE SKIP LOCKED;
		IF NOT FOUND THEN
			RETURN;
		END IF;
		EXIT WHEN h.attempts < max_attempts;
		UPDATE hook_deliveries d SET status = 'failed', done_at = now(),
		    last_error = coalesce(d.last_error, 'no answer recorded')
		    WHERE d.receiver = h.receiver AND d.outbox_id = h.outbox_id;
	END LOOP;
	UPDATE hook_deliveries d SET attempts = d.attempts + 1,
	    next_attempt_at = now() + lease
	    WHERE d.receiver = h.receiver AND d.outbox_id = h.outbox_id
	    RETURNING * INTO h;
	SELECT * INTO o FROM hook_outbox x WHERE x.id = h.outbox_id;
	RETURN QUERY SELECT o.id, o.event, o.payload::json, h.attempts;
END
$$;

-- receiver answered 2xx to attempt (as claimed) of row id. A late answer
-- to an attempt that is no longer the row's newest changes nothing. True
-- when recorded.
CREATE FUNCTION hooks_delivered(receiver text, id bigint, attempt integer)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	UPDATE hook_deliveries d SET status = 'delivered',
	    delivered_at = now(), done_at = now(), last_error = NULL
	    WHERE d.receiver = hooks_delivered.receiver
	    AND d.outbox_id = hooks_delivered.id AND d.attempts = attempt
	    AND d.status = 'pending';
	RETURN FOUND;
END
$$;

-- Attempt of row id to receiver failed with error: try again after
-- retry_ms, or give up (retry_ms NULL). True when recorded.
CREATE FUNCTION hooks_failed(receiver text, id bigint, attempt integer,
    error text, retry_ms integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
BEGIN
	UPDATE hook_deliveries d SET last_error = left(error, 500),
	    status = CASE WHEN retry_ms IS NULL THEN 'failed' ELSE 'pending' END,
	    done_at = CASE WHEN retry_ms IS NULL THEN now() END,
	    next_attempt_at = CASE WHEN retry_ms IS NULL THEN d.next_attempt_at
		ELSE now() + make_interval(secs => greatest(retry_ms, 0) / 1000.0)
		END
	    WHERE d.receiver = hooks_failed.receiver
	    AND d.outbox_id = hooks_failed.id AND d.attempts = attempt
	    AND d.status = 'pending';
	RETURN FOUND;
END
$$;

-- Milliseconds until receiver's oldest pending row is due or a freeze's
-- end is to be announced (0 when one is), NULL when neither is ahead: how
-- long its sender may sleep.
CREATE FUNCTION hooks_next_due(receiver text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT greatest(0, ceil(extract(epoch FROM least(
	    (SELECT d.next_attempt_at FROM hook_deliveries d
		WHERE d.receiver = hooks_next_due.receiver
		AND d.status = 'pending' ORDER BY d.outbox_id LIMIT 1),
	    (SELECT min(f.until) FROM freezes f WHERE f.lifted_at IS NULL
		AND NOT f.end_announced)) - now()) * 1000))::bigint
$$;

-- Prune, with the retention r = settings.hook_retention_days: drop the
-- receivers not seen for r (their deliveries go with them), then delete
-- at most max_rows announcements created more than r ago that no
-- receiver still has pending or finished within r, oldest first; returns
-- how many announcements went.
CREATE FUNCTION hooks_prune(max_rows integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	cutoff	timestamptz := now() - (SELECT make_interval(
		    days => s.hook_retention_days) FROM settings s);
	n	bigint;
BEGIN
	DELETE FROM hook_receivers r WHERE r.last_seen < cutoff;
	DELETE FROM hook_outbox o WHERE o.id IN (
	    SELECT k.id FROM hook_outbox k
	    WHERE k.created_at < cutoff AND NOT EXISTS (
		SELECT 1 FROM hook_deliveries d WHERE d.outbox_id = k.id
		AND (d.status = 'pending' OR d.done_at >= cutoff))
	    ORDER BY k.id LIMIT greatest(least(max_rows, 100000), 1));
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- /metrics: the 017 families, then each receiver's deliveries by status
-- (pending: waiting or being retried; failed: given up, since the last
-- prune).
ALTER FUNCTION metrics(text) RENAME TO metrics_core;
CREATE FUNCTION metrics(actor text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	labels	text[];
	vals	float8[];
BEGIN
	SELECT coalesce(array_agg(format('receiver="%s",status="%s"', r.name,
		st.s) ORDER BY r.name, st.o), '{}'),
	    coalesce(array_agg((SELECT count(*) FROM hook_deliveries d
		WHERE d.receiver = r.name AND d.status = st.s)::float8
		ORDER BY r.name, st.o), '{}')
	    INTO labels, vals
	    FROM hook_receivers r,
	    (VALUES (1, 'pending'), (2, 'failed')) AS st(o, s);
	RETURN metrics_core(actor) || metrics_family('webhooks', 'gauge',
	    'Webhook announcements per receiver, by status.', labels, vals);
END
$$;

REVOKE ALL ON FUNCTION hook_queue(text, deployments, jsonb),
    hook_queue_freeze(freezes, boolean, timestamptz, text),
    hook_deployment(), hook_prompt(), hook_freeze(), hook_freeze_ends(),
    hook_notify(),
    hooks_register(text, text[]), hooks_claim(text, integer, interval),
    hooks_delivered(text, bigint, integer),
    hooks_failed(text, bigint, integer, text, integer), hooks_next_due(text),
    hooks_prune(integer), metrics_core(text), metrics(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION metrics_core(text) FROM spiderpig_web, spiderpig_admin;
GRANT EXECUTE ON FUNCTION hooks_register(text, text[]),
    hooks_claim(text, integer, interval),
    hooks_delivered(text, bigint, integer),
    hooks_failed(text, bigint, integer, text, integer), hooks_next_due(text),
    hooks_prune(integer) TO spiderpig_hooks;
GRANT EXECUTE ON FUNCTION metrics(text) TO spiderpig_web, spiderpig_admin;
GRANT SELECT ON hook_outbox, hook_receivers, hook_deliveries TO spiderpig_admin;
GRANT UPDATE (hook_retention_days) ON settings TO spiderpig_admin;
