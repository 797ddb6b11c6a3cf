/* The jitlink: workload and `jitmm trace from-jitlink` (docs/jitlink.md):
 * LLVM's real JIT linker, in the LLVM plugin, linking objects built here
 * from a tiny C and a tiny C++ source, its memory manager each jitmm
 * backend. Needs the plugin (build/llvm/jitmm-llvm.so, built by `make`
 * where llvm-22-dev is installed) and a C and a C++ compiler; skips with
 * the reason otherwise. */
#include "testutil.h"

#include <json-c/json.h>
#include <limits.h>

#include "../allocators/backend.h"

/* the plugin of this build (make SAN=1 builds its own into build-san/),
 * given to jitmm as $JITMM_LLVM_PLUGIN */
#define PLUGIN (TU_SANITIZED ? "build-san/llvm/jitmm-llvm.so" : "build/llvm/jitmm-llvm.so")

static struct tu_fixture fx = {.dir = "/tmp/jm-jitlink-XXXXXX"};

/* C: main.o calls helper() in helper.o (so ORC links helper.o while
 * main.o's graph is in flight) and needs puts from the process. C++: two
 * objects each define the same inline function (a COMDAT group) of a few
 * KiB of code; a third calls both. */
static const char *const sources[][2] = {
	{"helper.c", "int helper(int x) { return x + 1; }\n"},
	{"main.c", "#include <stdio.h>\nint helper(int);\n"
		   "int main(void) { if (helper(-1)) puts(\"?\"); return helper(-1); }\n"},
	{"missing.c", "extern int jm_no_such_symbol(void);\n"
		      "int main(void) { return jm_no_such_symbol(); }\n"},
	{"big.h", "inline int big(int x) {\n"
		  "#define S(n) if (x == n) return n * 7 + (x ^ n) * 3;\n"
		  "#define T(n) S(n##0) S(n##1) S(n##2) S(n##3) S(n##4) S(n##5) S(n##6) S(n##7) S(n##8) S(n##9)\n"
		  "T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11) T(12)\n"
		  "return 0; }\n"},
	{"one.cpp", "#include \"big.h\"\nint one(int x) { return big(x) + 1; }\n"},
	{"two.cpp", "#include \"big.h\"\nint two(int x) { return big(x) + 2; }\n"},
	{"cmain.cpp", "int one(int); int two(int);\n"
		      "int main() { return one(0) + two(0) - 3; }\n"},
};

static char *path(const char *name)
{
	return tu_fixture_path(&fx, name);
}

static int setup(void **state)
{
	(void)state;
	char plugin[PATH_MAX];
	if (access(PLUGIN, R_OK) != 0 || !realpath(PLUGIN, plugin)) {
		fx.why = TU_SANITIZED ? "build-san/llvm/jitmm-llvm.so is not built (no "
					  "llvm-config-22 when `make` ran)"
					: "build/llvm/jitmm-llvm.so is not built (no llvm-config-22 "
					  "when `make` ran)";
		return 0;
	}
	setenv("JITMM_LLVM_PLUGIN", plugin, 1);
	tu_fixture_make(&fx, sources, sizeof(sources) / sizeof(sources[0]),
			"cc -O1 -c helper.c main.c missing.c && c++ -O0 -c one.cpp two.cpp cmain.cpp",
			"cc or c++ could not compile the test sources");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_fixture_remove(&fx);
	return 0;
}

#define NEED_FIXTURE() TU_NEED_FIXTURE(&fx)

struct result {
	int exit, ok;
	long graphs, finalizes, frees, vmas, mmaps, mprotects, munmaps, bytes;
	long trims, trim_units;
	char error[512];
};

static long get(json_object *o, const char *k)
{
	return (long)json_object_get_int64(json_object_object_get(o, k));
}

static long calls(json_object *mt, const char *sys)
{
	return get(json_object_object_get(json_object_object_get(mt, "syscalls"), sys), "calls");
}

