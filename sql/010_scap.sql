-- 010_scap.sql: scap mode ([worker] mode = scap). One scap command runs the
-- whole deployment and speaks SPIDERPIG_IO on its stdout; the worker holds
-- the row from "ready: yes" until the command ends, moves its state along
-- scap's recognised steps (only forward, only among the states a worker may
-- hold), shows scap's status and progress, and turns scap's questions into
-- prompts of kind 'scap' whose answers it writes back on scap's stdin.
-- Never edit once released.
--
-- Why scap's questions are asked in running states: a prompt state
-- (awaiting_continue, awaiting_ack) has no worker (deployments_worker_state),
-- but the scap process lives in one worker for the whole run, and a row
-- without a holder could be claimed by another worker that has no process.
-- So the worker keeps the row, the deployment stays in the state of scap's
-- last recognised step, and the open prompt says what scap asks.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- What the pages show of a running scap: its last status text (NULL: none)
-- and its progress in percent.
ALTER TABLE deployments
	ADD COLUMN status_text text CHECK (length(status_text) <= 500),
	ADD COLUMN progress real CHECK (progress BETWEEN 0 AND 100);

-- A scap prompt's buttons: choices holds scap's keys (the answer written
-- back), labels what each button says. A free_text prompt (scap's
-- input_line) takes any one line; its only choice is '' (scap's default).
ALTER TABLE prompts
	ADD COLUMN labels text[],
	ADD COLUMN free_text boolean NOT NULL DEFAULT false,
	-- What the worker recognised the question as (scap_ask's role).
	ADD COLUMN scap_role text CHECK (scap_role IS NULL OR (kind = 'scap'
	    AND scap_role IN ('confirm', 'continue', 'failure', 'ack', 'other'))),
	ADD CONSTRAINT prompts_labels_match CHECK (labels IS NULL
	    OR cardinality(labels) = cardinality(choices)),
	ADD CONSTRAINT prompts_free_text_scap CHECK (NOT free_text
	    OR kind = 'scap');

-- 001's "the answer is one of the choices" gains the free-text exception.
DO $$
DECLARE
	c	record;
BEGIN
	FOR c IN SELECT conname FROM pg_constraint
	    WHERE conrelid = 'spiderpig.prompts'::regclass AND contype = 'c'
	    AND pg_get_constraintdef(oid) ~ '\(answer IS NULL\) OR \(answer = ANY'
	LOOP
		EXECUTE format('ALTER TABLE spiderpig.prompts DROP CONSTRAINT %I',
		    c.conname);
	END LOOP;
END
$$;
ALTER TABLE prompts ADD CONSTRAINT prompts_answer_choice CHECK (answer IS NULL
    OR answer = ANY (choices) OR (free_text AND answer !~ '[[:cntrl:]]'
    AND length(answer) <= 500));

-- An answer to a scap prompt changes no state: it is recorded, announced
-- (the worker hears the NOTIFY) and written to scap's stdin by the worker.
-- As for the built-in failure prompt, only an admin may ignore a failed
-- step at scap's failure prompt. Everything else as in 002.
CREATE OR REPLACE FUNCTION apply_answer(actor text, d deployments, p prompts,
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
	IF p.kind = 'scap' AND p.scap_role = 'failure' AND EXISTS (
	    SELECT 1 FROM unnest(p.choices, p.labels) AS c(k, l)
	    WHERE c.k = ans AND c.l ILIKE 'ignore%')
	    AND (by_timeout OR require_user(actor) <> 'admin') THEN
		PERFORM raise_error('SP403', 'answer', format(
		    'only an admin may ignore a failed step; %s may retry, '
		    'roll back or exit', actor));
	END IF;
	UPDATE prompts SET answered_at = now(), answered_by = actor,
	    answer = ans, timed_out = by_timeout WHERE id = p.id;
	det := jsonb_build_object('prompt', p.id, 'kind', p.kind,
	    'answer', ans, 'timed_out', by_timeout);
	PERFORM log_event(actor, d.id, 'answer', det);

	IF p.kind = 'scap' THEN
		RETURN d;
	END IF;
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

-- As in 002, with free-text answers for free_text prompts (one line, at
-- most 500 characters, no control characters; '' takes scap's default).
CREATE OR REPLACE FUNCTION answer(actor text, deployment bigint, prompt bigint, answer text)
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
	IF p.free_text THEN
		IF answer IS NULL OR length(answer) > 500
		    OR answer ~ '[[:cntrl:]]' THEN
			PERFORM raise_error('SP400', 'answer',
			    'one line of at most 500 characters');
		END IF;
	ELSIF answer IS NULL OR NOT answer = ANY (p.choices) THEN
		PERFORM raise_error('SP400', 'answer', format(
		    'answer must be one of: %s', array_to_string(p.choices, ', ')));
	END IF;
	RETURN apply_answer(actor, d, p, answer, false);
END
$$;

-- The open prompt as the API and the pages read it (006), with a scap
-- prompt's labels, whether it takes free text, and its recognised role.
CREATE OR REPLACE FUNCTION prompt_json(deployment bigint) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', p.id, 'kind', p.kind,
	    'question', p.question, 'choices', p.choices,
	    'default', p.default_answer, 'asked_at', p.asked_at,
	    'expires_at', p.expires_at, 'labels', p.labels,
	    'free_text', p.free_text, 'scap_role', p.scap_role)
	FROM prompts p
	WHERE p.deployment_id = prompt_json.deployment AND p.answered_at IS NULL
$$;

-- The held row of a worker, locked; NULL row when it does not hold it.
CREATE FUNCTION scap_held(deployment bigint, worker text) RETURNS deployments
LANGUAGE sql AS $$
	SELECT * FROM deployments WHERE id = deployment AND worker_id = worker
	FOR UPDATE
$$;

-- Start the scap run of a row the worker claimed right after "ready: yes".
-- 'started', or the row's state when it is not such a row (a run that was
-- lost with its worker: the caller ends it with scap_end), or NULL when the
-- worker does not hold it.
CREATE FUNCTION scap_begin(deployment bigint, worker text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	d := scap_held(deployment, worker);
	IF d.id IS NULL THEN
		RETURN NULL;
	END IF;
	IF d.state <> 'merging' OR d.stage_started_at IS NOT NULL THEN
		RETURN d.state;
	END IF;
	UPDATE deployments SET stage_started_at = now(), status_text = NULL,
	    progress = NULL WHERE id = d.id;
	PERFORM log_event('system', d.id, 'stage_started', jsonb_build_object(
	    'stage', stage_of(d.state), 'worker', worker, 'scap', true));
	RETURN 'started';
END
$$;

-- Move a held scap row to step: forward along the pipeline among the
-- states a worker holds, or into rolling_back (why is the reason). Any
-- other move is ignored. Returns the row as it is afterwards.
CREATE FUNCTION scap_move(d deployments, step text, why text)
RETURNS deployments
LANGUAGE plpgsql AS $$
DECLARE
	nd	deployments;
	ord_now	integer;
	ord_to	integer;
BEGIN
	IF step = 'rolling_back' THEN
		IF NOT state_in_pipeline(d.state) THEN
			RETURN d;
		END IF;
		RETURN start_rollback('system', d, left(coalesce(nullif(why, ''),
		    'scap is rolling back'), 500));
	END IF;
	IF step IS NULL OR NOT state_is_running(step)
	    OR NOT state_in_pipeline(step) OR NOT state_in_pipeline(d.state) THEN
		RETURN d;
	END IF;
	SELECT v.ord INTO ord_now FROM vocabulary() v
	    WHERE v.kind = 'state' AND v.name = d.state;
	SELECT v.ord INTO ord_to FROM vocabulary() v
	    WHERE v.kind = 'state' AND v.name = step;
	IF ord_to <= ord_now THEN
		RETURN d;
	END IF;
	IF stage_of(d.state) IS NOT NULL THEN
		PERFORM log_event('system', d.id, 'stage_finished',
		    jsonb_build_object('stage', stage_of(d.state), 'ok', true,
		    'detail', 'scap moved on', 'scap', true));
	END IF;
	UPDATE deployments SET state = step WHERE id = d.id RETURNING * INTO nd;
	PERFORM log_event('system', d.id, 'stage_started', jsonb_build_object(
	    'stage', stage_of(step), 'worker', d.worker_id, 'scap', true));
	PERFORM log_event('system', d.id, 'state', jsonb_build_object(
	    'state', step, 'status', nd.status_text));
	RETURN nd;
END
$$;

-- scap's status record: the text (NULL clears it) and, when step names a
-- state (the worker recognised the step), a move there (scap_move).
-- Returns the state afterwards, or NULL when the worker does not hold it.
CREATE FUNCTION scap_status(deployment bigint, worker text, status text,
    step text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	d := scap_held(deployment, worker);
	IF d.id IS NULL THEN
		RETURN NULL;
	END IF;
	UPDATE deployments SET status_text = left(status, 500) WHERE id = d.id
	    RETURNING * INTO d;
	IF step IS NOT NULL THEN
		d := scap_move(d, step, status);
	END IF;
	RETURN d.state;
END
$$;

-- scap's progress record: percent done, NULL clears it.
CREATE FUNCTION scap_progress(deployment bigint, worker text, progress real)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
BEGIN
	d := scap_held(deployment, worker);
	IF d.id IS NULL THEN
		RETURN NULL;
	END IF;
	UPDATE deployments SET progress = least(greatest(scap_progress.progress,
	    0), 100) WHERE id = d.id;
	RETURN d.state;
END
$$;

-- scap asks: a 'scap' prompt with choices [{"key": K, "label": L}, ...]
-- (or free_text: one line), closing any older one. The prompt expires
-- after the setting for its role (confirm: ready_timeout, ack: ack_timeout,
-- others: continue_timeout) and then takes default_key. Returns its id, or
-- NULL when the worker does not hold the row.
CREATE FUNCTION scap_ask(deployment bigint, worker text, question text,
    choices jsonb, default_key text, free_text boolean, role text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	s	settings;
	keys	text[];
	labels	text[];
	p	prompts;
BEGIN
	d := scap_held(deployment, worker);
	IF d.id IS NULL THEN
		RETURN NULL;
	END IF;
	IF free_text THEN
		keys := ARRAY[''];
		default_key := '';
	ELSE
		SELECT array_agg(e->>'key' ORDER BY n), array_agg(left(e->>'label',
		    200) ORDER BY n) INTO keys, labels
		    FROM jsonb_array_elements(choices) WITH ORDINALITY AS x(e, n);
		IF cardinality(keys) IS NULL OR cardinality(keys) > 16
		    OR array_position(keys, NULL) IS NOT NULL
		    OR array_position(labels, NULL) IS NOT NULL
		    OR EXISTS (SELECT 1 FROM unnest(keys) k
			WHERE k !~ '^[!-~]{1,32}$') THEN
			PERFORM raise_error('SP400', 'choices',
			    '1 to 16 choices with keys of 1 to 32 printable characters');
		END IF;
	END IF;
	SELECT * INTO s FROM settings;
	PERFORM close_prompt(d.id, 'system');
	INSERT INTO prompts (deployment_id, kind, question, choices, labels,
	    default_answer, expires_at, free_text, scap_role)
	VALUES (d.id, 'scap', left(coalesce(question, ''), 2500), keys, labels,
	    default_key, now() + CASE role WHEN 'confirm' THEN s.ready_timeout
		WHEN 'ack' THEN s.ack_timeout ELSE s.continue_timeout END,
	    coalesce(free_text, false), CASE WHEN role IN ('confirm',
		'continue', 'failure', 'ack') THEN role ELSE 'other' END)
	RETURNING * INTO p;
	PERFORM log_event('system', d.id, 'asked', jsonb_build_object(
	    'prompt', p.id, 'kind', 'scap', 'role', role, 'choices', p.choices,
	    'labels', p.labels, 'default', p.default_answer));
	RETURN p.id;
END
$$;

-- The scap worker's heartbeat: renews the lease, applies the default of
-- prompts past their time, and says the row's state (NULL: not held) and
-- what became of prompt (answered: closed; answer NULL when withdrawn).
CREATE FUNCTION scap_poll(worker text, deployment bigint, lease interval,
    prompt bigint)
RETURNS TABLE (state text, answered boolean, answer text, answered_by text,
    timed_out boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	st	text;
BEGIN
	PERFORM worker_seen(worker);
	PERFORM expire_prompts();
	UPDATE deployments d SET lease_expires_at = now() + lease
	    WHERE d.id = deployment AND d.worker_id = worker
	    RETURNING d.state INTO st;
	RETURN QUERY SELECT st, p.answered_at IS NOT NULL, p.answer,
	    p.answered_by, p.timed_out
	    FROM (SELECT 1) one LEFT JOIN prompts p ON p.id = prompt
		AND p.deployment_id = deployment;
END
$$;

-- The scap command ended. outcome: 'ok' (exit status 0), 'failed',
-- 'acked' (scap's rollback acknowledgement was answered) or 'declined'
-- (no at scap's own confirmation). From rolling_back: acked or ok ->
-- rolled_back; else awaiting_ack with rollback_ok false. Otherwise: ok ->
-- done, declined before anything ran -> cancelled, else the rollback starts
-- and, since no process is left to do it, goes straight to awaiting_ack
-- with rollback_ok false (a person checks the servers). Returns the new
-- state, or NULL when the worker does not hold the row.
CREATE FUNCTION scap_end(deployment bigint, worker text, outcome text,
    detail text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	d	deployments;
	det	jsonb;
BEGIN
	d := scap_held(deployment, worker);
	IF d.id IS NULL THEN
		RETURN NULL;
	END IF;
	IF outcome NOT IN ('ok', 'failed', 'acked', 'declined') THEN
		PERFORM raise_error('SP400', 'outcome', 'ok, failed, acked or declined');
	END IF;
	det := jsonb_build_object('outcome', outcome, 'detail', detail,
	    'scap', true);
	PERFORM close_prompt(d.id, 'system');
	PERFORM log_event('system', d.id, 'stage_finished', jsonb_build_object(
	    'stage', coalesce(stage_of(d.state), d.state), 'ok',
	    outcome IN ('ok', 'acked'), 'detail', detail, 'scap', true));
	UPDATE deployments SET stage_started_at = NULL WHERE id = d.id
	    RETURNING * INTO d;
	IF d.state = 'rolling_back' AND outcome IN ('ok', 'acked') THEN
		UPDATE deployments SET rollback_ok = true WHERE id = d.id
		    RETURNING * INTO d;
		d := finish('system', d, 'rolled_back', 'rolled_back', det);
		RETURN d.state;
	END IF;
	IF d.state <> 'rolling_back' AND outcome = 'ok' THEN
		d := finish('system', d, 'done', 'done', det);
		RETURN d.state;
	END IF;
	IF d.state = 'merging' AND outcome = 'declined' THEN
		d := finish('system', d, 'cancelled', 'cancelled', det);
		RETURN d.state;
	END IF;
	IF d.state <> 'rolling_back' THEN
		d := start_rollback('system', d, left(format('scap ended: %s',
		    coalesce(detail, outcome)), 500));
	END IF;
	UPDATE deployments SET state = 'awaiting_ack', worker_id = NULL,
	    lease_expires_at = NULL, rollback_ok = false WHERE id = d.id;
	PERFORM ask(d.id, 'ack');
	PERFORM log_event('system', d.id, 'rollback_finished', det ||
	    jsonb_build_object('ok', false));
	RETURN 'awaiting_ack';
END
$$;

REVOKE ALL ON FUNCTION scap_held(bigint, text), scap_begin(bigint, text),
    scap_move(deployments, text, text), scap_status(bigint, text, text, text),
    scap_progress(bigint, text, real),
    scap_ask(bigint, text, text, jsonb, text, boolean, text),
    scap_poll(text, bigint, interval, bigint),
    scap_end(bigint, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scap_begin(bigint, text),
    scap_status(bigint, text, text, text), scap_progress(bigint, text, real),
    scap_ask(bigint, text, text, jsonb, text, boolean, text),
    scap_poll(text, bigint, interval, bigint),
    scap_end(bigint, text, text, text)
    TO spiderpig_worker, spiderpig_admin;
