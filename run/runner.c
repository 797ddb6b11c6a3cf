#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../workloads/workload.h"
#include "progress.h"
#include "run_json.h"

/* Child -> parent frames: one type byte, a 32-bit length, the payload.
 * The parent answers R, B and E with one byte, after which the child goes
 * on; the child is blocked in read() meanwhile, so a parent-side probe's
 * snapshot falls exactly on the window's edge. */
enum {
	MSG_READY = 'R',
	MSG_BEGIN = 'B',
	MSG_END = 'E',
	MSG_PROGRESS = 'P',
	MSG_RESULT = 'J',
};

struct child_ctx {
	int out, in;
};

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3); /* parent is gone */
		p += n;
		len -= (size_t)n;
	}
}

static void send_frame(int fd, char type, const void *payload, uint32_t len)
{
	char hdr[5];
	hdr[0] = type;
	memcpy(hdr + 1, &len, 4);
	write_all(fd, hdr, 5);
	if (len)
		write_all(fd, payload, len);
}

static void sync_with_parent(struct child_ctx *c, char type)
{
	send_frame(c->out, type, NULL, 0);
	char ack;
	ssize_t n;
	do
		n = read(c->in, &ack, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(3);
}

static void hook_ready(void *ctx) { sync_with_parent(ctx, MSG_READY); }
static void hook_begin(void *ctx) { sync_with_parent(ctx, MSG_BEGIN); }
static void hook_end(void *ctx) { sync_with_parent(ctx, MSG_END); }
static void hook_progress(void *ctx, uint64_t graphs)
{
	struct child_ctx *c = ctx;
	send_frame(c->out, MSG_PROGRESS, &graphs, sizeof(graphs));
}

static void __attribute__((noreturn))
child_main(const struct jm_run_spec *spec, int out, int in)
{
	struct child_ctx c = {out, in};
	struct jm_measure_hooks hooks = {
		.ctx = &c,
		.ready = hook_ready,
		.window_begin = hook_begin,
		.window_end = hook_end,
		.progress = progress_enabled() ? hook_progress : NULL,
	};
	jm_os_reset();
	json_object *run = jm_measure(spec, &hooks);
	const char *s = json_object_to_json_string_ext(run, JSON_C_TO_STRING_PLAIN);
	send_frame(out, MSG_RESULT, s, (uint32_t)strlen(s));
	_exit(0);
}

json_object *jm_backend_options_json(const struct jm_backend_spec *b)
{
	json_object *o = json_object_new_object();
	struct jm_optvals v;
	char err[200];
	if (jm_opts_parse(b->ops->options, b->optspec, &v, err, sizeof(err)) < 0)
		return o;
	for (int i = 0; i < v.n; i++)
		json_object_object_add(o, v.defs[i].name, json_object_new_string(v.text[i]));
	return o;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *probe_sys_name(int s)
{
	return jm_probe_sys_name((enum jm_probe_sys)s);
}

static json_object *sys_counts_json(const struct jm_sys_count *c)
{
	return jm_syscalls_json(c, JM_PROBE_NSYS, probe_sys_name);
}

/* Add what a parent-side probe measured to the run's metrics. */
static void merge_probe(json_object *run, struct jm_probe *probe,
			const struct jm_probe_result *r)
{
	json_object *mt;
	if (!json_object_object_get_ex(run, "metrics", &mt))
		return;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(probe->ops->name));
	if (r->have_syscalls) {
		json_object_object_add(p, "syscalls", sys_counts_json(r->window));
		json_object_object_add(p, "syscalls_whole_process", sys_counts_json(r->total));
	}
	if (r->have_vmas) {
		json_object_object_add(p, "vmas_after", json_object_new_int64((int64_t)r->vmas_after));
		json_object_object_add(p, "vmas_peak", json_object_new_int64((int64_t)r->vmas_peak));
		/* the kernel's own peak is exact; the samples may miss it */
		json_object_object_add(mt, "vmas_peak", json_object_new_int64((int64_t)r->vmas_peak));
		json_object_object_add(mt, "vmas_peak_source", json_object_new_string(probe->ops->name));
	}
	if (r->tgid)
		json_object_object_add(p, "pid", json_object_new_int((int)r->tgid));
	if (r->nprocs > 1) {
		/* it forked (an executor): syscalls/faults above cover all */
		json_object_object_add(p, "processes", json_object_new_int((int)r->nprocs));
		json_object_object_add(p, "syscalls_measured_process", sys_counts_json(r->window_main));
	}
	if (r->have_faults) {
		json_object_object_add(p, "page_faults", json_object_new_int64((int64_t)r->faults));
		json_object_object_add(p, "page_faults_whole_process", json_object_new_int64((int64_t)r->faults_total));
	}
	if (r->have_fault_split) {
		json_object_object_add(p, "page_faults_minor", json_object_new_int64((int64_t)r->faults_minor));
		json_object_object_add(p, "page_faults_major", json_object_new_int64((int64_t)r->faults_major));
	}
	if (r->have_fault_access) {
		static const char *const acc[3] = {"read", "write", "exec"};
		json_object *fa = json_object_new_object();
		for (int i = 0; i < 3; i++)
			json_object_object_add(fa, acc[i], json_object_new_int64((int64_t)r->faults_by_access[i]));
		json_object_object_add(p, "page_faults_by_access", fa);
	}
	if (r->have_fault_classes) {
		static const char *const cls[4] = {"rx", "ro", "rw", "other"};
		json_object *fc = json_object_new_object();
		for (int i = 0; i < 4; i++)
			json_object_object_add(fc, cls[i], json_object_new_int64((int64_t)r->faults_by_class[i]));
		json_object_object_add(p, "page_faults_by_prot", fc);
	}
	if (r->have_events) {
		json_object_object_add(p, "events_recorded", json_object_new_int64((int64_t)r->events_recorded));
		json_object_object_add(p, "events_dropped", json_object_new_int64((int64_t)r->events_dropped));
	}
	json_object_object_add(mt, "probe", p);
}

/* In the child, first thing: it dies with the parent (a SIGKILLed jitmm
 * must not leave a run behind, paused or running on, with the eBPF probe
 * held attached: issue 11), and it keeps no descriptor of the parent's but
 * stdio and its two pipe ends. The probe's programs and links are then held
 * by the parent alone and detach when it dies. */
static void child_detach(pid_t parent, int keep_a, int keep_b)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* it died before the prctl */
		_exit(3);
	int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
}