/* jitmm run -b BACKEND -w WORKLOAD: the first run's numbers */
static struct result run(const char *backend, const char *workload)
{
	struct result r = {0};
	char json[] = "/tmp/jm-jitlink-run-XXXXXX";
	int fd = mkstemp(json);
	assert_true(fd >= 0);
	close(fd);
	char *args[] = {"run", "-q", "-p", "procfs", "-b", (char *)backend, "-w",
			(char *)workload, "--json", json, NULL};
	char *err = NULL;
	r.exit = tu_run_jitmm(args, NULL, &err);
	json_object *root = json_object_from_file(json);
	unlink(json);
	json_object *run0 = root ? json_object_array_get_idx(json_object_object_get(root, "runs"), 0)
				 : NULL;
	if (!run0) {
		snprintf(r.error, sizeof(r.error), "no run (exit %d): %s", r.exit, err ? err : "");
		free(err);
		json_object_put(root);
		return r;
	}
	free(err);
	r.ok = !strcmp(json_object_get_string(json_object_object_get(run0, "status")), "ok");
	json_object *e = json_object_object_get(run0, "error");
	if (e)
		snprintf(r.error, sizeof(r.error), "%s: %s",
			 json_object_get_string(json_object_object_get(e, "op")),
			 json_object_get_string(json_object_object_get(e, "message")));
	json_object *mt = json_object_object_get(run0, "metrics");
	if (mt) {
		r.graphs = get(mt, "graphs");
		r.finalizes = get(mt, "finalizes");
		r.frees = get(mt, "frees");
		r.vmas = get(mt, "vmas_added");
		r.bytes = get(mt, "bytes_requested");
		r.mmaps = calls(mt, "mmap");
		r.mprotects = calls(mt, "mprotect");
		r.munmaps = calls(mt, "munmap");
		r.trims = get(mt, "trims");
		r.trim_units = get(mt, "trim_units_released");
	}
	json_object_put(root);
	return r;
}

static char *spec(const char *files_and_options)
{
	static char buf[4][1024];
	static int k;
	char *p = buf[k++ % 4];
	/* every name is relative to fx.dir: prefix each ':'-separated file */
	size_t n = (size_t)snprintf(p, 1024, "jitlink:");
	char copy[512];
	snprintf(copy, sizeof(copy), "%s", files_and_options);
	char *opts = strchr(copy, ',');
	if (opts)
		*opts++ = 0;
	char *save = NULL;
	for (char *f = strtok_r(copy, ":", &save); f; f = strtok_r(NULL, ":", &save))
		n += (size_t)snprintf(p + n, 1024 - n, "%s%s/%s", n > 8 ? ":" : "", fx.dir, f);
	if (opts)
		snprintf(p + n, 1024 - n, ",%s", opts);
	return p;
}

/* RTDyld's managers (SectionMemoryManager and Julia's, the real class and
 * the models): finalize protects every block written since the last
 * finalize (finalizeMemory), including the blocks of graphs ORC keeps in
 * flight while it links the graphs they depend on (main.o waits for
 * helper.o), so the in-flight graph's fixups fault (docs/jitlink.md) */
static int rtdyld_style(const char *name)
{
	return !strcmp(name, "julia-blocks") || !strcmp(name, "section-mm") ||
	       !strcmp(name, "llvm-section");
}

/* Every backend links the C objects: 2 objects, 2 debug objects (never
 * finalized: llvm-jitlink's RequireDebugSections), main run where the
 * backend's code can run here; the llvm-* ones with their real manager
 * (llvm-inprocess, llvm-mapper) or through their ops (llvm-shm,
 * llvm-section). The RTDyld-style ones fail the run by a fault; the
 * harness survives. */
static void test_every_backend_links_c(void **state)
{
	(void)state;
	NEED_FIXTURE();
	for (size_t i = 0; jm_backends[i]; i++) {
		const char *name = jm_backends[i]->name;
		struct result r = run(name, spec("main.o:helper.o"));
		printf("# %-14s exit %d graphs %ld finalized %ld vmas %ld mmaps %ld mprotects %ld %s\n",
		       name, r.exit, r.graphs, r.finalizes, r.vmas, r.mmaps, r.mprotects, r.error);
		if (rtdyld_style(name)) {
			/* SIGSEGV; under ASan its report, then exit 1 */
			assert_int_equal(r.exit, 1);
			assert_false(r.ok);
			assert_non_null(strstr(r.error, TU_SANITIZED ? "crash: " : "signal 11"));
			continue;
		}
		if (!r.ok)
			fail_msg("%s: %s", name, r.error);
		assert_int_equal(r.exit, 0);
		assert_int_equal(r.graphs, 4);
		assert_int_equal(r.finalizes, 2);
		assert_int_equal(r.frees, 0); /* the teardown is after the window */
	}
}

/* ...and the C++ ones (a COMDAT pair, libstdc++-free) */
static void test_every_backend_links_cpp(void **state)
{
	(void)state;
	NEED_FIXTURE();
	for (size_t i = 0; jm_backends[i]; i++) {
		const char *name = jm_backends[i]->name;
		if (rtdyld_style(name))
			continue; /* above */
		struct result r = run(name, spec("cmain.o:one.o:two.o"));
		if (!r.ok)
			fail_msg("%s: %s", name, r.error);
		assert_int_equal(r.graphs, 6);
		assert_int_equal(r.finalizes, 3);
	}
}

