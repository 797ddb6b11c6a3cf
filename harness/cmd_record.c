/* jitmm record: the memory syscalls of a live process (and its threads),
 * taken by the ebpf probe's event stream, written as a trace with the
 * graph events reconstructed from them (workloads/recorder.c,
 * docs/recording.md). A command is started blocked on a pipe and released
 * only once the probe tracks it, so nothing it does is missed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../allocators/os.h"
#include "../probes/ebpf.h"
#include "../probes/procfs_sample.h"
#include "../common/atomic_write.h"
#include "../workloads/recorder.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm record [--duration S] -o OUT -- COMMAND [ARGS...]\n"
		"       jitmm record [--duration S] -o OUT --pid PID\n\n"
		"Records every mmap, munmap, mprotect and madvise of a process and its\n"
		"threads (eBPF, needs root) into a trace: the raw calls as `sys` lines\n"
		"and the graphs reconstructed from them: an anonymous mapping that is\n"
		"mprotected, only to r--, rw- or r-x, is one graph (segments from its\n"
		"mprotects, page-granular; finalize at its last mprotect; free when\n"
		"unmapped), or a pool when its mprotects form several contiguous runs,\n"
		"one graph each (as LLVM's mapper carves its 1 GiB reservation). See\n"
		"docs/recording.md.\n\n"
		"  -o, --out OUT      the trace (.zst/.xz: compressed); written only if complete\n"
		"                     (--output: the same)\n"
		"  -p, --pid PID      attach to a running process until it exits\n"
		"  -d, --duration S   stop recording after S seconds (the process keeps running)\n\n"
		"Exit status: 0 if the command exited 0 (or --pid), 1 if it failed or was\n"
		"killed, if events were lost, if nothing was recorded, or if no JIT graph\n"
		"was recorded while other processes made calls (the trace is still\n"
		"written; an out-of-process executor's memory is not followed: record it\n"
		"with --pid), 2 on usage errors, a command that cannot be run,\n"
		"or when recording is impossible here (not root, no BTF), 130 if\n"
		"interrupted by SIGINT or SIGTERM (the trace of what was recorded until\n"
		"then is written).\n\n"
		"examples:\n"
		"  jitmm record -o jit.jmt -- llvm-jitlink-14 main.o lib/*.o\n"
		"  jitmm record -o jit.jmt --pid 1234 --duration 10\n"
		"  jitmm run --workload trace:jit.jmt --backend null --replay literal\n");
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct sink {
	struct jm_recorder *rec;
	int failed;
};

/* Runs on the probe's consumer thread. */
static int on_call(void *ctx, const struct jm_ebpf_event *ev)
{
	struct sink *s = ctx;
	struct jm_rec_call c = {
		.t_ns = ev->t_ns, .tgid = ev->tgid, .tid = ev->tid, .sys = ev->sys,
		.map_count = ev->map_count, .addr = ev->addr, .len = ev->len,
		.prot = ev->prot, .flags = ev->flags, .ret = ev->ret,
	};
	if (jm_recorder_add(s->rec, &c) < 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for the command (pid is our child) or the attached process to end,
 * the duration to pass, or a signal. Returns 1 if it ended; *status is its
 * wait status (children only). */
static int wait_end(pid_t pid, int child, double duration, int *status)
{
	double end = duration > 0 ? now_s() + duration : 0;
	int pidfd = child ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		if (interrupted)
			break;
		if (end && now_s() >= end)
			break;
		if (child) {
			pid_t r = waitpid(pid, status, WNOHANG);
			if (r == pid)
				return 1;
			if (r < 0 && errno != EINTR)
				return 1;
			usleep(5000);
		} else if (pidfd >= 0) {
			struct pollfd pf = {.fd = pidfd, .events = POLLIN};
			if (poll(&pf, 1, 50) > 0) {
				close(pidfd);
				return 1;
			}
		} else {
			if (kill(pid, 0) < 0 && errno == ESRCH)
				return 1;
			usleep(50000);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

/* "recording:" + the command (or pid and comm), and the full command line */
static void fill_header(struct jm_trace_header *h, int argc, char **argv, char **cmd,
			pid_t pid)
{
	struct utsname u;
	snprintf(h->arch, sizeof(h->arch), "%.31s", uname(&u) == 0 ? u.machine : "unknown");
	h->page_size = jm_page_size();
	size_t n = (size_t)snprintf(h->source, sizeof(h->source), "recording:");
	if (cmd) {
		for (int i = 0; cmd[i] && n < sizeof(h->source); i++)
			n += (size_t)snprintf(h->source + n, sizeof(h->source) - n, "%s%s",
					      i ? " " : "", cmd[i]);
	} else {
		char path[64], comm[64] = "?";
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		snprintf(h->source + n, sizeof(h->source) - n, "pid %d (%s)", (int)pid, comm);
	}
	n = 0;
	for (int i = 0; i < argc && n < sizeof(h->made_by); i++)
		n += (size_t)snprintf(h->made_by + n, sizeof(h->made_by) - n, "%s%s",
				      i ? " " : "", i == 0 ? "jitmm record" : argv[i]);
	if (n >= sizeof(h->made_by))
		snprintf(h->made_by + sizeof(h->made_by) - 5, 5, " ...");
	if (strlen(h->source) >= sizeof(h->source) - 1)
		snprintf(h->source + sizeof(h->source) - 5, 5, " ...");
}

/* What a recording says about itself: threads interleaving in a pool, or
 * no graph (notes); nothing recorded at all, or no graph because another
 * process holds the JIT's memory (JM_EXIT_FAIL, with why). */
static int record_verdict(const struct jm_rec_summary *s)
{
	if (s->pools_threaded)
		fprintf(stderr, "jitmm: record: warning: %llu pool(s) were protected by more "
			"than one thread: graphs carved from them by contiguity may be split or "
			"merged (llvm-jitlink: -num-threads=0)\n",
			(unsigned long long)s->pools_threaded);
	if (!s->calls) {
		fprintf(stderr, "jitmm: record: the recording is empty: no memory syscall was "
			"seen\n");
		return JM_EXIT_FAIL;
	}
	if (!s->graphs && s->other_procs) {
		fprintf(stderr, "jitmm: record: no JIT graph in the recorded process, and %llu "
			"calls of other processes (not followed): an out-of-process executor "
			"(llvm-jitlink -oop-executor, shared memory) holds the JIT's memory; record "
			"the executor with --pid\n", (unsigned long long)s->other_procs);
		return JM_EXIT_FAIL;
	}
	if (!s->graphs)
		fprintf(stderr, "jitmm: record: note: no JIT graph was recognised (no anonymous "
			"mapping was mprotected to r--, rw- or r-x only: docs/recording.md)\n");
	return JM_EXIT_OK;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, 0, 'o'},
		{"output", required_argument, 0, 'o'}, /* its first spelling */
		{"pid", required_argument, 0, 'p'},
		{"duration", required_argument, 0, 'd'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *out = NULL;
	pid_t pid = 0;
	double duration = 0;
	int c;
	optind = 1;
	/* '+': options end at the command */
	while ((c = getopt_long(argc, argv, "+o:p:d:h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o': out = optarg; break;
		case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > 0x7fffffff)
				return jm_usage_error("record: --pid: '%s' is not a process id", optarg);
			pid = (pid_t)v;
			break;
		}
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0) || duration > 1e7)
				return jm_usage_error("record: --duration: '%s' is not a positive "
						      "number of seconds", optarg);
			break;
		case 'h': usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("record", argv);
		}
	}
	char **cmd = optind < argc ? argv + optind : NULL;
	if (!out)
		return jm_usage_error("record: missing -o OUT");
	if (!cmd == !pid)
		return jm_usage_error("record: give either --pid PID or -- COMMAND");
	if (pid && kill(pid, 0) < 0 && errno == ESRCH)
		return jm_usage_error("record: --pid %d: no such process", (int)pid);
	/* find out now, not after the recording, that OUT cannot be written */
	char werr[600];
	if (strcmp(out, "-") && jm_atomic_check(out, werr, sizeof(werr)) < 0)
		return jm_usage_error("record: cannot write there: %s", werr);

	struct jm_probe probe = {0};
	char why[300] = "", perr[300] = "";
	if (jm_probe_select("ebpf", &probe, why, sizeof(why), perr, sizeof(perr)) < 0)
		return jm_usage_error("record: cannot record here: %s", perr);

	int rc = JM_EXIT_USAGE;
	char err[600];
	int go[2] = {-1, -1}, execfail[2] = {-1, -1};
	pid_t target = pid;
	struct sink sink = {0};
	if (cmd) {
		/* execfail: closed by a successful exec (O_CLOEXEC), or the
		 * child's errno when the command cannot run */
		if (pipe2(go, O_CLOEXEC) < 0 || pipe2(execfail, O_CLOEXEC) < 0) {
			fprintf(stderr, "jitmm: record: pipe: %s\n", strerror(errno));
			goto out_probe;
		}
		fflush(NULL);
		target = fork();
		if (target < 0) {
			fprintf(stderr, "jitmm: record: fork: %s\n", strerror(errno));
			goto out_probe;
		}
		if (target == 0) {
			/* wait until the probe tracks this pid, then become cmd */
			char b;
			close(go[1]);
			close(execfail[0]);
			if (read(go[0], &b, 1) != 1)
				_exit(127);
			execvp(cmd[0], cmd);
			int e = errno;
			(void)!write(execfail[1], &e, sizeof(e));
			_exit(127);
		}
		close(go[0]);
		go[0] = -1;
		close(execfail[1]);
		execfail[1] = -1;
	}
	sink.rec = jm_recorder_new((uint32_t)target, err, sizeof(err));
	if (!sink.rec) {
		fprintf(stderr, "jitmm: record: %s\n", err);
		goto out_child;
	}
	jm_ebpf_set_event_handler(&probe, on_call, &sink);
	struct jm_trace_header h = {0};
	fill_header(&h, argc, argv, cmd, pid); /* while /proc/PID/comm exists */
	if (pid)
		jm_recorder_set_initial_vmas(sink.rec, jm_vma_count(pid));
	if (probe.ops->attach(&probe, target) < 0 || probe.ops->window_begin(&probe) < 0) {
		fprintf(stderr, "jitmm: record: cannot attach to pid %d: %s\n", (int)target,
			probe.err);
		goto out_child;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cmd) {
		if (write(go[1], "g", 1) != 1) {
			fprintf(stderr, "jitmm: record: cannot start the command\n");
			goto out_detach;
		}
		close(go[1]);
		go[1] = -1;
		/* a command that does not exist is a usage error, not a run that
		 * failed: nothing is recorded */
		int e = 0;
		ssize_t n;
		while ((n = read(execfail[0], &e, sizeof(e))) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(e)) {
			fprintf(stderr, "jitmm: record: cannot run %s: %s\n", cmd[0], strerror(e));
			goto out_detach;
		}
	}
	fprintf(stderr, "jitmm: recording pid %d\n", (int)target);
	int status = 0;
	int ended = wait_end(target, cmd != NULL, duration, &status);
	probe.ops->window_end(&probe);
	struct jm_probe_result res;
	int have_res = probe.ops->read(&probe, &res) == 0;
	probe.ops->detach(&probe);

	rc = JM_EXIT_OK;
	if (cmd && ended) {
		if (WIFEXITED(status)) {
			fprintf(stderr, "jitmm: record: %s exited with status %d\n", cmd[0],
				WEXITSTATUS(status));
			if (WEXITSTATUS(status))
				rc = JM_EXIT_FAIL;
		} else if (WIFSIGNALED(status)) {
			fprintf(stderr, "jitmm: record: %s was killed by signal %d\n", cmd[0],
				WTERMSIG(status));
			rc = JM_EXIT_FAIL;
		}
		target = 0; /* reaped */
	} else if (!ended) {
		fprintf(stderr, "jitmm: record: stopped %s; pid %d keeps running\n",
			interrupted ? "by a signal" : "after --duration", (int)target);
		if (cmd)
			target = 0; /* not ours to kill: it runs on */
	}
	if (sink.failed) {
		fprintf(stderr, "jitmm: record: spooling events failed (disk full?)\n");
		rc = JM_EXIT_FAIL;
		goto out_probe;
	}
	if (interrupted) /* the trace of what was seen is still written */
		rc = JM_EXIT_INTERRUPTED;
	if (have_res && res.events_dropped) {
		fprintf(stderr, "jitmm: record: %llu events lost (ring buffer full): the trace "
			"is incomplete\n", (unsigned long long)res.events_dropped);
		if (rc != JM_EXIT_INTERRUPTED)
			rc = JM_EXIT_FAIL;
	}
	struct jm_rec_summary sum;
	if (jm_recorder_write(sink.rec, out, &h, &sum, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: record: %s\n", err);
		rc = JM_EXIT_USAGE;
		goto out_probe;
	}
	if (strcmp(out, "-"))
		fprintf(stderr, "jitmm: wrote %s: %llu calls, %llu graphs (%llu mprotects, %lld "
			"VMAs in the JIT's mappings)\n", out, (unsigned long long)sum.calls,
			(unsigned long long)sum.graphs, (unsigned long long)sum.jit_mprotects,
			(long long)sum.jit_vmas);
	if (record_verdict(&sum) != JM_EXIT_OK && rc != JM_EXIT_INTERRUPTED)
		rc = JM_EXIT_FAIL;
	goto out_probe;

out_detach:
	probe.ops->detach(&probe);
out_child:
	if (cmd && target > 0) {
		/* never released (or released and then abandoned): do not leave it */
		if (go[1] >= 0)
			close(go[1]), go[1] = -1;
		kill(target, SIGKILL);
		waitpid(target, NULL, 0);
	}
out_probe:
	if (go[1] >= 0)
		close(go[1]);
	for (int i = 0; i < 2; i++)
		if (execfail[i] >= 0)
			close(execfail[i]);
	jm_recorder_free(sink.rec);
	probe.ops->close(&probe);
	return rc;
}
