/* --replay literal on a hand-written recording whose VMA count after each
 * syscall is known (the vmas= fields): the replay must change this
 * process's VMA count by exactly as much, at the recorded addresses and
 * when those are taken (relocated as one block). */
#include "testutil.h"

#include <sys/mman.h>

#include "../allocators/os.h"
#include "../run/replay_literal.h"
#include "../probes/procfs_sample.h"
#include "../workloads/trace.h"

/* a 1 MiB reservation at 0x7e0000000000 and what a JIT linker does in it */
static const char recording[] =
	"jitmm-trace 1\n"
	"source hand-written: a reservation, two segments, a hole\n"
	"arch x86_64\npage_size 4096\nsizes page\nmade_by tests/test_replay_literal.c\n"
	"# vmas: reserve +1, commit 2 pages rw splits +1, rx page +1, r page +2,\n"
	"# madvise 0, hole +1, failed mmap 0, separate mmap +1, its munmap -1,\n"
	"# rx page back to rw merges with its neighbour -1\n"
	"sys mmap addr=0x0 len=1048576 prot=--- flags=0x4022 ret=0x7e0000000000 vmas=100\n"
	"sys mmap addr=0x7e0000000000 len=8192 prot=rw- flags=0x32 ret=0x7e0000000000 vmas=101\n"
	"mark finalize\n"
	"alloc 1 rx=4096@4096\n"
	"sys mprotect addr=0x7e0000000000 len=4096 prot=r-x ret=0 vmas=102\n"
	"sys mprotect addr=0x7e0000004000 len=4096 prot=r-- ret=0 vmas=104\n"
	"sys madvise addr=0x7e0000001000 len=4096 advice=dontneed ret=0 vmas=104\n"
	"sys munmap addr=0x7e0000080000 len=4096 ret=0 vmas=105\n"
	"sys mmap addr=0x0 len=1099511627776 prot=rw- flags=0x22 ret=-12 vmas=105\n"
	"sys mmap addr=0x0 len=65536 prot=rw- flags=0x22 ret=0x7e0000200000 vmas=106\n"
	"sys munmap addr=0x7e0000200000 len=65536 ret=0 vmas=105\n"
	"sys mprotect addr=0x7e0000000000 len=4096 prot=rw- ret=0 vmas=104\n";

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/jm-literal-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, recording, sizeof(recording) - 1);
	close(fd);
	return n == (ssize_t)(sizeof(recording) - 1) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* VMAs overlapping [lo, hi): the replay's own, whatever else the process
 * (or a sanitizer's allocator) maps meanwhile */
static long vmas_in(uintptr_t lo, uintptr_t hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[512];
	long n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < hi && e > lo)
			n++;
	}
	fclose(f);
	return n;
}

/* Replay in-process; after every sys event our VMA growth (in the 4 MiB
 * the recording used, wherever the replay put it) must equal the
 * recording's. */