/* The ELF debugger support plugin adds one allocation per object (its
 * copy of the object); off, only the objects' graphs remain. */
static void test_debugger_support_adds_one_per_object(void **state)
{
	(void)state;
	NEED_FIXTURE();
	struct result on = run("inprocess", spec("cmain.o:one.o:two.o"));
	struct result off = run("inprocess", spec("cmain.o:one.o:two.o,debugger_support=off"));
	assert_true(on.ok && off.ok);
	assert_int_equal(off.graphs, 3);
	assert_int_equal(on.graphs - off.graphs, 3);
	assert_int_equal(on.finalizes, off.finalizes); /* llvm-jitlink's: never finalized */
	/* lli's debugger support finalizes them: one r-- graph each */
	struct result lli = run("inprocess", spec("cmain.o:one.o:two.o,session=lli"));
	struct result lli_off =
		run("inprocess", spec("cmain.o:one.o:two.o,session=lli,debugger_support=off"));
	assert_true(lli.ok && lli_off.ok);
	printf("# lli session: %ld graphs (%ld without debugger support)\n", lli.graphs,
	       lli_off.graphs);
	assert_true(lli_off.graphs > 3); /* LLJIT's platform graphs */
	assert_int_equal(lli.graphs - lli_off.graphs, lli.finalizes - lli_off.finalizes);
	assert_true(lli.graphs - lli_off.graphs >= 3);
}

/* The trace from-jitlink writes replays to the same graphs, syscalls and
 * VMAs as the link itself. */
static void test_trace_equals_link(void **state)
{
	(void)state;
	NEED_FIXTURE();
	char trace[PATH_MAX];
	snprintf(trace, sizeof(trace), "%s/link.jmt", fx.dir);
	char *args[] = {"trace", "from-jitlink", path("cmain.o"), path("one.o"), path("two.o"),
			"-o", trace, NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	if (rc)
		fail_msg("trace from-jitlink: exit %d: %s", rc, err);
	free(err);
	char wl[PATH_MAX + 8];
	snprintf(wl, sizeof(wl), "trace:%s", trace);
	static const char *const backends[] = {"inprocess", "single-pool:granularity=1G",
					       "slab-pool"};
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct result link = run(backends[i], spec("cmain.o:one.o:two.o"));
		struct result replay = run(backends[i], wl);
		printf("# %s: link graphs %ld bytes %ld vmas %ld mmaps %ld mprotects %ld | trace "
		       "graphs %ld bytes %ld vmas %ld mmaps %ld mprotects %ld\n", backends[i],
		       link.graphs, link.bytes, link.vmas, link.mmaps, link.mprotects, replay.graphs,
		       replay.bytes, replay.vmas, replay.mmaps, replay.mprotects);
		assert_true(link.ok && replay.ok);
		assert_int_equal(link.graphs, replay.graphs);
		assert_int_equal(link.finalizes, replay.finalizes);
		assert_int_equal(link.bytes, replay.bytes);
		assert_int_equal(link.mmaps, replay.mmaps);
		assert_int_equal(link.mprotects, replay.mprotects);
		assert_int_equal(link.munmaps, replay.munmaps);
		/* ASan's allocator maps memory inside the window of the link
		 * (LLVM's allocations): VMAs are not the JIT's alone there */
		if (!TU_SANITIZED)
			assert_int_equal(link.vmas, replay.vmas);
	}
}

/* rx bytes of the alloc lines of a trace (or of from-elf's) */
static long trace_rx(char *const args[])
{
	char *out = NULL;
	assert_int_equal(tu_run_jitmm(args, &out, NULL), 0);
	long rx = 0;
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
		char *p = strncmp(l, "alloc ", 6) ? NULL : strstr(l, " rx=");
		if (p)
			rx += strtol(p + 4, NULL, 10);
	}
	free(out);
	return rx;
}

/* big() is in both one.o and two.o (a COMDAT group): JITLink links it
 * once; the per-object ELF layout (from-elf) counts it twice. */
