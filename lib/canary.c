/* canary.c: the canary judgements (canary.h), pure arithmetic.
 *
 * The sequential test. Given the errors of one interval, N = canary + other
 * errors, the canary's share is Binomial(N, p) with p = rho q / (rho q +
 * 1 - q), where q is the canary hosts' share of the exposure (requests) in
 * that interval and rho the ratio of their error rate to the others'. The
 * product over intervals of the likelihood ratio of rho against rho0 is a
 * nonnegative martingale under rho0 (and a supermartingale for any rho on
 * the far side of rho0), whatever N and q each interval brings; a mixture
 * over a grid of rho is one too. By Ville's inequality it exceeds 1/alpha
 * with probability at most alpha however often, and for however long, it is
 * looked at: that is what lets the judge look every few seconds and stop at
 * the first crossing.
 *   reject: rho0 = 1 against rho > 1; e_reject >= 1/alpha fails the canary.
 *   accept: rho0 = rho_bad against rho < rho_bad; e_accept >= 1/beta (and
 *           at least min_window seconds) passes it.
 * Neither bound by the end of the window fails it: with few errors neither
 * e-value moves, so sparse data cannot pass. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "canary.h"

/* The rate ratios mixed, equal weights: reject grid above 1, accept grid
 * as fractions of rho_bad (below it). */
static const double rej_grid[] = { 1.25, 1.5, 2, 3, 5, 10 };
static const double acc_frac[] = { 0.25, 0.375, 0.5, 0.625, 0.75 };

void
canary_params_default(struct canary_params *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = CANARY_SEQUENTIAL;
	p->window = 60;
	p->min_window = 20;
	p->threshold = 10;
	p->alpha = 0.01;
	p->beta = 0.01;
	p->rho_bad = 2;
}

int
canary_judge_init(struct canary_judge *j, const struct canary_params *p,
    char *why, size_t whysz)
{
	size_t	i;

	memset(j, 0, sizeof(*j));
	if (!(p->window > 0 && p->window <= 86400)) {
		snprintf(why, whysz, "window must be 1 to 86400 seconds");
		return -1;
	}
	if (!(p->min_window >= 0)) {
		snprintf(why, whysz, "min_window must not be negative");
		return -1;
	}
	if (!(p->threshold >= 1)) {
		snprintf(why, whysz, "threshold must be at least 1");
		return -1;
	}
	if (!(p->alpha > 0 && p->alpha < 0.5) ||
	    !(p->beta > 0 && p->beta < 0.5)) {
		snprintf(why, whysz, "alpha and beta must be in (0, 0.5)");
		return -1;
	}
	if (!(p->rho_bad > 1 && p->rho_bad <= 100)) {
		snprintf(why, whysz, "rho_bad must be above 1 (at most 100)");
		return -1;
	}
	j->p = *p;
	/* A window shorter than the default minimum: pass at its end. */
	if (j->p.min_window > j->p.window)
		j->p.min_window = j->p.window;
	for (i = 0; i < sizeof(rej_grid) / sizeof(rej_grid[0]); i++)
		j->rej_rho[j->nrej++] = rej_grid[i];
	for (i = 0; i < sizeof(acc_frac) / sizeof(acc_frac[0]); i++)
		j->acc_rho[j->nacc++] = acc_frac[i] * p->rho_bad;
	j->e_reject = 1;
	j->e_accept = 1;
	return 0;
}

