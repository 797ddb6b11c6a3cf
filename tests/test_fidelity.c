/* Fidelity: jitmm's model, replaying the trace of a static library, must
 * predict what the real LLVM JIT linkers did on the same objects (the
 * shipped recordings workloads/traces/LIB-llvmV-llvm-jitlink.jmt and
 * LIB-llvmV-lli.jmt, made by scripts/record-llvm-jitlink.sh): JIT-region
 * VMAs (at their peak), finalize mprotects and mmaps. For LLVM 14 and 19 the
 * traces are ELF-derived (from-elf, within 5%); for LLVM 22 they are the
 * real linker's own graphs (trace from-jitlink, within 2%) and from-elf's
 * prediction beside them. No LLVM is needed here: the recordings carry
 * their counts (the "# jit:" line, docs/recording.md). The table and the
 * commands are in docs/fidelity.md. */
#include "testutil.h"

#include <json-c/json.h>

#include "../workloads/recorder.h"

#define TRACES "workloads/traces/"

struct model {
	long graphs, vmas, mprotects, mmaps;
};

static int run_model(const char *trace, const char *backend, struct model *m)
{
	char json[] = "/tmp/jm-fidelity-XXXXXX";
	int fd = mkstemp(json);
	if (fd < 0)
		return -1;
	close(fd);
	char wl[256];
	snprintf(wl, sizeof(wl), "trace:%s", trace);
	char *args[] = {"run", "-b", (char *)backend, "-w", wl, "--json", json, NULL};
	char *err = NULL;
	int rc = tu_run_jitmm(args, NULL, &err);
	if (rc != 0) {
		printf("# jitmm run %s %s: exit %d: %s\n", backend, trace, rc, err ? err : "");
		free(err);
		unlink(json);
		return -1;
	}
	free(err);
	json_object *root = json_object_from_file(json);
	unlink(json);
	if (!root)
		return -1;
	json_object *mt = json_object_object_get(
		json_object_array_get_idx(json_object_object_get(root, "runs"), 0), "metrics");
	json_object *sys = json_object_object_get(mt, "syscalls");
#define GET(o, k) json_object_get_int64(json_object_object_get(o, k))
	m->graphs = (long)GET(mt, "graphs");
	m->vmas = (long)GET(mt, "vmas_added");
	m->mprotects = (long)GET(json_object_object_get(sys, "mprotect"), "calls");
	m->mmaps = (long)GET(json_object_object_get(sys, "mmap"), "calls");
#undef GET
	json_object_put(root);
	return 0;
}

static int within(long model, long real, long pct)
{
	long d = model > real ? model - real : real - model;
	return d * 100 <= pct * real;
}

static int within5(long model, long real)
{
	return within(model, real, 5);
}

enum { OK_VMAS = 1, OK_MPROTECTS = 2, OK_MMAPS = 4, OK_ALL = 7 };

/* rec vs the model: which counts are within 5% (OK_*); *extra_graphs is
 * how many more graphs the real linker made than the model */
