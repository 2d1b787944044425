-- 012_canary.sql: the canary judge's samples, for the deployment page's
-- chart (issue 9). The worker records one row per look at the metrics
-- (canary_record); the web role reads them through canary_samples().
-- Never edit once released.

SET LOCAL ROLE spiderpig_owner;
SET LOCAL search_path = spiderpig, pg_temp;

-- One look of the canary judge: counts since the canaries were synced
-- (errors and requests of the canary hosts and of the other hosts), the
-- judgement's statistic at that moment (the e-value of the sequential test,
-- or the error count for the threshold judgement) and the verdict so far.
CREATE TABLE canary_samples (
	deployment_id	bigint NOT NULL REFERENCES deployments (id),
	seq		integer NOT NULL CHECK (seq >= 1),
	at		timestamptz NOT NULL DEFAULT now(),
	elapsed		double precision NOT NULL CHECK (elapsed >= 0),
	judge		text NOT NULL CHECK (judge IN ('threshold', 'sequential')),
	canary_errors	double precision CHECK (canary_errors >= 0),
	canary_requests	double precision CHECK (canary_requests >= 0),
	control_errors	double precision CHECK (control_errors >= 0),
	control_requests double precision CHECK (control_requests >= 0),
	statistic	double precision,
	verdict		text NOT NULL CHECK (verdict IN ('pending', 'pass',
			    'fail', 'no_data')),
	PRIMARY KEY (deployment_id, seq)
);

-- Record one sample for a deployment this worker holds in checking_canary.
-- Returns the sample's seq, or NULL when the deployment is not held by
-- worker in that state (the sample is then dropped: the judge stops on its
-- next lease renewal anyway).
CREATE FUNCTION canary_record(deployment bigint, worker text, elapsed double precision,
    judge text, canary_errors double precision, canary_requests double precision,
    control_errors double precision, control_requests double precision,
    statistic double precision, verdict text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
DECLARE
	n	integer;
BEGIN
	PERFORM 1 FROM deployments d WHERE d.id = canary_record.deployment
	    AND d.worker_id = canary_record.worker
	    AND d.state = 'checking_canary';
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	SELECT coalesce(max(s.seq), 0) + 1 INTO n FROM canary_samples s
	    WHERE s.deployment_id = canary_record.deployment;
	-- A float that is not a number is no count: store it as missing.
	INSERT INTO canary_samples (deployment_id, seq, elapsed, judge,
	    canary_errors, canary_requests, control_errors, control_requests,
	    statistic, verdict)
	VALUES (canary_record.deployment, n, canary_record.elapsed,
	    canary_record.judge,
	    nullif(canary_record.canary_errors, 'NaN'),
	    nullif(canary_record.canary_requests, 'NaN'),
	    nullif(canary_record.control_errors, 'NaN'),
	    nullif(canary_record.control_requests, 'NaN'),
	    nullif(canary_record.statistic, 'NaN'), canary_record.verdict);
	RETURN n;
END
$$;

-- The samples of one deployment, oldest first, for the chart.
CREATE FUNCTION canary_samples(deployment bigint)
RETURNS TABLE (seq integer, at timestamptz, elapsed double precision,
    judge text, canary_errors double precision, canary_requests double precision,
    control_errors double precision, control_requests double precision,
    statistic double precision, verdict text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spiderpig, pg_temp AS $$
	SELECT s.seq, s.at, s.elapsed, s.judge, s.canary_errors,
	    s.canary_requests, s.control_errors, s.control_requests,
	    s.statistic, s.verdict
	FROM canary_samples s WHERE s.deployment_id = canary_samples.deployment
	ORDER BY s.seq;
$$;

REVOKE ALL ON FUNCTION canary_record(bigint, text, double precision, text,
    double precision, double precision, double precision, double precision,
    double precision, text), canary_samples(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION canary_record(bigint, text, double precision, text,
    double precision, double precision, double precision, double precision,
    double precision, text) TO spiderpig_worker;
GRANT EXECUTE ON FUNCTION canary_samples(bigint)
    TO spiderpig_web, spiderpig_admin;
