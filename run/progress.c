#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int enabled;
/* "\r\033[K" (back to column 0, clear the line) where the terminal has
 * it; on TERM=dumb (Emacs shells, some CI consoles) "\r" and blanks */
static int plain;
static unsigned cur_index, cur_total;
static struct timespec matrix_start; /* the first run of the matrix */
static char cur_backend[64], cur_workload[64];
static uint64_t cur_graphs;
static struct timespec cur_start;
static volatile sig_atomic_t interrupted;

void progress_init(int quiet)
{
	enabled = !quiet && isatty(STDERR_FILENO);
	const char *term = getenv("TERM");
	plain = !term || !*term || !strcmp(term, "dumb");
	matrix_start.tv_sec = 0;
}

static void clear_line(void)
{
	if (plain)
		fprintf(stderr, "\r%79s\r", "");
	else
		fputs("\r\033[K", stderr);
}

static double since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void print_eta(const char *what, double s)
{
	if (s < 90)
		fprintf(stderr, "%s %.0f s", what, s);
	else if (s < 5400)
		fprintf(stderr, "%s %.0f min", what, s / 60);
	else
		fprintf(stderr, "%s %.1f h", what, s / 3600);
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
	if (index <= 1 || !matrix_start.tv_sec)
		matrix_start = cur_start;
	if (enabled) {
		clear_line();
		fprintf(stderr, "[%u/%u] %s on %s", index, total, backend, workload);
	}
}

void progress_graphs(uint64_t done)
{
	if (!enabled)
		return;
	double el = since(&cur_start);
	clear_line();
	fprintf(stderr, "[%u/%u] %s on %s: %llu", cur_index, cur_total,
		cur_backend, cur_workload, (unsigned long long)done);
	if (!cur_graphs) {
		fprintf(stderr, " graphs");
		return;
	}
	fprintf(stderr, "/%llu graphs", (unsigned long long)cur_graphs);
	if (!done)
		return;
	print_eta(",", el * (double)(cur_graphs - done) / (double)done);
	/* the whole matrix: runs so far plus this one's fraction, assuming
	 * the runs left cost what the ones done did on average */
	double f = ((double)(cur_index - 1) + (double)done / (double)cur_graphs) /
		   (double)cur_total;
	if (cur_total > 1 && f > 0 && f < 1)
		print_eta(", all runs", since(&matrix_start) * (1 - f) / f);
}

void progress_run_end(void)
{
	if (enabled)
		clear_line();
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