static void replay(struct jm_literal *l)
{
	char err[600];
	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	jm_literal_init(l);
	struct jm_event ev;
	long base = -1;
	int64_t rec_base = -1;
	int n = 0;
	while (jm_trace_read(r, &ev) > 0) {
		if (ev.type != JM_EV_SYS)
			continue;
		if (jm_literal_apply(l, &ev.sys, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		uintptr_t lo = (uintptr_t)(0x7e0000000000 + l->delta);
		long now = vmas_in(lo, lo + (4 << 20));
		if (base < 0) {
			base = now;
			rec_base = ev.sys.vmas;
		}
		if (now - base != ev.sys.vmas - rec_base)
			fail_msg("after sys event %d: VMAs %+ld here, %+lld recorded", n,
				 now - base, (long long)(ev.sys.vmas - rec_base));
		n++;
	}
	assert_string_equal(jm_trace_error(r), "");
	assert_int_equal(n, 10);
	jm_trace_close(r);
	assert_int_equal(l->failed_recorded, 1);
	assert_int_equal(l->untracked, 0);
	/* reserve, remap, 2 mprotect, madvise, munmap, mmap, munmap, mprotect */
	assert_int_equal(l->replayed, 9);
}

static void test_at_recorded_addresses(void **state)
{
	(void)state;
	void *probe = mmap((void *)0x7e0000000000, 1 << 21, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (probe == MAP_FAILED)
		SKIP_BECAUSE("0x7e0000000000 is taken in this process");
	munmap(probe, 1 << 21);
	struct jm_literal l;
	replay(&l);
	assert_int_equal(l.moved, 0);
	assert_true(l.n >= 1 && l.r[0].act == 0x7e0000000000);
	/* the protections landed where the recording put them */
	char why[200];
	if (tu_check_prot((void *)0x7e0000000000, 8192, "rw-", why, sizeof(why)) < 0 ||
	    tu_check_prot((void *)0x7e0000004000, 4096, "r--", why, sizeof(why)) < 0)
		fail_msg("%s", why);
	jm_literal_release(&l);
	assert_int_equal(vmas_in(0x7e0000000000, 0x7e0000000000 + (4 << 20)), 0);
}

static void test_relocated(void **state)
{
	(void)state;
	/* take the recorded address: the replay moves, as one block */
	void *block = mmap((void *)0x7e0000000000, 4096, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (block == MAP_FAILED)
		SKIP_BECAUSE("cannot map 0x7e0000000000 to force a relocation");
	struct jm_literal l;
	replay(&l);
	assert_true(l.moved >= 1);
	assert_true(l.delta != 0);
	uint64_t act = 0x7e0000000000 + (uint64_t)l.delta;
	char why[200];
	if (tu_check_prot((void *)act, 8192, "rw-", why, sizeof(why)) < 0 ||
	    tu_check_prot((void *)(act + 0x4000), 4096, "r--", why, sizeof(why)) < 0)
		fail_msg("%s", why);
	jm_literal_release(&l);
	assert_int_equal(vmas_in(act, act + (4 << 20)), 0);
	munmap(block, 4096);
}

static void test_cli(void **state)
{
	(void)state;
	char json[] = "/tmp/jm-literal-json-XXXXXX";
	close(mkstemp(json));
	char spec[100];
	snprintf(spec, sizeof(spec), "trace:%s", path);
	char *args[] = {"run", "-q", "-b", "null", "-w", spec, "--replay", "literal",
			"--json", json, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc)
		fail_msg("rc %d: %s", rc, err);
	free(out);
	free(err);
	FILE *f = fopen(json, "r");
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	unlink(json);
	/* json-c's pretty printer: "key":value or "key": value */
	const char *want[] = {"recorded_vmas_delta", "replayed_vmas_delta"};
	for (int i = 0; i < 2; i++) {
		const char *p = strstr(text, want[i]);
		assert_non_null(p);
		p = strchr(p, ':') + 1;
		while (*p == ' ')
			p++;
#if defined(__SANITIZE_ADDRESS__)
		/* the whole process's count: ASan's allocator maps too */
		if (i == 1 && atoi(p) >= 4 && atoi(p) <= 4 + 32) {
			printf("# ASan build: replayed_vmas_delta %d includes ASan's own mappings\n",
			       atoi(p));
			continue;
		}
#endif
		if (atoi(p) != 4)
			fail_msg("%s is %d, want 4", want[i], atoi(p));
	}
	assert_non_null(strstr(text, "graph_events_skipped"));
	/* literal with threads is refused */
	char *bad[] = {"run", "-q", "-b", "single-pool", "-w", spec, "--replay", "literal",
		       "--threads", "2", NULL};
	assert_int_equal(tu_run_jitmm(bad, &out, &err), 2);
	assert_non_null(strstr(err, "--replay literal"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_at_recorded_addresses),
		cmocka_unit_test(test_relocated),
		cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