/* log of the mean of exp(v[0..n)), without overflow. */
static double
log_mean_exp(const double *v, size_t n)
{
	double	m = v[0], s = 0;
	size_t	i;

	for (i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	for (i = 0; i < n; i++)
		s += exp(v[i] - m);
	return m + log(s / (double)n);
}

/* The canary's share of the errors when its rate is rho times the others'
 * and its share of the exposure is q. */
static double
share(double rho, double q)
{
	return rho * q / (rho * q + 1 - q);
}

/* log LR of rho against rho0 for ce canary and oe other errors. */
static double
llr(double rho, double rho0, double q, double ce, double oe)
{
	double	p = share(rho, q), p0 = share(rho0, q);

	return ce * log(p / p0) + oe * log((1 - p) / (1 - p0));
}

/* The counts are usable: finite, not negative, not below the last ones. */
static int
counts_ok(const struct canary_counts *c, const struct canary_counts *prev)
{
	const double	v[4] = { c->canary_errors, c->canary_requests,
			    c->control_errors, c->control_requests };
	const double	w[4] = { prev->canary_errors, prev->canary_requests,
			    prev->control_errors, prev->control_requests };
	int		i;

	for (i = 0; i < 4; i++)
		if (!isfinite(v[i]) || v[i] < 0 || v[i] < w[i])
			return 0;
	return 1;
}

/* Feed the counts since the last consumed ones into both e-processes. An
 * interval with errors but no exposure on one side cannot be split: it is
 * kept for the next look. */
static void
sequential_update(struct canary_judge *j, const struct canary_counts *c)
{
	double	dce = c->canary_errors - j->used.canary_errors;
	double	dcr = c->canary_requests - j->used.canary_requests;
	double	doe = c->control_errors - j->used.control_errors;
	double	dor = c->control_requests - j->used.control_requests;
	double	q;
	size_t	i;

	if (dce + doe > 0) {
		if (dcr <= 0 || dor <= 0)
			return;
		q = dcr / (dcr + dor);
		for (i = 0; i < j->nrej; i++)
			j->rej_llr[i] += llr(j->rej_rho[i], 1, q, dce, doe);
		for (i = 0; i < j->nacc; i++)
			j->acc_llr[i] += llr(j->acc_rho[i], j->p.rho_bad, q,
			    dce, doe);
	}
	j->used = *c;
	j->e_reject = exp(log_mean_exp(j->rej_llr, j->nrej));
	j->e_accept = exp(log_mean_exp(j->acc_llr, j->nacc));
}

enum canary_verdict
canary_judge_look(struct canary_judge *j, double elapsed,
    const struct canary_counts *c)
{
	int	ended = elapsed >= j->p.window;
	int	ok = c != NULL && counts_ok(c, &j->last);

	if (ok) {
		j->looks++;
		j->last_ok = elapsed;
		j->last = *c;
	}
	if (j->p.kind == CANARY_THRESHOLD) {
		if (ok && c->canary_errors >= j->p.threshold)
			return CANARY_FAIL;
		if (!ended)
			return CANARY_PENDING;
		/* No request counted: a silent exporter, not a quiet canary. */
		return ok && c->canary_requests > 0 ? CANARY_PASS :
		    CANARY_NO_DATA;
	}
	if (ok)
		sequential_update(j, c);
	if (j->e_reject >= 1 / j->p.alpha)
		return CANARY_FAIL;
	if (ok && j->e_accept >= 1 / j->p.beta && elapsed >= j->p.min_window)
		return CANARY_PASS;
	if (!ended)
		return CANARY_PENDING;
	return ok && j->looks > 0 ? CANARY_FAIL : CANARY_NO_DATA;
}

double
canary_judge_statistic(const struct canary_judge *j)
{
	if (j->p.kind == CANARY_THRESHOLD)
		return j->last.canary_errors;
	return j->e_reject;
}

/* errors per 100 exposure units, or -1 without exposure. */
static double
percent(double errors, double exposure)
{
	return exposure > 0 ? 100 * errors / exposure : -1;
}

/* "12.500%" or "no requests" into buf. */
static const char *
rate_text(double pct, const char *unit, char *buf, size_t bufsz)
{
	if (pct < 0)
		snprintf(buf, bufsz, "no %s", unit);
	else
		snprintf(buf, bufsz, "%.3f%%", pct);
	return buf;
}

void
canary_judge_explain(const struct canary_judge *j, double elapsed, char *buf,
    size_t bufsz)
{
	const struct canary_counts *c = &j->last;
	double	rc = percent(c->canary_errors, c->canary_requests);
	double	ro = percent(c->control_errors, c->control_requests);
	const char *u = j->p.exposure != NULL ? j->p.exposure : "requests";
	char	rct[32], rot[32];
	int	n;

	n = snprintf(buf, bufsz, "%s judge at %.1f s of %.0f s: canary %.0f "
	    "errors in %.0f %s (%s), others %.0f errors in %.0f %s (%s)",
	    canary_kind_name(j->p.kind), elapsed, j->p.window,
	    c->canary_errors, c->canary_requests, u,
	    rate_text(rc, u, rct, sizeof(rct)), c->control_errors,
	    c->control_requests, u, rate_text(ro, u, rot, sizeof(rot)));
	if (n < 0 || (size_t)n >= bufsz)
		return;
	if (j->p.kind == CANARY_THRESHOLD)
		snprintf(buf + n, bufsz - (size_t)n, "; statistic: canary "
		    "errors %.0f, fails at >= %.0f", c->canary_errors,
		    j->p.threshold);
	else
		snprintf(buf + n, bufsz - (size_t)n, "; rate ratio %.2f; "
		    "statistic: e-value %.3g against 'no worse' (fails at "
		    ">= %.0f), e-value %.3g against '%.3gx worse or more' "
		    "(passes at >= %.0f after %.0f s)",
		    rc > 0 && ro > 0 ? rc / ro : (rc > 0 ? INFINITY : 0),
		    j->e_reject, 1 / j->p.alpha, j->e_accept, j->p.rho_bad,
		    1 / j->p.beta, j->p.min_window);
}

const char *
canary_verdict_name(enum canary_verdict v)
{
	switch (v) {
	case CANARY_PENDING:
		return "pending";
	case CANARY_PASS:
		return "pass";
	case CANARY_FAIL:
		return "fail";
	case CANARY_NO_DATA:
		return "no_data";
	}
	return "unknown";
}

const char *
canary_kind_name(enum canary_kind k)
{
	return k == CANARY_THRESHOLD ? "threshold" : "sequential";
}