static int compare_graphs(const char *recording, const char *elf, const char *backend,
			  long *extra_graphs)
{
	char err[300];
	struct jm_rec_summary s;
	if (jm_recording_summary(recording, &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct model m;
	if (run_model(elf, backend, &m) < 0)
		fail_msg("jitmm run -b %s -w trace:%s failed", backend, elf);
	printf("# %-40s graphs %3llu vmas %3lld mprotects %3llu mmaps %3llu | %s on %s: "
	       "graphs %3ld vmas %3ld mprotects %3ld mmaps %3ld\n",
	       recording, (unsigned long long)s.graphs, (long long)s.jit_vmas_peak,
	       (unsigned long long)s.jit_fin_mprotects, (unsigned long long)s.jit_mmaps,
	       backend, elf, m.graphs, m.vmas, m.mprotects, m.mmaps);
	*extra_graphs = (long)s.graphs - m.graphs;
	return (within5(m.vmas, (long)s.jit_vmas_peak) ? OK_VMAS : 0) |
	       (within5(m.mprotects, (long)s.jit_fin_mprotects) ? OK_MPROTECTS : 0) |
	       (within5(m.mmaps, (long)s.jit_mmaps) ? OK_MMAPS : 0);
}

static int compare(const char *recording, const char *elf, const char *backend)
{
	long extra;
	int ok = compare_graphs(recording, elf, backend, &extra);
	assert_int_equal(extra, 0);
	return ok;
}

/* llvm-jitlink-19 uses MapperJITLinkMemoryManager with one 1 GiB
 * reservation (docs/fidelity.md): single-pool:granularity=1G must match */
static void test_llvm19_jitlink_zlib(void **state)
{
	(void)state;
	assert_int_equal(compare(TRACES "zlib-llvm19-llvm-jitlink.jmt", TRACES "zlib-llvm19-elf.jmt",
				 "single-pool:granularity=1G"), OK_ALL);
}

static void test_llvm19_jitlink_sqlite(void **state)
{
	(void)state;
	assert_int_equal(compare(TRACES "sqlite3-llvm19-llvm-jitlink.jmt",
				 TRACES "sqlite3-llvm19-elf.jmt", "single-pool:granularity=1G"),
			 OK_ALL);
	/* inprocess gets the VMAs right here too, but not the mmaps */
	assert_false(compare(TRACES "sqlite3-llvm19-llvm-jitlink.jmt",
			     TRACES "sqlite3-llvm19-elf.jmt", "inprocess") & OK_MMAPS);
}

/* llvm-jitlink-14 uses jitlink::InProcessMemoryManager (one mmap per
 * graph, docs/fidelity.md): the inprocess model must match it */
static void test_llvm_jitlink_zlib(void **state)
{
	(void)state;
	assert_int_equal(compare(TRACES "zlib-llvm14-llvm-jitlink.jmt", TRACES "zlib-llvm14-elf.jmt",
				 "inprocess"), OK_ALL);
}

static void test_llvm_jitlink_sqlite(void **state)
{
	(void)state;
	assert_int_equal(compare(TRACES "sqlite3-llvm14-llvm-jitlink.jmt",
				 TRACES "sqlite3-llvm14-elf.jmt", "inprocess"), OK_ALL);
}

/* lli -jit-kind=orc -jit-linker=jitlink: the same manager. lli links
 * exactly one graph of its own besides the objects (LLJIT's platform
 * support module, linked at exit: docs/fidelity.md), which is not in the
 * ELF-derived trace: VMAs and mprotects still agree within 5%; the mmap
 * count differs by that one graph (1 of 17 for zlib: 5.9%). */
static void lli(const char *rec, const char *elf)
{
	long extra;
	int ok = compare_graphs(rec, elf, "inprocess", &extra);
	assert_int_equal(extra, 1);
	assert_int_equal(ok & (OK_VMAS | OK_MPROTECTS), OK_VMAS | OK_MPROTECTS);
}

static void test_lli_zlib(void **state)
{
	(void)state;
	lli(TRACES "zlib-llvm14-lli.jmt", TRACES "zlib-llvm14-elf.jmt");
}

static void test_lli_sqlite(void **state)
{
	(void)state;
	lli(TRACES "sqlite3-llvm14-lli.jmt", TRACES "sqlite3-llvm14-elf.jmt");
}

/* The comparison discriminates: a pool model makes one reservation where
 * LLVM 14 made one mmap per graph, and the default ELF layout (read-only
 * data in its own r-- segment, as newer LLVM does) predicts too few VMAs
 * and mprotects for LLVM 14, whose ELF graph builder makes every
 * non-executable section read-write. */
static void test_wrong_models_fail(void **state)
{
	(void)state;
	char err[300];
	struct jm_rec_summary s;
	if (jm_recording_summary(TRACES "zlib-llvm14-llvm-jitlink.jmt", &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct model pool;
	assert_int_equal(run_model(TRACES "zlib-llvm14-elf.jmt", "single-pool:granularity=1G",
				   &pool), 0);
	printf("# single-pool:granularity=1G: mmaps %ld (llvm-jitlink-14: %llu)\n", pool.mmaps,
	       (unsigned long long)s.jit_mmaps);
	assert_false(within5(pool.mmaps, (long)s.jit_mmaps));
	long extra;
	int ok = compare_graphs(TRACES "sqlite3-llvm14-llvm-jitlink.jmt", TRACES "sqlite3.jmt",
				"inprocess", &extra);
	assert_int_equal(ok & (OK_VMAS | OK_MPROTECTS), 0);
}

/* The shipped LLVM 14 layout is what `from-elf --sections llvm14` makes of
 * Debian's libz.a (zlib1g-dev 1:1.2.13.dfsg-1, fetched by `make test` into
 * build/reference/) (member for member, main.o aside), and the layout
 * differs from the default one where LLVM 14 differs: read-only sections
 * in rw, only the GOT in ro. */
static void test_sections_llvm14(void **state)
{
	(void)state;
	const char *lib = "build/reference/libz.a";
	if (access(lib, R_OK) != 0) {
		SKIP_BECAUSE("%s missing (scripts/fetch-reference-archives could not "
			     "download zlib1g-dev 1:1.2.13.dfsg-1)", lib);
		return;
	}
	char *out = NULL, *err = NULL;
	char *args[] = {"trace", "from-elf", "--sections", "llvm14", (char *)lib, "-o", "-", NULL};
	assert_int_equal(tu_run_jitmm(args, &out, &err), 0);
	free(err);
	FILE *f = fopen(TRACES "zlib-llvm14-elf.jmt", "r");
	assert_non_null(f);
	static char shipped[1 << 16];
	size_t n = fread(shipped, 1, sizeof(shipped) - 1, f);
	fclose(f);
	shipped[n] = 0;
	int members = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "alloc ", 6))
			continue;
		const char *segs = strchr(line + 6, ' '); /* after the id */
		assert_non_null(segs);
		if (!strstr(shipped, segs))
			fail_msg("'%s' is not in the shipped trace", line);
		members++;
	}
	free(out);
	assert_int_equal(members, 15);
	assert_non_null(strstr(shipped, " rw=224@8 rx=2237@16 name=adler32.o\n"));
	assert_non_null(strstr(shipped, " ro=72@8 rw=1728@32 rx=19800@16 name=deflate.o\n"));
	char *bad[] = {"trace", "from-elf", "--sections", "llvm99", (char *)lib, "-o", "-", NULL};
	assert_int_equal(tu_run_jitmm(bad, NULL, NULL), 2);
}

/* LLVM 22: the recording against a trace's replay on backend; which of
 * VMAs (within pct, or within slack VMAs) and finalize mprotects (within
 * pct) agree, and whether the mmaps are equal (OK_*) */
static int llvm22_slack(const char *recording, const char *trace, const char *backend, long pct,
			long slack)
{
	char err[300], rec[128], tr[128];
	snprintf(rec, sizeof(rec), TRACES "%s", recording);
	snprintf(tr, sizeof(tr), TRACES "%s", trace);
	struct jm_rec_summary s;
	if (jm_recording_summary(rec, &s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct model m;
	if (run_model(tr, backend, &m) < 0)
		fail_msg("jitmm run -b %s -w trace:%s failed", backend, tr);
	printf("# %-40s vmas %4lld mprotects %4llu mmaps %4llu | %s on %s: vmas %4ld mprotects "
	       "%4ld mmaps %4ld\n", recording, (long long)s.jit_vmas_peak,
	       (unsigned long long)s.jit_fin_mprotects, (unsigned long long)s.jit_mmaps, backend,
	       trace, m.vmas, m.mprotects, m.mmaps);
	long dv = m.vmas - (long)s.jit_vmas_peak;
	int vmas_ok = within(m.vmas, (long)s.jit_vmas_peak, pct) || (dv <= slack && -dv <= slack);
	return (vmas_ok ? OK_VMAS : 0) |
	       (within(m.mprotects, (long)s.jit_fin_mprotects, pct) ? OK_MPROTECTS : 0) |
	       (m.mmaps == (long)s.jit_mmaps ? OK_MMAPS : 0);
}

static int llvm22(const char *recording, const char *trace, const char *backend, long pct)
{
	return llvm22_slack(recording, trace, backend, pct, 0);
}

/* llvm-jitlink-22 (MapperJITLinkMemoryManager, 1 GiB) in its default
 * configuration (debugger support on; -num-threads=0 so that the recording
 * is one link order) and with -debugger-support=false: the real linker's
 * graphs on single-pool:granularity=1G within 2%; from-elf --dedup
 * --debugger-support llvm-jitlink within 2% on the C archives, 3% on the
 * C++ one (it links members JITLink never pulls in) */
static void llvm22_jitlink(const char *lib, const char *ext, long elf_pct)
{
	static const char *const variants[] = {"", "-nodbg"};
	for (int v = 0; v < 2; v++) {
		char rec[96], jl[96], elf[96];
		snprintf(rec, sizeof(rec), "%s-llvm22%s-llvm-jitlink.jmt%s", lib, variants[v], ext);
		snprintf(jl, sizeof(jl), "%s-llvm22%s-jitlink.jmt%s", lib, variants[v], ext);
		snprintf(elf, sizeof(elf), "%s-llvm22%s-elf.jmt%s", lib, variants[v], ext);
		assert_int_equal(llvm22(rec, jl, "single-pool:granularity=1G", 2), OK_ALL);
		assert_int_equal(llvm22(rec, elf, "single-pool:granularity=1G", elf_pct), OK_ALL);
	}
}

/* lli-22 (InProcessMemoryManager: one mmap per graph) on inprocess: the
 * graphs of its session (LLJIT's platform graphs and the r-- debug objects
 * included) give its mmaps and mprotects exactly; its VMAs depend on where
 * the kernel puts each mmap, next to which neighbour (ASLR): over 15 runs
 * each, zlib's recorded peak ranged 42..47 and jitlink:'s 43..45, both with
 * median 44 (docs/fidelity.md). One recording against one replay is
 * checked within 2%, or 6 VMAs for the small ones. */
static void llvm22_lli(const char *lib, const char *ext)
{
	char rec[96], jl[96];
	snprintf(rec, sizeof(rec), "%s-llvm22-lli.jmt%s", lib, ext);
	snprintf(jl, sizeof(jl), "%s-llvm22-jitlink-lli.jmt%s", lib, ext);
	assert_int_equal(llvm22_slack(rec, jl, "inprocess", 2, 6), OK_ALL);
	assert_int_equal(llvm22(rec, jl, "inprocess", 0) & (OK_MPROTECTS | OK_MMAPS),
			 OK_MPROTECTS | OK_MMAPS);
}

static void test_llvm22_zlib(void **state)
{
	(void)state;
	llvm22_jitlink("zlib", "", 2);
	llvm22_lli("zlib", "");
	/* from-elf cannot see lli's platform graphs: off by 4 graphs */
	assert_false(llvm22("zlib-llvm22-lli.jmt", "zlib-llvm22-elf-lli.jmt", "inprocess", 5) &
		     OK_MMAPS);
}

static void test_llvm22_sqlite(void **state)
{
	(void)state;
	llvm22_jitlink("sqlite3", "", 2);
	llvm22_lli("sqlite3", "");
}

static void test_llvm22_crypto(void **state)
{
	(void)state;
	llvm22_jitlink("crypto", ".zst", 2);
	llvm22_lli("crypto", ".zst");
}

static void test_llvm22_llvmsupport(void **state)
{
	(void)state;
	llvm22_jitlink("llvmsupport", ".zst", 3);
	llvm22_lli("llvmsupport", ".zst");
	/* without dedup and with every member, from-elf is 10% over */
	assert_false(llvm22("llvmsupport-llvm22-llvm-jitlink.jmt.zst",
			    "llvmsupport-llvm22-jitlink.jmt.zst", "inprocess", 2) & OK_MMAPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llvm19_jitlink_zlib),
		cmocka_unit_test(test_llvm19_jitlink_sqlite),
		cmocka_unit_test(test_llvm_jitlink_zlib),
		cmocka_unit_test(test_llvm_jitlink_sqlite),
		cmocka_unit_test(test_lli_zlib),
		cmocka_unit_test(test_lli_sqlite),
		cmocka_unit_test(test_wrong_models_fail),
		cmocka_unit_test(test_sections_llvm14),
		cmocka_unit_test(test_llvm22_zlib),
		cmocka_unit_test(test_llvm22_sqlite),
		cmocka_unit_test(test_llvm22_crypto),
		cmocka_unit_test(test_llvm22_llvmsupport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
