/* Design tests for shm-mapper (LLVM SharedMemoryMapper with a separate
 * executor process): code executes in the executor and not from the
 * controller's mapping; protections live in the executor; the controller's
 * and the executor's syscalls and VMAs are separate; deallocate resets no
 * protection; destroy releases every executor mapping and reaps it. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../allocators/shm_mapper.h"
#include "../linker/arch.h"
#include "../linker/contents.h"
#include "../probes/procfs_sample.h"

#define PAGE 4096ull

static void open_shm(struct jm_backend *b, const char *opts)
{
	char err[300];
	if (jm_backend_open(jm_backend_find("shm-mapper"), opts, b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static struct jm_graph_req graph(uint64_t id)
{
	struct jm_graph_req r = {.id = id, .nseg = 3};
	r.seg[0] = (struct jm_segment_req){JM_RO, JM_STANDARD, 100, 0, 8};
	r.seg[1] = (struct jm_segment_req){JM_RW, JM_STANDARD, 200, 300, 8};
	r.seg[2] = (struct jm_segment_req){JM_RX, JM_STANDARD, 64, 0, 16};
	return r;
}

static void alloc_fin(struct jm_backend *b, const struct jm_graph_req *r, struct jm_alloc *a)
{
	if (b->ops->allocate(b, r, a) < 0)
		fail_msg("allocate: %s", b->err);
	a->id = r->id;
	jm_contents_write(a);
	if (b->ops->finalize(b, a) < 0)
		fail_msg("finalize: %s", b->err);
}

/* Call fn in a child process: returns the signal that killed it, or 0 if
 * it returned (its value in *ret). */
