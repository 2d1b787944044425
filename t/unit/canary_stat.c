/* canary_stat.c: the canary judgements (lib/canary.c): the sequential
 * test's false alarm rate under the null however often it looks, its
 * power, the rules for missing, falling and unsplittable counts, and the
 * threshold judgement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "canary.h"
#include "tap.h"

static unsigned long long rng = 88172645463325252ULL;

static double
unit(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) * 0x1.0p-53;
}

static double
poisson(double mean)
{
	double	 l = exp(-mean), p = 1;
	int	 k = 0;

	do {
		k++;
		p *= unit();
	} while (p > l);
	return k - 1;
}

/* Run one release (canary and other rates, errors/s for 2 and 4 hosts),
 * looking every `look` seconds; returns the verdict. */
static enum canary_verdict
release(const struct canary_params *p, double cr, double orate, double look,
    double *t)
{
	struct canary_judge	 j;
	struct canary_counts	 c = { 0, 0, 0, 0 };
	enum canary_verdict	 v;
	char			 why[64];
	double			 el = 0;

	canary_judge_init(&j, p, why, sizeof(why));
	do {
		el += look;
		c.canary_errors += poisson(cr * 2 * look);
		c.control_errors += poisson(orate * 4 * look);
		c.canary_requests += 50 * look;
		c.control_requests += 100 * look;
	} while ((v = canary_judge_look(&j, el, &c)) == CANARY_PENDING);
	*t = el;
	return v;
}

int
main(void)
{
	struct canary_params	 p;
	struct canary_judge	 j;
	struct canary_counts	 c;
	char			 why[128];
	double			 t;
	int			 i, fails = 0, caught = 0, passes = 0;

	canary_params_default(&p);
	ok(canary_judge_init(&j, &p, why, sizeof(why)) == 0, "the defaults are valid");
	p.alpha = 0.6;
	ok(canary_judge_init(&j, &p, why, sizeof(why)) == -1, "alpha above 0.5 is refused: %s", why);
	canary_params_default(&p);
	p.rho_bad = 1;
	ok(canary_judge_init(&j, &p, why, sizeof(why)) == -1, "rho_bad 1 is refused: %s", why);

	/* Ville: the reject e-process crosses 1/alpha under the null with
	 * probability at most alpha however many looks. 0.2 s looks for 600
	 * s (3000 looks) and no accept bound (an unreachable beta) so every
	 * run looks to the end. */
	canary_params_default(&p);
	p.window = 600;
	p.beta = 1e-9;
	p.min_window = 600;
	for (i = 0; i < 1000; i++)
		if (release(&p, 3, 3, 0.2, &t) == CANARY_FAIL && t < 600)
			fails++;
	ok(fails <= 10 + 3 * sqrt(10), "false alarms under the null with "
	    "3000 looks each: %d of 1000 (alpha 1%%)", fails);

	canary_params_default(&p);
	for (i = 0; i < 1000; i++) {
		if (release(&p, 9, 3, 2, &t) == CANARY_FAIL && t <= 60)
			caught++;
		if (release(&p, 1, 1, 2, &t) == CANARY_PASS)
			passes++;
	}
	ok(caught >= 990, "3x canaries caught within 60 s: %d of 1000", caught);
	ok(passes >= 990, "sparse good canaries (1 error/s) pass: %d of 1000", passes);
	for (i = 0, caught = 0; i < 1000; i++)
		if (release(&p, 5, 1, 2, &t) == CANARY_FAIL && t <= 60)
			caught++;
	ok(caught >= 990, "sparse 1/s -> 5/s caught within 60 s: %d of 1000", caught);
	ok(release(&p, 0, 0, 2, &t) == CANARY_FAIL && t >= 60,
	    "no errors at all: inconclusive at the window's end, a failure");

	canary_params_default(&p);
	p.window = 10;
	canary_judge_init(&j, &p, why, sizeof(why));
	ok(canary_judge_look(&j, 2, NULL) == CANARY_PENDING, "a look without data waits");
	ok(canary_judge_look(&j, 10, NULL) == CANARY_NO_DATA, "no data by the end: no_data");

	canary_judge_init(&j, &p, why, sizeof(why));
	c = (struct canary_counts){ 10, 100, 10, 200 };
	canary_judge_look(&j, 2, &c);
	c = (struct canary_counts){ 5, 200, 20, 400 };
	ok(canary_judge_look(&j, 4, &c) == CANARY_PENDING && j.last.canary_errors == 10,
	    "counts that go down are not data");
	c = (struct canary_counts){ 200, 100, 10, 200 };
	t = j.e_reject;
	ok(canary_judge_look(&j, 6, &c) == CANARY_PENDING && j.e_reject == t &&
	    j.used.canary_errors == 10, "errors without new exposure are kept for later");
	c.canary_requests = 150;
	c.control_requests = 300;
	ok(canary_judge_look(&j, 8, &c) == CANARY_FAIL, "and counted once exposure comes");
	c.canary_errors = NAN;
	canary_judge_init(&j, &p, why, sizeof(why));
	ok(canary_judge_look(&j, 10, &c) == CANARY_NO_DATA, "NaN counts are no data");

	canary_params_default(&p);
	p.kind = CANARY_THRESHOLD;
	p.window = 20;
	p.threshold = 10;
	canary_judge_init(&j, &p, why, sizeof(why));
	c = (struct canary_counts){ 9, 100, 0, 0 };
	ok(canary_judge_look(&j, 5, &c) == CANARY_PENDING, "threshold: below it, wait");
	ok(canary_judge_look(&j, 20, &c) == CANARY_PASS, "below it at the end: pass");
	canary_judge_init(&j, &p, why, sizeof(why));
	c.canary_errors = 10;
	ok(canary_judge_look(&j, 3, &c) == CANARY_FAIL, "reaching it fails at once");
	canary_judge_init(&j, &p, why, sizeof(why));
	c = (struct canary_counts){ 0, 0, 0, 0 };
	ok(canary_judge_look(&j, 20, &c) == CANARY_NO_DATA, "no request counted: no_data, not a pass");
	canary_judge_explain(&j, 20, why, sizeof(why));
	ok(strstr(why, "threshold judge at 20.0 s of 20 s: canary 0 errors in 0 "
	    "requests (no requests)") != NULL, "explain: %s", why);
	return tap_done();
}
