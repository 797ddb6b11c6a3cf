/* jitmm record: graph reconstruction from hand-made call sequences (no
 * root needed), and end to end with eBPF (root): a small C program built
 * here mmaps and mprotects a known pattern; its recording must hold
 * exactly the graphs of that pattern, report its exit status, and replay
 * (--replay literal) with the recorded VMA delta. */
#include "testutil.h"

#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../allocators/os.h"
#include "../probes/probe.h"
#include "../workloads/recorder.h"
#include "../workloads/trace.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/jm-record-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

/* every line of the trace parses and follows the graph protocol */
static void assert_valid(const char *path)
{
	char err[300];
	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	struct jm_event ev;
	int rc;
	while ((rc = jm_trace_read(r, &ev)) == 1)
		;
	if (rc < 0)
		fail_msg("%s", jm_trace_error(r));
	jm_trace_close(r);
}

#define PS 4096ull
#define BASE 0x300000000000ull

static void add(struct jm_recorder *r, uint32_t tgid, enum jm_probe_sys sys, uint64_t addr,
		uint64_t len, uint64_t prot, uint64_t flags, int64_t ret, uint32_t vmas)
{
	static uint64_t t = 1000;
	struct jm_rec_call c = {.t_ns = t += 10, .tgid = tgid, .tid = tgid, .sys = sys,
				.map_count = vmas, .addr = addr, .len = len, .prot = prot,
				.flags = flags, .ret = ret};
	assert_int_equal(jm_recorder_add(r, &c), 0);
}

/* Writes r as DIR/NAME.jmt (source recording:NAME) and frees it. */
static void write_recording(struct jm_recorder *r, const char *name, char *path,
			    size_t len, struct jm_rec_summary *s)
{
	char err[300];
	snprintf(path, len, "%s/%s.jmt", dir, name);
	struct jm_trace_header h = {.page_size = PS};
	snprintf(h.source, sizeof(h.source), "recording:%s", name);
	snprintf(h.arch, sizeof(h.arch), "x86_64");
	snprintf(h.made_by, sizeof(h.made_by), "tests/test_record.c");
	assert_int_equal(jm_recorder_write(r, path, &h, s, err, sizeof(err)), 0);
	jm_recorder_free(r);
}

/* An InProcessMemoryManager-style sequence, a thread stack (guard page:
 * not a graph), a reservation (a pool: counted), a finalize-lifetime
 * munmap, a failed call and a call of another process. */