static int call_in_child(const void *fn_addr, uint32_t *ret)
{
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		uint32_t (*fn)(void);
		memcpy(&fn, &fn_addr, sizeof(fn));
		uint32_t v = fn();
		if (write(pfd[1], &v, sizeof(v)) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	int status;
	waitpid(pid, &status, 0);
	ssize_t got = read(pfd[0], ret, sizeof(*ret));
	close(pfd[0]);
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	assert_int_equal(got, sizeof(*ret));
	return 0;
}

static void test_code_runs_in_executor_not_controller(void **state)
{
	(void)state;
	struct jm_backend b;
	open_shm(&b, "");
	pid_t ex = b.ops->exec_pid(&b);
	assert_true(ex > 0 && ex != getpid());
	struct jm_graph_req r = graph(7);
	struct jm_alloc a;
	alloc_fin(&b, &r, &a);
	struct jm_segment_alloc *code = &a.seg[2];
	char why[256] = "";
	/* the executor runs the code at the exec address */
	uint32_t got = 0;
	if (b.ops->execute(&b, code->exec, &got) < 0)
		fail_msg("%s", b.err);
	/* the linked entry function: it adds the words it loads RIP-relative
	 * from the graph's own ro and rw segments (linker/reloc.h) */
	assert_int_equal(got, a.link.value);
	/* protections are the executor's: r-- rw- r-x there ... */
	const char *want[3] = {"r--", "rw-", "r-x"};
	for (int i = 0; i < 3; i++)
		if (tu_check_prot_pid(ex, a.seg[i].exec, a.seg[i].size, want[i], why,
				      sizeof(why)) < 0)
			fail_msg("executor segment %d: %s", i, why);
	/* ... while the controller's view of all of them is rw- */
	for (int i = 0; i < 3; i++)
		if (tu_check_prot(a.seg[i].write, a.seg[i].size, "rw-", why, sizeof(why)) < 0)
			fail_msg("controller segment %d: %s", i, why);
	/* the controller cannot execute its view of the code */
	uint32_t v = 0;
	int sig = call_in_child(code->write, &v);
	assert_int_equal(sig, SIGSEGV);
	/* the two views are one shared object: a new immediate written by the
	 * controller into its RW view is what the executor's r-x code returns */
	uint8_t saved[16];
	memcpy(saved, code->write, sizeof(saved));
	jm_arch_emit_return_imm(code->write, code->content, 0x1234abcd);
	if (b.ops->execute(&b, code->exec, &got) < 0)
		fail_msg("%s", b.err);
	assert_int_equal(got, 0x1234abcd);
	/* contents read back through the executor's mapping */
	memcpy(code->write, saved, sizeof(saved));
	if (jm_contents_check_backend(&b, &a, 1, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	/* an exec address the executor never initialized is PROT_NONE there:
	 * reading it fails, calling it faults in the executor, which survives */
	const char *unused = (const char *)code->exec + 16 * PAGE;
	uint8_t byte;
	assert_int_equal(b.ops->read_exec(&b, unused, &byte, 1), -1);
	assert_non_null(strstr(b.err, "EFAULT"));
	assert_int_equal(b.ops->execute(&b, unused, &got), -1);
	assert_non_null(strstr(b.err, "signal"));
	if (b.ops->execute(&b, code->exec, &got) < 0)
		fail_msg("executor died after a fault: %s", b.err);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	jm_backend_close(&b);
}

static void test_syscalls_split_between_processes(void **state)
{
	(void)state;
	struct jm_backend b;
	struct jm_os_counters c0, c1, d;
	long v_before = jm_vma_count(0);
	jm_os_snapshot(&c0);
	open_shm(&b, "");
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(jm_os_total_calls(&d), 0);
	assert_int_equal(tu_backend_extra(&b, "executor_mmap_calls"), 0);
	assert_int_equal(tu_backend_extra(&b, "executor_vmas_added"), 0);

	/* first allocate: the executor creates, sizes and maps the shared
	 * object PROT_NONE; the controller maps its RW view: one mmap each */
	struct jm_graph_req r = graph(1);
	struct jm_alloc a, a2;
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->allocate(&b, &r, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 1ull << 30);
	assert_int_equal(jm_os_total_calls(&d), 1);
	assert_int_equal(tu_backend_extra(&b, "executor_memfd_create_calls"), 1);
	assert_int_equal(tu_backend_extra(&b, "executor_ftruncate_calls"), 1);
	assert_int_equal(tu_backend_extra(&b, "executor_mmap_calls"), 1);
	assert_int_equal(tu_backend_extra(&b, "executor_mprotect_calls"), 0);
	assert_int_equal(jm_vma_count(0), v_before + 1); /* the view only */
	assert_int_equal(tu_backend_extra(&b, "executor_vmas_added"), 1);

	/* finalize: no syscall in the controller, one mprotect per segment in
	 * the executor */
	a.id = 1;
	jm_contents_write(&a);
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->finalize(&b, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(jm_os_total_calls(&d), 0);
	assert_int_equal(tu_backend_extra(&b, "executor_mprotect_calls"), 3);
	/* [r--][rw-][r-x][--- rest]: 4 executor VMAs, the controller's 1 */
	assert_int_equal(tu_backend_extra(&b, "executor_vmas_added"), 4);
	assert_int_equal(jm_vma_count(0), v_before + 1);

	/* deallocate: no syscall anywhere, protections stay as they were */
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(jm_os_total_calls(&d), 0);
	assert_int_equal(tu_backend_extra(&b, "executor_mprotect_calls"), 3);
	char why[256] = "";
	if (tu_check_prot_pid(b.ops->exec_pid(&b), a.seg[2].exec, a.seg[2].size, "r-x",
			      why, sizeof(why)) < 0)
		fail_msg("%s", why);

	/* the range is reused: no new reservation, 3 executor mprotects */
	jm_os_snapshot(&c0);
	alloc_fin(&b, &r, &a2);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_ptr_equal(a2.seg[0].exec, a.seg[0].exec);
	assert_int_equal(jm_os_total_calls(&d), 0);
	assert_int_equal(tu_backend_extra(&b, "executor_mmap_calls"), 1);
	assert_int_equal(tu_backend_extra(&b, "executor_mprotect_calls"), 6);
	assert_int_equal(b.ops->deallocate(&b, &a2), 0);

	/* destroy: the controller munmaps its view, the executor its
	 * reservation, then exits with no mapping left over */
	pid_t ex = b.ops->exec_pid(&b);
	jm_os_snapshot(&c0);
	jm_backend_close(&b);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MUNMAP].calls, 1);
	assert_int_equal(jm_os_total_calls(&d), 1);
	assert_int_equal(jm_vma_count(0), v_before);
	struct jm_shm_exit_report rep;
	jm_shm_mapper_last_exit(&rep);
	assert_true(rep.valid);
	assert_int_equal(rep.pid, ex);
	assert_true(WIFEXITED(rep.exit_status) && WEXITSTATUS(rep.exit_status) == 0);
	assert_int_equal(rep.munmap_calls, 1);
	assert_int_equal(rep.reservations_released, 1);
	assert_int_equal(rep.vmas_at_exit, rep.vmas_baseline);
	assert_int_equal(kill(ex, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static void test_executor_vmas_grow_controller_flat(void **state)
{
	(void)state;
	struct jm_backend b;
	open_shm(&b, "");
	long v0 = jm_vma_count(0);
	enum { N = 40 };
	static struct jm_alloc a[N];
	for (int i = 0; i < N; i++) {
		struct jm_graph_req r = graph((uint64_t)i + 1);
		alloc_fin(&b, &r, &a[i]);
	}
	long ctl = jm_vma_count(0) - v0;
	uint64_t exv = tu_backend_extra(&b, "executor_vmas_added");
	printf("# %d graphs: controller +%ld VMAs, executor +%llu VMAs\n", N, ctl,
	       (unsigned long long)exv);
	assert_int_equal(ctl, 1);
	/* three segments per graph, the same class never adjacent: one VMA
	 * per segment, plus the PROT_NONE rest of the reservation */
	assert_int_equal(exv, 3 * N + 1);
	/* the same count in the core stats field the report adds to the row */
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_int_equal(st.vmas_other_processes, exv);
	for (int i = 0; i < N; i++)
		assert_int_equal(b.ops->deallocate(&b, &a[i]), 0);
	jm_backend_close(&b);
}

static void test_inprocess_mapper_mode(void **state)
{
	(void)state;
	struct jm_backend b;
	open_shm(&b, "mode=inprocess-mapper,granularity=16M");
	assert_int_equal(b.ops->exec_pid(&b), 0);
	struct jm_graph_req r = graph(3);
	struct jm_alloc a;
	struct jm_os_counters c0, c1, d;
	jm_os_snapshot(&c0);
	alloc_fin(&b, &r, &a);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	/* one RW private mmap, one mprotect per segment, in this process */
	assert_int_equal(d.sys[JM_SYS_MMAP].calls, 1);
	assert_int_equal(d.sys[JM_SYS_MMAP].bytes, 16ull << 20);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 3);
	assert_ptr_equal(a.seg[2].write, a.seg[2].exec);
	char why[256] = "";
	if (jm_contents_check(&a, 1, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	/* InProcessMemoryMapper::deinitialize resets the span to RW */
	jm_os_snapshot(&c0);
	assert_int_equal(b.ops->deallocate(&b, &a), 0);
	jm_os_snapshot(&c1);
	jm_os_diff(&c0, &c1, &d);
	assert_int_equal(d.sys[JM_SYS_MPROTECT].calls, 1);
	assert_int_equal(jm_os_total_calls(&d), 1);
	if (tu_check_prot(a.seg[2].exec, a.seg[2].size, "rw-", why, sizeof(why)) < 0)
		fail_msg("%s", why);
	jm_backend_close(&b);
}

static void test_small_granularity_reservations(void **state)
{
	(void)state;
	/* 64K reservations: graphs bigger than the free tail need new
	 * reservations; each one is a separate shared object in both
	 * processes, and a fit spans only reservations whose views follow
	 * each other in the controller too (contents read back right) */
	struct jm_backend b;
	open_shm(&b, "granularity=64K");
	enum { N = 24 };
	static struct jm_alloc a[N];
	for (int i = 0; i < N; i++) {
		struct jm_graph_req r = graph((uint64_t)i + 1);
		r.seg[0].content = 20000 + (uint64_t)i * 1000;
		alloc_fin(&b, &r, &a[i]);
	}
	struct jm_backend_stats st = {0};
	b.ops->stats(&b, &st);
	assert_true(st.reservations > 1);
	assert_int_equal(tu_backend_extra(&b, "executor_memfd_create_calls"), st.reservations);
	char why[256] = "";
	for (int i = 0; i < N; i++)
		if (jm_contents_check_backend(&b, &a[i], 1, why, sizeof(why)) < 0)
			fail_msg("%s", why);
	for (int i = 0; i < N; i += 2)
		assert_int_equal(b.ops->deallocate(&b, &a[i]), 0);
	for (int i = 0; i < N; i += 2) {
		struct jm_graph_req r = graph((uint64_t)(100 + i));
		alloc_fin(&b, &r, &a[i]);
	}
	for (int i = 0; i < N; i++) {
		if (jm_contents_check_backend(&b, &a[i], 1, why, sizeof(why)) < 0)
			fail_msg("%s", why);
		assert_int_equal(b.ops->deallocate(&b, &a[i]), 0);
	}
	uint64_t nres = st.reservations;
	jm_backend_close(&b);
	struct jm_shm_exit_report rep;
	jm_shm_mapper_last_exit(&rep);
	assert_int_equal(rep.reservations_released, nres);
	assert_int_equal(rep.munmap_calls, nres);
	assert_int_equal(rep.vmas_at_exit, rep.vmas_baseline);
}

static void test_run_reports_executor_separately(void **state)
{
	(void)state;
	if (access(tu_jitmm_bin(), X_OK) != 0)
		SKIP_BECAUSE("the jitmm binary is not built");
	/* page-pairs: one rx and one rw page per graph, each its own VMA in
	 * the executor; the controller adds only its shared view */
	char *args[] = {"run", "-r", "1", "--warmup", "0", "-q", "-b", "shm-mapper", "-w", "page-pairs:graphs=50",
			"--execute", NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err);
	const char *row = strstr(out, "| shm-mapper | ok | ");
	if (!row)
		fail_msg("no shm-mapper row in:\n%s", out);
	long ctl = strtol(row + strlen("| shm-mapper | ok | "), NULL, 10);
#ifndef __SANITIZE_ADDRESS__ /* ASan's allocator maps memory of its own */
	assert_true(ctl >= 1 && ctl <= 3); /* the view (+ harness heap growth) */
#else
	(void)ctl;
#endif
	const char *note = strstr(out, "the executor added ");
	if (!note)
		fail_msg("no executor note in:\n%s", out);
	long vmas = strtol(note + strlen("the executor added "), NULL, 10);
	printf("# executor added %ld VMAs for 50 page pairs\n", vmas);
	assert_int_equal(vmas, 2 * 50 + 1); /* rx, rw per graph + PROT_NONE rest */
	assert_non_null(strstr(note, "100 mprotect"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_runs_in_executor_not_controller),
		cmocka_unit_test(test_syscalls_split_between_processes),
		cmocka_unit_test(test_executor_vmas_grow_controller_flat),
		cmocka_unit_test(test_inprocess_mapper_mode),
		cmocka_unit_test(test_small_granularity_reservations),
		cmocka_unit_test(test_run_reports_executor_separately),
	};
	return cmocka_run_group_tests_name("shm-mapper design", tests, NULL, NULL);
}
