/* canary.h: the canary judge's two judgements, with no I/O: scap's fixed
 * threshold and an anytime-valid sequential test of the canary hosts' error
 * rate against the other hosts'. The worker (worker/canary.c) and the trial
 * (tools/canary-trial.c) both feed it counts, so the trial measures the very
 * code that decides. */
#ifndef SPIDERPIG_CANARY_H
#define SPIDERPIG_CANARY_H

#include <stddef.h>

enum canary_kind {
	CANARY_THRESHOLD,	/* canary errors since sync >= threshold: fail */
	CANARY_SEQUENTIAL,	/* rate ratio canary/control, e-processes */
};

enum canary_verdict {
	CANARY_PENDING,		/* look again */
	CANARY_PASS,
	CANARY_FAIL,		/* the canaries are worse */
	CANARY_NO_DATA,		/* the window ended without enough data */
};

/* Cumulative counts since the canaries were synced. requests are the
 * exposure: requests served, or host-seconds when the source counts
 * errors only. */
struct canary_counts {
	double	canary_errors;
	double	canary_requests;
	double	control_errors;
	double	control_requests;
};

#define CANARY_GRID	8

/* The settings of one judge; canary_judge_init() checks them. */
struct canary_params {
	enum canary_kind kind;
	double	window;		/* seconds: the longest it looks */
	double	min_window;	/* seconds before it may pass (sequential) */
	double	threshold;	/* errors (threshold judgement) */
	double	alpha;		/* false rollback bound (sequential) */
	double	beta;		/* bound on passing a canary at rho_bad */
	double	rho_bad;	/* a rate ratio that must not pass (> 1) */
	/* What the exposure counts, for the log: "requests" (the default
	 * when NULL) or "host-seconds". */
	const char *exposure;
};

/* One judge in progress. Plain data: copy or memset freely. */
struct canary_judge {
	struct canary_params p;
	/* Sequential: the counts consumed so far and the log likelihood
	 * ratio of each mixture component of both e-processes. */
	struct canary_counts used;
	int	 looks;			/* successful looks */
	double	 last_ok;		/* elapsed of the last successful look */
	double	 rej_rho[CANARY_GRID], rej_llr[CANARY_GRID];
	double	 acc_rho[CANARY_GRID], acc_llr[CANARY_GRID];
	size_t	 nrej, nacc;
	double	 e_reject;		/* e-value against "no worse" */
	double	 e_accept;		/* e-value against "rho_bad or worse" */
	struct canary_counts last;	/* the last counts seen */
};

/* Defaults: sequential, 60 s window, 20 s minimum, alpha = beta = 0.01,
 * rho_bad 2, threshold 10 (scap's for canaries). */
void		 canary_params_default(struct canary_params *);

/* Start a judge. Returns 0, or -1 (with a reason in why) when the params
 * are out of range. */
int		 canary_judge_init(struct canary_judge *,
		    const struct canary_params *, char *why, size_t whysz);

/*
 * One look at elapsed seconds after the sync. c: the cumulative counts, or
 * NULL when the look found no data (endpoint down, empty answer). Counts
 * that go down are data errors: treated as no data. Returns the verdict so
 * far; CANARY_PENDING until one of the bounds is reached or the window
 * ends. At the end of the window a judge that has not passed fails
 * (CANARY_NO_DATA when no look succeeded or the last one failed, else
 * CANARY_FAIL): missing or sparse data never passes.
 */
enum canary_verdict canary_judge_look(struct canary_judge *, double elapsed,
		    const struct canary_counts *c);

/* The judgement's statistic: the reject e-value (sequential) or the
 * canary error count (threshold). */
double		 canary_judge_statistic(const struct canary_judge *);

/* One line that explains the state of the judge (counts, rates, the
 * statistic and its bounds) into buf. */
void		 canary_judge_explain(const struct canary_judge *,
		    double elapsed, char *buf, size_t bufsz);

const char	*canary_verdict_name(enum canary_verdict);
const char	*canary_kind_name(enum canary_kind);

#endif