static void test_reconstruct(void **state)
{
	(void)state;
	char err[300];
	struct jm_recorder *r = jm_recorder_new(100, err, sizeof(err));
	assert_non_null(r);
	const uint64_t anon = MAP_PRIVATE | MAP_ANONYMOUS;
	add(r, 100, JM_PSYS_BRK, 0, 0, 0, 0, 0x1000000, 49);
	add(r, 100, JM_PSYS_MMAP, 0, 4 * PS, PROT_READ | PROT_WRITE, anon, (int64_t)BASE, 50);
	add(r, 100, JM_PSYS_MMAP, 0, 8 * PS, PROT_READ | PROT_WRITE, anon,
	    (int64_t)(BASE + 0x100000), 51); /* a stack */
	add(r, 100, JM_PSYS_MPROTECT, BASE + 0x100000, PS, PROT_NONE, 0, 0, 52);
	add(r, 100, JM_PSYS_MMAP, 0, 64 * PS, PROT_NONE, anon, (int64_t)(BASE + 0x200000), 53);
	add(r, 200, JM_PSYS_MMAP, 0, PS, PROT_READ | PROT_WRITE, anon, (int64_t)BASE, 9);
	add(r, 100, JM_PSYS_MPROTECT, BASE, PS, PROT_READ, 0, -12, 53); /* failed */
	add(r, 100, JM_PSYS_MPROTECT, BASE, PS, PROT_READ, 0, 0, 54);
	add(r, 100, JM_PSYS_MPROTECT, BASE + PS, PS, PROT_READ | PROT_WRITE, 0, 0, 54);
	add(r, 100, JM_PSYS_MPROTECT, BASE + 2 * PS, PS, PROT_READ | PROT_EXEC, 0, 0, 55);
	add(r, 100, JM_PSYS_MUNMAP, BASE + 3 * PS, PS, 0, 0, 0, 55); /* finalize segment */
	add(r, 100, JM_PSYS_MUNMAP, BASE, 3 * PS, 0, 0, 0, 52);
	char path[128];
	struct jm_rec_summary s;
	write_recording(r, "unit", path, sizeof(path), &s);
	assert_int_equal(s.graphs, 1);
	assert_int_equal(s.frees, 1);
	assert_int_equal(s.pools, 0); /* the reservation holds no graph */
	assert_int_equal(s.other_procs, 1);
	assert_int_equal(s.comments, 1); /* the brk */
	assert_int_equal(s.jit_mprotects, 3);
	assert_int_equal(s.jit_munmaps, 2);
	/* +1 mmap, +1 +0 +1 mprotects (the failed one: 0), +0 -3 munmaps */
	assert_int_equal(s.jit_vmas, 0);
	const char *t = slurp(path);
	assert_non_null(t);
	assert_non_null(strstr(t, "sizes page\n"));
	assert_non_null(strstr(t, "\nalloc 0 ro=4096 rw=4096 rx=4096 rw/fin=4096\n"));
	/* finalize right after the last mprotect, before the fin munmap */
	assert_non_null(strstr(t, "prot=r-x ret=0x0 vmas=55\nfinalize 0\nsys"));
	assert_non_null(strstr(t, "len=12288 ret=0x0 vmas=52\nfree 0\n"));
	assert_non_null(strstr(t, "# jit: graphs=1 finalizes=1 frees=1 mmaps=1 mprotects=3 "
				  "munmaps=2 madvises=0 vmas=0 pools=0 fin_mprotects=3 "
				  "vmas_peak=3\n"));
	assert_null(strstr(t, "vmas=9")); /* the other process */
	assert_valid(path);
	struct jm_rec_summary back;
	assert_int_equal(jm_recording_summary(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.jit_mprotects, 3);
	assert_int_equal(back.jit_vmas_peak, 3);
}

/* A pool as LLVM's MapperJITLinkMemoryManager uses it: one rw- reservation,
 * graphs carved by runs of contiguous mprotects, given back by an rw-
 * mprotect over exactly their span, the rest freed with the reservation. */
static void test_reconstruct_pool(void **state)
{
	(void)state;
	char err[300];
	struct jm_recorder *r = jm_recorder_new(100, err, sizeof(err));
	assert_non_null(r);
	const uint64_t anon = MAP_PRIVATE | MAP_ANONYMOUS, G = 1ull << 30;
	jm_recorder_set_initial_vmas(r, 10);
	add(r, 100, JM_PSYS_MMAP, 0, G, PROT_READ | PROT_WRITE, anon, (int64_t)BASE, 11);
	add(r, 100, JM_PSYS_MPROTECT, BASE, PS, PROT_READ, 0, 0, 12);
	add(r, 100, JM_PSYS_MPROTECT, BASE + PS, PS, PROT_READ | PROT_EXEC, 0, 0, 13);
	add(r, 100, JM_PSYS_MPROTECT, BASE + 4 * PS, PS, PROT_READ, 0, 0, 15);
	add(r, 100, JM_PSYS_MPROTECT, BASE + 5 * PS, 2 * PS, PROT_READ | PROT_WRITE, 0, 0, 15);
	add(r, 100, JM_PSYS_MPROTECT, BASE + 7 * PS, PS, PROT_READ | PROT_EXEC, 0, 0, 16);
	add(r, 100, JM_PSYS_MPROTECT, BASE, 2 * PS, PROT_READ | PROT_WRITE, 0, 0, 14);
	add(r, 100, JM_PSYS_MUNMAP, BASE, G, 0, 0, 0, 10);
	char path[128];
	struct jm_rec_summary s;
	write_recording(r, "pool", path, sizeof(path), &s);
	const char *t = slurp(path);
	assert_non_null(t);
	assert_non_null(strstr(t, "# jit: graphs=2 finalizes=2 frees=2 mmaps=1 mprotects=6 "
				  "munmaps=1 madvises=0 vmas=0 pools=1 fin_mprotects=5 "
				  "vmas_peak=6\n"));
	/* alloc before the first mprotect of each run */
	assert_non_null(strstr(t, "\nalloc 0 ro=4096 rx=4096\nsys t=10 tid=100 mprotect"));
	assert_non_null(strstr(t, "\nalloc 1 ro=4096 rw=8192 rx=4096\nsys t=30 tid=100 mprotect"));
	assert_non_null(strstr(t, "prot=rw- ret=0x0 vmas=14\nfree 0\n"));
	assert_non_null(strstr(t, "len=1073741824 ret=0x0 vmas=10\nfree 1\n"));
	assert_valid(path);
}

static void test_usage(void **state)
{
	(void)state;
	char *err = NULL;
	char *a1[] = {"record", "--", "true", NULL};
	assert_int_equal(tu_run_jitmm(a1, NULL, &err), 2);
	assert_non_null(strstr(err, "missing -o"));
	free(err);
	char *a2[] = {"record", "-o", "/tmp/x.jmt", NULL};
	assert_int_equal(tu_run_jitmm(a2, NULL, &err), 2);
	assert_non_null(strstr(err, "either --pid"));
	free(err);
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	char pidarg[32];
	snprintf(pidarg, sizeof(pidarg), "%d", (int)gone);
	char *a3[] = {"record", "-o", "/tmp/x.jmt", "--pid", pidarg, NULL};
	assert_int_equal(tu_run_jitmm(a3, NULL, &err), 2);
	assert_non_null(strstr(err, "no such process"));
	free(err);
	char *a4[] = {"record", "-o", "/tmp/x.jmt", "--duration", "-1", "--", "true", NULL};
	assert_int_equal(tu_run_jitmm(a4, NULL, &err), 2);
	free(err);
	char *a5[] = {"record", "-o", "/nonexistent-dir/x.jmt", "--", "true", NULL};
	assert_int_equal(tu_run_jitmm(a5, NULL, &err), 2);
	assert_non_null(strstr(err, "cannot write there"));
	free(err);
}

/* The program: with an argument it waits for a byte on stdin first. */
static const char program[] =
	"#include <string.h>\n#include <sys/mman.h>\n#include <unistd.h>\n"
	"#define RW (PROT_READ | PROT_WRITE)\n"
	"#define F (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)\n"
	"int main(int argc, char **argv) {\n"
	"  (void)argv; char b;\n"
	"  if (argc > 1 && read(0, &b, 1) != 1) return 3;\n"
	"  char *g0 = mmap((void *)0x300000000000, 5 * 4096, RW, F, -1, 0);\n"
	"  char *g1 = mmap((void *)0x300000100000, 3 * 4096, RW, F, -1, 0);\n"
	"  char *pool = mmap((void *)0x300000200000, 2 * 4096, PROT_NONE, F, -1, 0);\n"
	"  if (g0 == MAP_FAILED || g1 == MAP_FAILED || pool == MAP_FAILED) return 4;\n"
	"  memset(g0, 1, 5 * 4096);\n"
	"  mprotect(g0, 4096, PROT_READ);\n"
	"  mprotect(g0 + 4096, 4096, RW);\n"
	"  mprotect(g0 + 2 * 4096, 2 * 4096, PROT_READ | PROT_EXEC);\n"
	"  madvise(g0 + 4 * 4096, 4096, MADV_DONTNEED);\n"
	"  mprotect(g1, 3 * 4096, PROT_READ | PROT_EXEC);\n"
	"  munmap(g1, 3 * 4096);\n"
	"  return 7;\n}\n";

/* g0: mmap +1, r-- page +1, rw- page 0, r-x pages +2 = 4; g1: +1 0 -1;
 * the peak (5) is before g1's munmap; the PROT_NONE mapping is no graph */
static const char expected_jit[] =
	"# jit: graphs=2 finalizes=2 frees=1 mmaps=2 mprotects=4 munmaps=1 madvises=1 "
	"vmas=4 pools=0 fin_mprotects=4 vmas_peak=5\n";

static int can_record(char *prog, size_t len)
{
	const struct jm_probe_ops *ops = jm_probe_find("ebpf");
	char why[256];
	if (!ops || ops->available(why, sizeof(why)) < 0) {
		SKIP_BECAUSE("jitmm record needs the ebpf probe: %s", ops ? why : "not built");
		return 0;
	}
	char src[128], cmd[512];
	snprintf(src, sizeof(src), "%s/prog.c", dir);
	snprintf(prog, len, "%s/prog", dir);
	FILE *f = fopen(src, "w");
	assert_non_null(f);
	fputs(program, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cc -O1 -o %s %s 2>&1", prog, src);
	if (system(cmd) != 0) {
		SKIP_BECAUSE("cannot build the test program with cc");
		return 0;
	}
	return 1;
}

static void test_record_command(void **state)
{
	(void)state;
	char prog[128], out[160];
	if (!can_record(prog, sizeof(prog)))
		return;
	snprintf(out, sizeof(out), "%s/cmd.jmt", dir);
	char *err = NULL;
	char *args[] = {"record", "-o", out, "--", prog, NULL};
	/* the program exits 7: reported, and a failed command is exit 1 */
	int rc = tu_run_jitmm(args, NULL, &err);
	if (rc != 1)
		fail_msg("exit %d: %s", rc, err);
	assert_non_null(strstr(err, "exited with status 7"));
	free(err);
	const char *t = slurp(out);
	assert_non_null(t);
	assert_non_null(strstr(t, expected_jit));
	assert_non_null(strstr(t, "\nalloc 0 ro=4096 rw=8192 rx=8192\n"));
	assert_non_null(strstr(t, "\nalloc 1 rx=12288\n"));
	assert_non_null(strstr(t, "\nfree 1\n"));
	assert_non_null(strstr(t, "sizes page\n"));
	assert_valid(out);

	/* the model replay of the recording through inprocess makes one mmap
	 * per graph and one mprotect per segment */
	char json[160];
	snprintf(json, sizeof(json), "%s/model.json", dir);
	char wl[200];
	snprintf(wl, sizeof(wl), "trace:%s", out);
	char *a2[] = {"run", "-b", "inprocess", "-w", wl, "--json", json, NULL};
	assert_int_equal(tu_run_jitmm(a2, NULL, NULL), 0);
	json_object *root = json_object_from_file(json), *m;
	assert_non_null(root);
	m = json_object_object_get(
		json_object_array_get_idx(json_object_object_get(root, "runs"), 0), "metrics");
	assert_int_equal(json_object_get_int(json_object_object_get(m, "graphs")), 2);
	json_object_put(root);
}

/* --pid: the program waits on a pipe until the recorder says it tracks
 * it; then the whole recording is the pattern, and the literal replay must
 * change the VMA count exactly as the recording says. */
static void test_record_pid_literal(void **state)
{
	(void)state;
	char prog[128], out[160];
	if (!can_record(prog, sizeof(prog)))
		return;
	snprintf(out, sizeof(out), "%s/pid.jmt", dir);
	int in[2], errp[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(errp), 0);
	fflush(NULL);
	pid_t p = fork();
	if (p == 0) {
		dup2(in[0], 0);
		close(in[1]);
		close(errp[0]);
		close(errp[1]);
		execl(prog, prog, "wait", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	char pidarg[32];
	snprintf(pidarg, sizeof(pidarg), "%d", (int)p);
	const char *bin = getenv("JITMM") ? getenv("JITMM") : "./jitmm";
	pid_t rec = fork();
	if (rec == 0) {
		dup2(errp[1], 2);
		close(errp[0]);
		close(in[1]);
		execl(bin, bin, "record", "-o", out, "--pid", pidarg, (char *)NULL);
		_exit(127);
	}
	close(errp[1]);
	/* wait for "recording pid" (10 s at most), then release the program */
	char buf[2048];
	size_t have = 0;
	while (have < sizeof(buf) - 1) {
		struct pollfd pf = {.fd = errp[0], .events = POLLIN};
		if (poll(&pf, 1, 10000) <= 0)
			break;
		ssize_t n = read(errp[0], buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = 0;
		if (strstr(buf, "recording pid"))
			break;
	}
	buf[have] = 0;
	int ok = strstr(buf, "recording pid") != NULL;
	assert_int_equal(write(in[1], "g", 1), 1);
	close(in[1]);
	int st;
	waitpid(p, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	waitpid(rec, &st, 0);
	close(errp[0]);
	if (!ok)
		fail_msg("jitmm record did not start: %s", buf);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	const char *t = slurp(out);
	assert_non_null(t);
	if (!strstr(t, expected_jit))
		fail_msg("expected %s in:\n%s", expected_jit, t);
	assert_non_null(strstr(t, "source recording:pid "));
	assert_valid(out);

	char json[160], wl[200];
	snprintf(json, sizeof(json), "%s/lit.json", dir);
	snprintf(wl, sizeof(wl), "trace:%s", out);
	char *a2[] = {"run", "-b", "null", "-w", wl, "--replay", "literal", "--json", json, NULL};
	assert_int_equal(tu_run_jitmm(a2, NULL, NULL), 0);
	json_object *root = json_object_from_file(json);
	assert_non_null(root);
	json_object *m = json_object_object_get(
		json_object_array_get_idx(json_object_object_get(root, "runs"), 0), "metrics");
	json_object *lit = json_object_object_get(m, "literal");
	assert_non_null(lit);
	int64_t rd = json_object_get_int64(json_object_object_get(lit, "recorded_vmas_delta"));
	int64_t pd = json_object_get_int64(json_object_object_get(lit, "replayed_vmas_delta"));
	printf("# recorded VMA delta %lld, replayed %lld\n", (long long)rd, (long long)pd);
	/* after the first mmap: g1 +1, pool +1, g0 +1 +0 +2, madvise 0, g1 0 -1 */
	assert_int_equal(rd, 4);
	assert_int_equal(pd, rd);
	assert_int_equal(json_object_get_int(json_object_object_get(lit, "failed_in_recording")),
			 0);
	json_object_put(root);
}

/* Arguments are data: a newline in them must not end the header and start
 * graph events (issue 11: `record -- sh -c ... "$(printf 'x\nalloc 0 ...')"`
 * injected an alloc). The header keeps them escaped; read back, they are
 * the arguments again. */
static void test_record_hostile_args(void **state)
{
	(void)state;
	char prog[128], out[160];
	if (!can_record(prog, sizeof(prog)))
		return;
	snprintf(out, sizeof(out), "%s/args.jmt", dir);
	char arg[] = "x\nalloc 0 rx=4096\nfinalize 0\n# \\ end";
	char *err = NULL;
	char *args[] = {"record", "-o", out, "--", "true", arg, NULL};
	int rc = tu_run_jitmm(args, NULL, &err);
	if (rc != 0)
		fail_msg("exit %d: %s", rc, err);
	free(err);
	char e[300];
	struct jm_trace_reader *r = jm_trace_open(out, e, sizeof(e));
	if (!r)
		fail_msg("%s", e);
	char want[600];
	snprintf(want, sizeof(want), "recording:true %s", arg);
	assert_string_equal(jm_trace_header(r)->source, want);
	assert_non_null(strstr(jm_trace_header(r)->made_by, arg));
	struct jm_event ev;
	int n = 0, allocs = 0;
	while ((rc = jm_trace_read(r, &ev)) == 1) {
		n++;
		allocs += ev.type == JM_EV_ALLOC;
	}
	if (rc < 0)
		fail_msg("%s", jm_trace_error(r));
	jm_trace_close(r);
	assert_int_equal(allocs, 0); /* `true` links nothing */
	printf("# %d events, no alloc from the argument\n", n);
}

/* Exit codes: a command that cannot run is a usage error (2, no trace);
 * SIGINT or SIGTERM to jitmm record is 130, with the trace of what was
 * recorded until then (issue 11: 1 and 0). */
static void test_record_exit_codes(void **state)
{
	(void)state;
	char prog[128], out[160];
	if (!can_record(prog, sizeof(prog)))
		return;
	snprintf(out, sizeof(out), "%s/none.jmt", dir);
	char *err = NULL;
	char *a1[] = {"record", "-o", out, "--", "/nonexistent/jit-command", NULL};
	assert_int_equal(tu_run_jitmm(a1, NULL, &err), 2);
	assert_non_null(strstr(err, "cannot run /nonexistent/jit-command"));
	free(err);
	struct stat st;
	assert_int_equal(stat(out, &st), -1);

	for (int k = 0; k < 2; k++) {
		int sig = k ? SIGTERM : SIGINT;
		snprintf(out, sizeof(out), "%s/int%d.jmt", dir, k);
		int errp[2];
		assert_int_equal(pipe(errp), 0);
		const char *bin = getenv("JITMM") ? getenv("JITMM") : "./jitmm";
		fflush(NULL);
		pid_t rec = fork();
		if (rec == 0) {
			dup2(errp[1], 2);
			close(errp[0]);
			/* the program waits for a byte on its stdin: never comes */
			int fds[2];
			if (pipe(fds) == 0)
				dup2(fds[0], 0);
			execl(bin, bin, "record", "-o", out, "--", prog, "wait", (char *)NULL);
			_exit(127);
		}
		close(errp[1]);
		char buf[2048];
		size_t have = 0;
		pid_t target = 0;
		while (have < sizeof(buf) - 1 && !target) { /* "recording pid N", 10 s at most */
			struct pollfd pf = {.fd = errp[0], .events = POLLIN};
			if (poll(&pf, 1, 10000) <= 0)
				break;
			ssize_t n = read(errp[0], buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			buf[have] = 0;
			const char *at = strstr(buf, "recording pid ");
			if (at && strchr(at, '\n'))
				target = (pid_t)atoi(at + 14);
		}
		if (target)
			kill(rec, sig);
		else
			kill(rec, SIGKILL);
		int status;
		waitpid(rec, &status, 0);
		close(errp[0]);
		if (target) /* it keeps running: not ours to leave behind in a test */
			kill(target, SIGKILL);
		if (!target)
			fail_msg("jitmm record did not start: %s", buf);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 130);
		assert_valid(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconstruct),
		cmocka_unit_test(test_reconstruct_pool),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_record_command),
		cmocka_unit_test(test_record_pid_literal),
		cmocka_unit_test(test_record_hostile_args),
		cmocka_unit_test(test_record_exit_codes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
