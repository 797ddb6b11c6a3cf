/* jitmm record on what the jitlink work found (docs/recording.md): a JIT
 * whose memory is in another process (an out-of-process executor)
 * records no graph of its own and exits 1 saying so; an empty recording
 * exits 1; a pool protected from two threads gets a warning. Needs root
 * and BTF (the ebpf probe) and cc; skips with the reason otherwise. The
 * real out-of-process case (llvm-jitlink-22 -oop-executor) runs where
 * LLVM 22's tools are installed. */
#include "testutil.h"

#include <limits.h>
#include <signal.h>

#include "../probes/probe.h"

static struct tu_fixture fx = {.dir = "/tmp/jm-jlrec-XXXXXX"};

/* JIT-like: a mapping made rw-, then one graph protected r-- and r-x */
#define GRAPH                                                                  \
	"static void graph(char *p) {\n"                                       \
	"	mprotect(p, 4096, PROT_READ);\n"                               \
	"	mprotect(p + 4096, 4096, PROT_READ | PROT_EXEC);\n"            \
	"}\n"

static const char *const programs[][2] = {
	/* the parent only waits; its child holds the JIT memory */
	{"executor.c", "#include <sys/mman.h>\n#include <sys/wait.h>\n#include <unistd.h>\n" GRAPH
		       "int main(void) {\n"
		       "	pid_t c = fork();\n"
		       "	if (c == 0) {\n"
		       "		char *p = mmap(0, 8192, PROT_READ | PROT_WRITE,\n"
		       "			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);\n"
		       "		graph(p);\n"
		       "		_exit(0);\n"
		       "	}\n"
		       "	int st;\n"
		       "	waitpid(c, &st, 0);\n"
		       "	return 0;\n"
		       "}\n"},
	/* one pool; graph 1 protected by the main thread, graph 2 by another */
	{"threads.c", "#include <pthread.h>\n#include <sys/mman.h>\n" GRAPH
		      "static char *pool;\n"
		      "static void *second(void *a) { (void)a; graph(pool + 65536); return 0; }\n"
		      "int main(void) {\n"
		      "	pool = mmap(0, 1 << 20, PROT_READ | PROT_WRITE,\n"
		      "		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);\n"
		      "	graph(pool);\n"
		      "	pthread_t t;\n"
		      "	pthread_create(&t, 0, second, 0);\n"
		      "	pthread_join(t, 0);\n"
		      "	return 0;\n"
		      "}\n"},
};

static char *path(const char *name)
{
	return tu_fixture_path(&fx, name);
}

static int setup(void **state)
{
	(void)state;
	char why[256] = "";
	const struct jm_probe_ops *ops = jm_probe_find("ebpf");
	if (!ops || ops->available(why, sizeof(why)) < 0) {
		static char msg[300];
		snprintf(msg, sizeof(msg), "jitmm record needs the ebpf probe: %s",
			 ops ? why : "not built");
		fx.why = msg;
		return 0;
	}
	tu_fixture_make(&fx, programs, sizeof(programs) / sizeof(programs[0]),
			"cc -O1 -o executor executor.c && cc -O1 -pthread -o threads threads.c",
			"cc could not build the test programs");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_fixture_remove(&fx);
	return 0;
}

#define NEED_FIXTURE() TU_NEED_FIXTURE(&fx)

static void test_other_process_holds_the_jit(void **state)
{
	(void)state;
	NEED_FIXTURE();
	char *args[] = {"record", "-o", path("x.jmt"), "--", path("executor"), NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	printf("# %s", err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "no JIT graph in the recorded process"));
	assert_non_null(strstr(err, "out-of-process executor"));
	assert_int_equal(access(path("x.jmt"), R_OK), 0); /* still written */
	free(err);
}

static void test_empty_recording(void **state)
{
	(void)state;
	NEED_FIXTURE();
	pid_t idle = fork();
	if (idle == 0) {
		for (;;)
			pause();
	}
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)idle);
	char *args[] = {"record", "-o", path("e.jmt"), "--pid", pid, "--duration", "0.3", NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	kill(idle, SIGKILL);
	waitpid(idle, NULL, 0);
	printf("# %s", err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "the recording is empty"));
	free(err);
}

static void test_threads_in_one_pool_warn(void **state)
{
	(void)state;
	NEED_FIXTURE();
	char *args[] = {"record", "-o", path("t.jmt"), "--", path("threads"), NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	printf("# %s", err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(err, "protected by more than one thread"));
	free(err);
	FILE *f = fopen(path("t.jmt"), "r");
	assert_non_null(f);
	char line[512];
	int warned = 0;
	while (fgets(line, sizeof(line), f))
		warned |= strstr(line, "# warning: 1 pool(s) protected by more than one thread") == line;
	fclose(f);
	assert_true(warned);
}

/* The real thing: llvm-jitlink-22 with its executor and shared memory. */
static void test_llvm_jitlink_oop_executor(void **state)
{
	(void)state;
	NEED_FIXTURE();
	if (system("command -v llvm-jitlink-22 >/dev/null && command -v "
		   "llvm-jitlink-executor-22 >/dev/null && command -v cc >/dev/null") != 0) {
		SKIP_BECAUSE("llvm-jitlink-22 or llvm-jitlink-executor-22 not installed");
		return;
	}
	FILE *f = fopen(path("m.c"), "w");
	fputs("int main(void) { return 0; }\n", f);
	fclose(f);
	char cmd[2 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "cc -c -o '%s' '%s'", path("m.o"), path("m.c"));
	assert_int_equal(system(cmd), 0);
	char exe[PATH_MAX];
	snprintf(exe, sizeof(exe), "-oop-executor=%s",
		 "/usr/lib/llvm-22/bin/llvm-jitlink-executor");
	char *args[] = {"record", "-o", path("o.jmt"), "--", "llvm-jitlink-22", exe,
			"-use-memmgr=shared", path("m.o"), NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	printf("# %s", err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "out-of-process executor"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_process_holds_the_jit),
		cmocka_unit_test(test_empty_recording),
		cmocka_unit_test(test_threads_in_one_pool_warn),
		cmocka_unit_test(test_llvm_jitlink_oop_executor),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