json_object *jm_run_one(const struct jm_run_spec *spec, struct jm_probe *probe)
{
	int c2p[2], p2c[2];
	if (pipe2(c2p, O_CLOEXEC) < 0)
		return jm_failed_run_json("fork", strerror(errno));
	if (pipe2(p2c, O_CLOEXEC) < 0) {
		close(c2p[0]);
		close(c2p[1]);
		return jm_failed_run_json("fork", strerror(errno));
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(c2p[0]); close(c2p[1]); close(p2c[0]); close(p2c[1]);
		return jm_failed_run_json("fork", strerror(e));
	}
	if (pid == 0) {
		child_detach(parent, c2p[1], p2c[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		child_main(spec, c2p[1], p2c[0]);
	}
	close(c2p[1]);
	close(p2c[0]);

	json_object *run = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int attached = 0, timed_out = 0;
	char probe_err[300] = "";
	struct jm_probe_result pres;
	memset(&pres, 0, sizeof(pres));
	uint64_t deadline = spec->timeout_s ? mono_ms() + spec->timeout_s * 1000ull : 0;
	for (;;) {
		/* parse every complete frame in the buffer */
		while (len >= 5) {
			uint32_t plen;
			memcpy(&plen, buf + 1, 4);
			if (len < 5 + (size_t)plen)
				break;
			char type = buf[0];
			char ack = 'k';
			if (type == MSG_READY) {
				if (probe && probe->ops->attach) {
					if (probe->ops->attach(probe, pid) == 0)
						attached = 1;
					else
						snprintf(probe_err, sizeof(probe_err), "%s", probe->err);
				}
				(void)!write(p2c[1], &ack, 1);
			} else if (type == MSG_BEGIN) {
				if (attached && probe->ops->window_begin)
					probe->ops->window_begin(probe);
				(void)!write(p2c[1], &ack, 1);
			} else if (type == MSG_END) {
				if (attached && probe->ops->window_end)
					probe->ops->window_end(probe);
				(void)!write(p2c[1], &ack, 1);
			} else if (type == MSG_PROGRESS && plen == 8) {
				uint64_t g;
				memcpy(&g, buf + 5, 8);
				progress_graphs(g);
			} else if (type == MSG_RESULT) {
				json_tokener *tok = json_tokener_new();
				json_object *o = json_tokener_parse_ex(tok, buf + 5, (int)plen);
				json_tokener_free(tok);
				if (o) {
					if (run)
						json_object_put(run);
					run = o;
				}
			}
			memmove(buf, buf + 5 + plen, len - 5 - plen);
			len -= 5 + plen;
		}
		/* a signal that arrived outside poll() (while forking, parsing)
		 * gives no EINTR: look at the flag on every pass, and wake up
		 * at least every 250 ms to do so */
		if (progress_interrupted()) {
			kill(pid, SIGKILL);
			break;
		}
		int wait_ms = 250;
		if (deadline) {
			uint64_t now = mono_ms();
			if (now >= deadline) {
				timed_out = 1;
				kill(pid, SIGKILL);
				break;
			}
			if (deadline - now < (uint64_t)wait_ms)
				wait_ms = (int)(deadline - now);
		}
		struct pollfd pfd = {c2p[0], POLLIN, 0};
		int pr = poll(&pfd, 1, wait_ms);
		if (pr < 0 && errno == EINTR) {
			if (progress_interrupted()) {
				kill(pid, SIGKILL);
				break;
			}
			continue;
		}
		if (pr == 0)
			continue;
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 16;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(c2p[0], buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* child closed its end: exited or died */
		len += (size_t)n;
	}
	free(buf);
	close(c2p[0]);
	close(p2c[1]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (attached) {
		if (probe->ops->read && probe->ops->read(probe, &pres) == 0) {
			if (run)
				merge_probe(run, probe, &pres);
		} else if (probe->ops->read && !probe_err[0]) {
			snprintf(probe_err, sizeof(probe_err), "%s", probe->err);
		}
		if (probe->ops->detach)
			probe->ops->detach(probe);
	}

	char msg[300];
	if (timed_out) {
		snprintf(msg, sizeof(msg), "timed out after %u s; killed", spec->timeout_s);
		if (run)
			json_object_put(run);
		run = jm_failed_run_json("timeout", msg);
	} else if (progress_interrupted() && !run) {
		run = jm_failed_run_json("interrupted", "interrupted by a signal");
		json_object_object_add(run, "status", json_object_new_string("interrupted"));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		snprintf(msg, sizeof(msg), "child killed by signal %d (%s)", sig,
			 strsignal(sig));
		if (run)
			json_object_put(run);
		run = jm_failed_run_json("crash", msg);
		json_object *e;
		json_object_object_get_ex(run, "error", &e);
		json_object_object_add(e, "signal", json_object_new_int(sig));
	} else if (!run) {
		snprintf(msg, sizeof(msg), "child exited with status %d and no result",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		run = jm_failed_run_json("crash", msg);
	}
	if (probe_err[0]) {
		json_object *mt;
		if (json_object_object_get_ex(run, "metrics", &mt))
			json_object_object_add(mt, "probe_error", json_object_new_string(probe_err));
	}

	/* identity of the run, first in the object for readability */
	json_object *out = json_object_new_object();
	json_object_object_add(out, "backend", json_object_new_string(spec->backend.ops->name));
	json_object_object_add(out, "backend_options", jm_backend_options_json(&spec->backend));
	json_object *wspec = NULL;
	const char *wl = spec->workload;
	char wname[64];
	snprintf(wname, sizeof(wname), "%.*s", (int)strcspn(wl, ":"), wl);
	if (!strncmp(wl, "trace:", 6)) { /* traces are told apart by file name */
		const char *base = strrchr(wl, '/');
		snprintf(wname, sizeof(wname), "trace:%.57s", base ? base + 1 : wl + 6);
	}
	json_object_object_add(out, "workload", json_object_new_string(wname));
	if (json_object_object_get_ex(run, "workload_spec", &wspec)) {
		json_object_object_add(out, "workload_spec", json_object_get(wspec));
	} else {
		/* the child died before reporting: resolve the spec here so the
		 * run groups with its repetitions and peers */
		struct jm_workload w;
		char werr[256];
		if (jm_workload_open(wl, spec->seed, &w, werr, sizeof(werr)) == 0) {
			json_object_object_add(out, "workload_spec", json_object_new_string(w.spec));
			jm_workload_close(&w);
		} else {
			json_object_object_add(out, "workload_spec", json_object_new_string(wl));
		}
	}
	json_object_object_add(out, "repetition", json_object_new_int((int)spec->repetition));
	json_object_object_foreach(run, key, val) {
		if (!strcmp(key, "workload_spec"))
			continue;
		json_object_object_add(out, key, json_object_get(val));
	}
	json_object_put(run);
	return out;
}
