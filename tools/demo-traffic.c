/* demo-traffic.c: the demo fleet's traffic generator: a steady request rate
 * on every demo server, loopback only, for a bounded time.
 *
 *   demo-traffic -r RATE -t SECONDS URL...
 *
 * Each URL (http://127.0.0.1:PORT/) gets RATE requests a second, spread
 * evenly, each for a random one of /p/00 ... /p/99: a release serves some
 * of those and answers 500 for the rest (tools/stack demo_release), so the
 * release decides each server's error rate. Stops after SECONDS (at most a
 * day) or on SIGTERM. Prints one line a minute with what it sent. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_URLS	32
#define MAX_FLIGHT	64

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Only http://127.0.0.1:PORT/ URLs: this never sends traffic elsewhere. */
static int
loopback_url(const char *u)
{
	const char	*p = "http://127.0.0.1:";
	size_t		 n = strlen(p);

	if (strncmp(u, p, n) != 0)
		return 0;
	u += n;
	if (strspn(u, "0123456789") == 0)
		return 0;
	u += strspn(u, "0123456789");
	return strcmp(u, "/") == 0;
}

int
main(int argc, char **argv)
{
	CURLM		*m;
	CURLMsg		*msg;
	CURL		*e;
	double		 rate = 0, secs = 0, start, next, gap, last_report;
	long		 sent = 0, errors = 0, failed = 0, code;
	char		 url[128];
	int		 ch, nurls, i = 0, running, left, flight = 0;

	while ((ch = getopt(argc, argv, "r:t:")) != -1) {
		if (ch == 'r')
			rate = atof(optarg);
		else if (ch == 't')
			secs = atof(optarg);
		else
			goto usage;
	}
	nurls = argc - optind;
	if (rate <= 0 || rate > 500 || secs <= 0 || secs > 86400 ||
	    nurls < 1 || nurls > MAX_URLS)
		goto usage;
	for (i = optind; i < argc; i++)
		if (!loopback_url(argv[i])) {
			fprintf(stderr, "demo-traffic: %s: only "
			    "http://127.0.0.1:PORT/\n", argv[i]);
			return 2;
		}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((m = curl_multi_init()) == NULL)
		return 1;
	gap = 1 / (rate * nurls);
	start = next = last_report = now_s();
	for (i = 0; !stop && now_s() - start < secs;) {
		while (now_s() >= next && flight < MAX_FLIGHT) {
			if ((e = curl_easy_init()) == NULL)
				break;
			snprintf(url, sizeof(url), "%sp/%02d",
			    argv[optind + i], rand() % 100);
			i = (i + 1) % nurls;
			curl_easy_setopt(e, CURLOPT_URL, url);
			curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
			curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
			curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
			curl_multi_add_handle(m, e);
			flight++;
			sent++;
			next += gap;
		}
		/* Behind by more than a second (a slow server): skip ahead
		 * rather than burst. */
		if (now_s() - next > 1)
			next = now_s();
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			code = 0;
			curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result != CURLE_OK)
				failed++;
			else if (code >= 500)
				errors++;
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			flight--;
		}
		if (now_s() - last_report >= 60) {
			printf("demo-traffic: %ld sent, %ld answered 5xx, %ld "
			    "without answer\n", sent, errors, failed);
			fflush(stdout);
			last_report = now_s();
		}
		curl_multi_poll(m, NULL, 0, 5, NULL);
	}
	curl_multi_cleanup(m);
	return 0;
usage:
	fprintf(stderr, "usage: demo-traffic -r RATE -t SECONDS "
	    "http://127.0.0.1:PORT/...\n");
	return 2;
}
