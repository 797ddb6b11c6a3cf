/* What the loaded ebpf probe costs a process it does not track: ns per
 * syscall (getppid, and mprotect which the probe counts for tracked
 * processes) before and after the probe is opened. Built and run by
 * scripts/bench (section probes); prints one line per syscall. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../probes/probe.h"

static double ns_per_call(int which, long n)
{
	static char *page;
	if (!page)
		page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		if (which == 0)
			syscall(SYS_getppid);
		else
			mprotect(page, 4096, i & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
}

static double best_of(int which, long n)
{
	double best = 1e18;
	for (int r = 0; r < 5; r++) {
		double v = ns_per_call(which, n);
		best = v < best ? v : best;
	}
	return best;
}

int main(void)
{
	const long n = 500000;
	const char *names[2] = {"getppid", "mprotect"};
	double before[2], after[2];
	for (int w = 0; w < 2; w++)
		before[w] = best_of(w, n);
	struct jm_probe p;
	char why[256], err[300];
	if (jm_probe_select("ebpf", &p, why, sizeof(why), err, sizeof(err)) < 0) {
		printf("untracked process: ebpf unavailable: %s\n", err);
		return 0;
	}
	/* track someone else (our parent shell), so the programs run their
	 * lookup for this process and miss, as for any untracked process */
	p.ops->attach(&p, getppid());
	for (int w = 0; w < 2; w++)
		after[w] = best_of(w, n);
	p.ops->detach(&p);
	p.ops->close(&p);
	for (int w = 0; w < 2; w++)
		printf("untracked process, %-8s %7.1f ns/call without probe, %7.1f with "
		       "(+%.1f ns, %.3fx)\n", names[w], before[w], after[w],
		       after[w] - before[w], after[w] / before[w]);
	return 0;
}
