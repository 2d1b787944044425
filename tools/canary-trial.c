/* canary-trial.c: simulate good and bad releases against both canary
 * judgements (lib/canary.c, the code the worker runs) and print detection
 * rate, median and p95 time to detect and the false rollback rate.
 *
 *   canary-trial [-m] [-n RELEASES] [-s SEED]
 *
 * -m prints one tab-separated line per row instead of the table (fleet
 * key, judgement, settings, caught %, median s, p95 s, false rollback %),
 * for tools/canary-trial to put beside the real runs.
 *
 * Each release is Poisson error streams at the demo fleet's rates (2
 * canaries, 4 other hosts, 25 requests/s each), looked at every 2 s, as the
 * worker looks at Prometheus. Two fleets: "3x" (3 errors/s per host, a bad
 * release makes the canaries' 9/s) and "sparse" (1/s, bad 5/s). The
 * threshold judgement waits scap's 20 s with the threshold scap's
 * analyze-logstash would suggest for that fleet: ceil(mean + 3 sigma) of
 * the canaries' errors in 20 s. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canary.h"

#define TRIAL_CANARIES	2
#define TRIAL_OTHERS	4
#define TRIAL_RPS	25.0	/* requests per second per host */
#define TRIAL_LOOK	2.0	/* seconds between looks */
#define TRIAL_LIMIT	60.0	/* a bad release must be caught by then */

struct scenario {
	const char	*key;	/* "3x" or "sparse" */
	const char	*name;
	double		 base;	/* errors/s per host, good release */
	double		 bad;	/* errors/s per canary, bad release */
};

static const struct scenario scenarios[] = {
	{ .key = "3x", .name = "3x (3/s -> 9/s)", .base = 3, .bad = 9 },
	{ .key = "sparse", .name = "sparse (1/s -> 5/s)", .base = 1, .bad = 5 },
};

static uint64_t rng_s[4];

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fast, good enough for a simulation, reproducible. */
static uint64_t
rng_next(void)
{
	uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return r;
}

static void
rng_seed(uint64_t seed)
{
	int	i;

	for (i = 0; i < 4; i++) {
		seed += 0x9e3779b97f4a7c15ULL;
		uint64_t z = seed;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		rng_s[i] = z ^ (z >> 31);
	}
}

static double
rng_unit(void)
{
	return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* Poisson(mean) by inversion (means here stay below a few hundred). */
static double
poisson(double mean)
{
	double	p = exp(-mean), s = p, u = rng_unit();
	double	k = 0;

	if (mean > 500)
		return floor(mean + sqrt(mean) * sqrt(-2 * log(rng_unit())) *
		    cos(2 * M_PI * rng_unit()) + 0.5);
	while (u > s && k < 10 * mean + 100) {
		k++;
		p *= mean / k;
		s += p;
	}
	return k;
}

/* Run one release through judge p; returns the verdict and sets *t. */
static enum canary_verdict
one_release(const struct canary_params *p, double canary_rate,
    double other_rate, double *t)
{
	struct canary_judge	 j;
	struct canary_counts	 c = { 0, 0, 0, 0 };
	enum canary_verdict	 v;
	char			 why[128];
	double			 el = 0;

	if (canary_judge_init(&j, p, why, sizeof(why)) == -1) {
		fprintf(stderr, "canary-trial: %s\n", why);
		exit(1);
	}
	for (;;) {
		el += TRIAL_LOOK;
		c.canary_errors += poisson(canary_rate * TRIAL_CANARIES *
		    TRIAL_LOOK);
		c.control_errors += poisson(other_rate * TRIAL_OTHERS *
		    TRIAL_LOOK);
		c.canary_requests += TRIAL_RPS * TRIAL_CANARIES * TRIAL_LOOK;
		c.control_requests += TRIAL_RPS * TRIAL_OTHERS * TRIAL_LOOK;
		if ((v = canary_judge_look(&j, el, &c)) != CANARY_PENDING)
			break;
	}
	*t = el;
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The params of judge kind for scenario s. */
static void
judge_params(enum canary_kind kind, const struct scenario *s,
    struct canary_params *p)
{
	double	mean = s->base * TRIAL_CANARIES * 20;

	canary_params_default(p);
	p->kind = kind;
	if (kind == CANARY_THRESHOLD) {
		p->window = 20;
		p->min_window = 0;
		p->threshold = ceil(mean + 3 * sqrt(mean));
	}
}

int
main(int argc, char **argv)
{
	int		 n = 10000, ch, i, k, machine = 0;
	uint64_t	 seed = 20261129;
	size_t		 si;
	double		*times;
	const enum canary_kind kinds[] = { CANARY_THRESHOLD, CANARY_SEQUENTIAL };

	while ((ch = getopt(argc, argv, "mn:s:")) != -1) {
		if (ch == 'm')
			machine = 1;
		else if (ch == 'n')
			n = atoi(optarg);
		else if (ch == 's')
			seed = strtoull(optarg, NULL, 10);
		else {
			fprintf(stderr, "usage: canary-trial [-n N] [-s SEED]\n");
			return 2;
		}
	}
	if (n < 1 || n > 10000000)
		return 2;
	if ((times = calloc((size_t)n, sizeof(*times))) == NULL)
		return 1;
	rng_seed(seed);
	if (!machine) {
		printf("simulation: %d good and %d bad releases per row; 2 canaries, "
		    "4 others, %.0f req/s per host, a look every %.0f s (seed %llu)\n",
		    n, n, TRIAL_RPS, TRIAL_LOOK, (unsigned long long)seed);
		printf("%-22s %-11s %-22s %9s %8s %8s %9s\n", "fleet", "judgement",
		    "settings", "caught", "median", "p95", "false rb");
	}
	for (si = 0; si < sizeof(scenarios) / sizeof(scenarios[0]); si++) {
		const struct scenario *s = &scenarios[si];

		for (k = 0; k < 2; k++) {
			struct canary_params p;
			char	 set[64];
			int	 caught = 0, falses = 0, m = 0;
			double	 t;

			judge_params(kinds[k], s, &p);
			for (i = 0; i < n; i++) {
				if (one_release(&p, s->bad, s->base, &t) !=
				    CANARY_PASS && t <= TRIAL_LIMIT) {
					caught++;
					times[m++] = t;
				}
				if (one_release(&p, s->base, s->base, &t) !=
				    CANARY_PASS)
					falses++;
			}
			qsort(times, (size_t)m, sizeof(*times), cmp_double);
			if (kinds[k] == CANARY_THRESHOLD)
				snprintf(set, sizeof(set), "%.0f s, >= %.0f",
				    p.window, p.threshold);
			else
				snprintf(set, sizeof(set), "a=%.2g rho=%.3g "
				    "<=%.0fs", p.alpha, p.rho_bad, p.window);
			printf(machine ? "%s\t%s\t%s\t%.2f\t%.0f\t%.0f\t%.2f\n" :
			    "%-22s %-11s %-22s %8.2f%% %7.0fs %7.0fs %8.2f%%\n",
			    machine ? s->key : s->name, canary_kind_name(kinds[k]),
			    set, 100.0 * caught / n,
			    m ? times[m / 2] : NAN,
			    m ? times[(size_t)(0.95 * (m - 1))] : NAN,
			    100.0 * falses / n);
		}
	}
	free(times);
	return 0;
}