static void test_comdat_linked_once(void **state)
{
	(void)state;
	NEED_FIXTURE();
	char *jl[] = {"trace", "from-jitlink", path("cmain.o"), path("one.o"), path("two.o"),
		      "debugger_support=off", "-o", "-", NULL};
	char *elf[] = {"trace", "from-elf", path("cmain.o"), path("one.o"), path("two.o"), "-o",
		       "-", NULL};
	char *one[] = {"trace", "from-elf", path("one.o"), "-o", "-", NULL};
	long rx_jitlink = trace_rx(jl), rx_elf = trace_rx(elf), rx_one = trace_rx(one);
	printf("# rx: jitlink %ld, from-elf %ld, one.o alone %ld\n", rx_jitlink, rx_elf, rx_one);
	assert_true(rx_one > 2000); /* big() is the most of one.o */
	/* the second copy of big() is gone (plus or minus a stub) */
	assert_true(rx_jitlink < rx_elf - rx_one * 3 / 4);
	/* from-elf's dedup predicts it */
	char *dedup[] = {"trace", "from-elf", "--dedup", path("cmain.o"), path("one.o"),
			 path("two.o"), "-o", "-", NULL};
	long rx_dedup = trace_rx(dedup);
	printf("# rx: from-elf --dedup %ld\n", rx_dedup);
	assert_true(rx_dedup < rx_elf - rx_one * 3 / 4);
}

/* A symbol nobody defines: a failed run naming it (exit 1), and the same
 * from trace from-jitlink; define_missing=on links it to a dummy. */
static void test_unresolved_symbol_is_an_error(void **state)
{
	(void)state;
	NEED_FIXTURE();
	struct result r = run("inprocess", spec("missing.o"));
	printf("# %s\n", r.error);
	assert_int_equal(r.exit, 1);
	assert_false(r.ok);
	assert_non_null(strstr(r.error, "Symbols not found"));
	assert_non_null(strstr(r.error, "jm_no_such_symbol"));
	assert_non_null(strstr(r.error, "define_missing=on"));
	char *args[] = {"trace", "from-jitlink", path("missing.o"), "-o", path("m.jmt"), NULL};
	char *err = NULL;
	assert_int_equal(tu_run_jitmm(args, NULL, &err), 1);
	assert_non_null(strstr(err, "jm_no_such_symbol"));
	free(err);
	assert_int_not_equal(access(path("m.jmt"), F_OK), 0); /* no partial trace */
	/* not run: the dummy would abort if called */
	struct result d = run("inprocess", spec("missing.o,define_missing=on,run=off"));
	if (!d.ok)
		fail_msg("%s", d.error);
	assert_int_equal(d.graphs, 2);
}

