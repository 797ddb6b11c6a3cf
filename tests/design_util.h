/* Helpers shared by the design tests (tests/test_design_*.c): open a
 * backend, run one graph through allocate/write/finalize, read the os-layer
 * counters around an operation, ask /proc/self/maps whether an address is
 * mapped. */
#ifndef JITMM_DESIGN_UTIL_H
#define JITMM_DESIGN_UTIL_H

#include "testutil.h"

#include <json-c/json.h>
#include <sys/mman.h>

#include "../allocators/backend.h"
#include "../allocators/os.h"
#include "../linker/contents.h"
#include "../probes/procfs_sample.h"

static inline void du_open(struct jm_backend *b, const char *name, const char *opts)
{
	char err[300];
	const struct jm_backend_ops *ops = jm_backend_find(name);
	if (!ops)
		fail_msg("backend %s not registered", name);
	if (jm_backend_open(ops, opts, b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* jm_backend_open that may fail: 0, or -1 (the backend's error in err). */
static inline int du_try_open(struct jm_backend *b, const char *name,
			      const char *opts, char *err, size_t errlen)
{
	const struct jm_backend_ops *ops = jm_backend_find(name);
	if (!ops)
		fail_msg("backend %s not registered", name);
	return jm_backend_open(ops, opts, b, err, errlen);
}

/* 1 if backend name opens with writer=selfmem: this host lets a process
 * write its read-only pages through /proc/self/mem (Julia's probe). */
static inline int du_selfmem_works(const char *name)
{
	struct jm_backend b;
	char err[300];
	if (du_try_open(&b, name, "writer=selfmem", err, sizeof(err)) < 0) {
		printf("# /proc/self/mem writer unavailable here: %s\n", err);
		return 0;
	}
	jm_backend_close(&b);
	return 1;
}

/* A graph of one standard segment per class with the given sizes (0 = no
 * segment of that class), alignment 16. */
static inline void du_graph(struct jm_graph_req *req, uint64_t id, uint64_t ro,
			    uint64_t rw, uint64_t rx)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	uint64_t sz[JM_NCLASS] = {[JM_RO] = ro, [JM_RW] = rw, [JM_RX] = rx};
	for (int c = 0; c < JM_NCLASS; c++)
		if (sz[c])
			req->seg[req->nseg++] = (struct jm_segment_req){
				(enum jm_prot_class)c, JM_STANDARD, sz[c], 0, 16};
	jm_graph_normalize(req);
}

static inline void du_alloc(struct jm_backend *b, const struct jm_graph_req *req,
			    struct jm_alloc *a)
{
	if (b->ops->allocate(b, req, a) < 0)
		fail_msg("%s: allocate: %s", b->ops->name, b->err);
	a->id = req->id;
	jm_contents_write(a);
}

static inline void du_finalize(struct jm_backend *b, struct jm_alloc *a)
{
	char why[256] = "";
	if (b->ops->finalize(b, a) < 0)
		fail_msg("%s: finalize: %s", b->ops->name, b->err);
	if (jm_contents_check(a, 1, why, sizeof(why)) < 0)
		fail_msg("%s: %s", b->ops->name, why);
}

/* allocate + write + finalize */
static inline void du_link(struct jm_backend *b, const struct jm_graph_req *req,
			   struct jm_alloc *a)
{
	du_alloc(b, req, a);
	du_finalize(b, a);
}

/* Counter snapshots: du_mark() then du_calls(JM_SYS_x) = calls since. */
static struct jm_os_counters du_before;
static inline void du_mark(void) { jm_os_snapshot(&du_before); }
/* The os-layer counters since du_mark(). */
static inline struct jm_os_counters du_since_mark(void)
{
	struct jm_os_counters now, d;
	jm_os_snapshot(&now);
	jm_os_diff(&du_before, &now, &d);
	return d;
}
static inline uint64_t du_calls(enum jm_sys s) { return du_since_mark().sys[s].calls; }
static inline uint64_t du_bytes(enum jm_sys s) { return du_since_mark().sys[s].bytes; }
/* Calls of every counted syscall since du_mark(). */
static inline uint64_t du_total_calls(void)
{
	struct jm_os_counters d = du_since_mark();
	return jm_os_total_calls(&d);
}

/* VMA counts are only meaningful without AddressSanitizer, whose allocator
 * maps memory of its own as the test mallocs: 0 (with a printed note) in
 * ASan builds, where tests still check syscalls, addresses, protections and
 * contents but not VMA counts. */
#if defined(__SANITIZE_ADDRESS__)
#define DU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DU_ASAN 1
#endif
#endif
static inline int du_vmas_reliable(void)
{
#ifdef DU_ASAN
	printf("# VMA count checks skipped: AddressSanitizer maps its own memory\n");
	return 0;
#else
	return 1;
#endif
}

/* 1 if any VMA of this process covers addr. */
static inline int du_mapped(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && addr >= s && addr < e) {
			found = 1;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* Run `jitmm run --backend B --workload W --json tmp` and return the parsed
 * results (caller frees with json_object_put), or skip when the jitmm
 * binary is missing. */
static inline json_object *du_cli_run(const char *backends, const char *workload)
{
	const char *bin = tu_jitmm_bin();
	if (access(bin, X_OK) != 0)
		SKIP_BECAUSE("no jitmm binary at %s (run through make test)", bin);
	char path[] = "/tmp/jitmm-design-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char *args[] = {"run", "-r", "1", "--warmup", "0", "--backend", (char *)backends,
			"--workload", (char *)workload, "--json", path, NULL};
	char *out = NULL, *err = NULL;
	int rc = tu_run_jitmm(args, &out, &err);
	if (rc != 0)
		fail_msg("jitmm run exited %d: %s", rc, err ? err : "");
	free(out);
	free(err);
	json_object *j = json_object_from_file(path);
	unlink(path);
	if (!j)
		fail_msg("cannot parse the run JSON");
	return j;
}

/* metrics.<key> of run i of a results object */
static inline int64_t du_metric(json_object *res, int i, const char *key)
{
	json_object *runs, *run, *m, *v;
	if (!json_object_object_get_ex(res, "runs", &runs) ||
	    !(run = json_object_array_get_idx(runs, (size_t)i)) ||
	    !json_object_object_get_ex(run, "metrics", &m) ||
	    !json_object_object_get_ex(m, key, &v))
		fail_msg("run %d has no metrics.%s", i, key);
	return json_object_get_int64(v);
}

static inline const char *du_run_field(json_object *res, int i, const char *key)
{
	json_object *runs, *run, *v;
	if (!json_object_object_get_ex(res, "runs", &runs) ||
	    !(run = json_object_array_get_idx(runs, (size_t)i)) ||
	    !json_object_object_get_ex(run, key, &v))
		fail_msg("run %d has no %s", i, key);
	return json_object_get_string(v);
}

#endif
