#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int enabled;
static unsigned cur_index, cur_total;
static char cur_backend[64], cur_workload[64];
static uint64_t cur_graphs;
static struct timespec cur_start;
static volatile sig_atomic_t interrupted;

void progress_init(int quiet)
{
	enabled = !quiet && isatty(STDERR_FILENO);
}

int progress_enabled(void)
{
	return enabled;
}

void progress_run_start(unsigned index, unsigned total, const char *backend,
			const char *workload, uint64_t graphs)
{
	cur_index = index;
	cur_total = total;
	snprintf(cur_backend, sizeof(cur_backend), "%s", backend);
	snprintf(cur_workload, sizeof(cur_workload), "%s", workload);
	cur_graphs = graphs;
	clock_gettime(CLOCK_MONOTONIC, &cur_start);
	if (enabled)
		fprintf(stderr, "\r\033[K[%u/%u] %s on %s", index, total, backend,
			workload);
}

void progress_graphs(uint64_t done)
{
	if (!enabled)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double el = (double)(now.tv_sec - cur_start.tv_sec) +
		    (double)(now.tv_nsec - cur_start.tv_nsec) / 1e9;
	fprintf(stderr, "\r\033[K[%u/%u] %s on %s: %llu", cur_index, cur_total,
		cur_backend, cur_workload, (unsigned long long)done);
	if (cur_graphs) {
		double eta = done ? el * (double)(cur_graphs - done) / (double)done : 0;
		fprintf(stderr, "/%llu graphs, ETA %.0f s",
			(unsigned long long)cur_graphs, eta);
	} else {
		fprintf(stderr, " graphs");
	}
}

void progress_run_end(void)
{
	if (enabled)
		fprintf(stderr, "\r\033[K");
}

static void on_signal(int sig)
{
	interrupted = sig;
}

void progress_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() in the runner must see EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int progress_interrupted(void)
{
	return interrupted != 0;
}