/* Bad specs and inputs are input errors (exit 2) before any run. */
static void test_bad_input(void **state)
{
	(void)state;
	NEED_FIXTURE();
	FILE *f = fopen(path("junk.o"), "w");
	fputs("not an object\n", f);
	fclose(f);
	static const struct {
		const char *spec, *msg;
	} cases[] = {
		{"junk.o", "not an ELF relocatable object"},
		{"nosuch.o", "No such file"},
		{"main.o,bogus=1", "unknown option 'bogus'"},
		{"main.o,session=gdb", "not llvm-jitlink or lli"},
		{"main.o,threads=x", "not a number"},
		{"main.o,link=lazy", "needs platform=elfnix"},
		{"main.o,cycles=3,drop=later", "'later' is not each or end"},
		{"main.o,drop=end", "drop=end needs cycles=N of 2 or more"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *args[] = {"run", "-q", "-b", "inprocess", "-w", spec(cases[i].spec), NULL};
		char *err = NULL;
		assert_int_equal(tu_run_jitmm(args, NULL, &err), 2);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: '%s' not in '%s'", cases[i].spec, cases[i].msg, err);
		free(err);
	}
	char *exe[] = {"run", "-q", "-b", "inprocess", "-w", "jitlink:/bin/sh", NULL};
	assert_int_equal(tu_run_jitmm(exe, NULL, NULL), 2);
}

/* main=stub links an object without main through a main of its own;
 * main=none links every object without an entry point. */
static void test_entry_points(void **state)
{
	(void)state;
	NEED_FIXTURE();
	struct result stub = run("inprocess", spec("helper.o,debugger_support=off"));
	if (!stub.ok)
		fail_msg("%s", stub.error);
	assert_int_equal(stub.graphs, 2); /* the stub main and helper.o */
	struct result none = run("inprocess", spec("one.o:two.o,main=none,debugger_support=off"));
	if (!none.ok)
		fail_msg("%s", none.error);
	assert_int_equal(none.graphs, 2);
	struct result sym = run("inprocess", spec("one.o:two.o,main=_Z3onei,run=off,"
						  "debugger_support=off"));
	if (!sym.ok)
		fail_msg("%s", sym.error);
	assert_int_equal(sym.graphs, 1); /* two.o is not needed */
}

/* cycles: loads dropped one after the other in one session, each followed
 * by a trim. Without a platform every slab-pool slab comes back; LLJIT's
 * platform graphs (lli session) stay and pin the first slab, as tvm-ffi's
 * ORC platform graphs do (docs/fidelity.md). */
static void test_cycles_platform_pins_first_slab(void **state)
{
	(void)state;
	NEED_FIXTURE();
	struct result bare = run("slab-pool", spec("main.o:helper.o,debugger_support=off,cycles=3"));
	struct result lli = run("slab-pool", spec("main.o:helper.o,session=lli,cycles=3"));
	printf("# bare: graphs %ld frees %ld trims %ld slabs released %ld | lli: graphs %ld frees "
	       "%ld trims %ld slabs released %ld\n", bare.graphs, bare.frees, bare.trims,
	       bare.trim_units, lli.graphs, lli.frees, lli.trims, lli.trim_units);
	if (!bare.ok || !lli.ok)
		fail_msg("%s %s", bare.error, lli.error);
	assert_int_equal(bare.graphs, 6);
	assert_int_equal(bare.frees, 6); /* every load dropped */
	assert_int_equal(bare.trims, 3);
	assert_int_equal(bare.trim_units, 3); /* its slab, each time */
	assert_int_equal(lli.trims, 3);
	assert_true(lli.graphs > lli.frees); /* the platform's graphs stay */
	assert_int_equal(lli.trim_units, 0);

	/* drop=end: the 3 loads kept (one slab holds them all), then all
	 * dropped and one trim, which gives that slab back; the VMAs of the
	 * 3 loads live at once, where each drop before the next load had
	 * 1 load's */
	struct result end = run("slab-pool", spec("main.o:helper.o,debugger_support=off,cycles=3,"
						  "drop=end"));
	printf("# drop=end: graphs %ld frees %ld trims %ld slabs released %ld\n", end.graphs,
	       end.frees, end.trims, end.trim_units);
	if (!end.ok)
		fail_msg("%s", end.error);
	assert_int_equal(end.graphs, 6);
	assert_int_equal(end.frees, 6);
	assert_int_equal(end.trims, 1);
	assert_int_equal(end.trim_units, 1);
}

/* platform=elfnix: ELFNixPlatform over the ORC runtime (Debian's
 * libclang-rt-22-dev) links bootstrap graphs of its own and runs main
 * through the runtime; link=lazy links through reentry stubs */
static void test_elfnix_platform(void **state)
{
	(void)state;
	NEED_FIXTURE();
	if (access("/usr/lib/llvm-22/lib/clang/22/lib/linux/liborc_rt-x86_64.a", R_OK) != 0) {
		SKIP_BECAUSE("no ORC runtime (libclang-rt-22-dev, scripts/install-deps)");
		return;
	}
	struct result bare = run("inprocess", spec("main.o:helper.o,debugger_support=off"));
	struct result nix = run("inprocess", spec("main.o:helper.o,platform=elfnix"));
	struct result lazy = run("inprocess", spec("main.o:helper.o,platform=elfnix,link=lazy"));
	printf("# graphs: bare %ld, elfnix %ld, elfnix lazy %ld\n", bare.graphs, nix.graphs,
	       lazy.graphs);
	if (!bare.ok || !nix.ok || !lazy.ok)
		fail_msg("%s %s %s", bare.error, nix.error, lazy.error);
	assert_int_equal(bare.graphs, 2);
	assert_true(nix.graphs > bare.graphs + 2); /* the runtime's graphs */
	assert_int_equal(nix.finalizes, nix.graphs); /* no debug objects here */
	assert_true(lazy.graphs > nix.graphs); /* stubs and reentry trampolines */
	struct result bad = run("inprocess", spec("main.o,platform=elfnix,orc_runtime=/nonexistent"));
	assert_false(bad.ok);
	assert_non_null(strstr(bad.error, "/nonexistent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_backend_links_c),
		cmocka_unit_test(test_every_backend_links_cpp),
		cmocka_unit_test(test_debugger_support_adds_one_per_object),
		cmocka_unit_test(test_trace_equals_link),
		cmocka_unit_test(test_comdat_linked_once),
		cmocka_unit_test(test_unresolved_symbol_is_an_error),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_entry_points),
		cmocka_unit_test(test_cycles_platform_pins_first_slab),
		cmocka_unit_test(test_elfnix_platform),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
