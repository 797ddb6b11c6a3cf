// The managers' half of the plugin table (see plugin_internal.h): the C
// functions of llvm/jitmm_llvm.h over the jm_llvm_mm classes, each LLVM
// error turned into the ABI's one-line message.
#include "mm_internal.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace llvm;

jm_llvm_mm::~jm_llvm_mm() = default;

Error jm_llvm_mm::read(uint64_t, void *, uint64_t)
{
	return createStringError(inconvertibleErrorCode(),
				 "this manager's memory is in this process");
}

Error jm_llvm_mm::execute(uint64_t, int32_t &)
{
	return createStringError(inconvertibleErrorCode(),
				 "this manager's memory is in this process");
}

uint64_t jm_llvm_option(const char *options, const char *key, uint64_t def)
{
	size_t kl = strlen(key);
	for (const char *p = options; p && *p;) {
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return strtoull(p + kl + 1, nullptr, 10);
		p = strchr(p, ',');
		p = p ? p + 1 : nullptr;
	}
	return def;
}

static int fail(const char *op, Error E, char *err, size_t errlen)
{
	std::string msg = std::string(op) + ": " + toString(std::move(E));
	for (char &c : msg) // one line
		if (c == '\n')
			c = ' ';
	snprintf(err, errlen, "%s", msg.c_str());
	return -1;
}

static jm_llvm_mm *mm_create(const char *kind, const char *options,
			     const jm_llvm_mm_host *host, char *err, size_t errlen)
{
	std::string e;
	std::unique_ptr<jm_llvm_mm> mm;
	if (!strcmp(kind, "inprocess"))
		mm = jm_llvm_mm_inprocess(options, e);
	else if (!strcmp(kind, "mapper"))
		mm = jm_llvm_mm_mapper(options, e);
	else if (!strcmp(kind, "section"))
		mm = jm_llvm_mm_section(options, e);
	else if (!strcmp(kind, "shm") && host)
		mm = jm_llvm_mm_shm(options, *host, e);
	else
		e = std::string("no memory manager of kind '") + kind + "'";
	if (!mm)
		snprintf(err, errlen, "%s", e.c_str());
	return mm.release();
}

static int mm_allocate(jm_llvm_mm *mm, jm_llvm_graph *g, void **alloc, char *err,
		       size_t errlen)
{
	if (Error E = mm->allocate(*g, alloc))
		return fail("allocate", std::move(E), err, errlen);
	return 0;
}

static int mm_finalize(jm_llvm_mm *mm, void **alloc, char *err, size_t errlen)
{
	if (Error E = mm->finalize(*alloc))
		return fail("finalize", std::move(E), err, errlen);
	return 0;
}

static int mm_deallocate(jm_llvm_mm *mm, void *alloc, char *err, size_t errlen)
{
	if (Error E = mm->deallocate(alloc))
		return fail("deallocate", std::move(E), err, errlen);
	return 0;
}

static int mm_abandon(jm_llvm_mm *mm, void *alloc, char *err, size_t errlen)
{
	if (Error E = mm->abandon(alloc))
		return fail("abandon", std::move(E), err, errlen);
	return 0;
}

static void mm_stats(jm_llvm_mm *mm, jm_llvm_mm_stats *out)
{
	memset(out, 0, sizeof(*out));
	mm->stats(*out);
}

static void mm_destroy(jm_llvm_mm *mm)
{
	delete mm;
}

static int32_t mm_exec_pid(jm_llvm_mm *mm)
{
	return mm->exec_pid();
}

static int mm_read(jm_llvm_mm *mm, uint64_t exec, void *buf, uint64_t len, char *err,
		   size_t errlen)
{
	if (Error E = mm->read(exec, buf, len))
		return fail("read", std::move(E), err, errlen);
	return 0;
}

static int mm_execute(jm_llvm_mm *mm, uint64_t exec, int32_t *ret, char *err,
		      size_t errlen)
{
	if (Error E = mm->execute(exec, *ret))
		return fail("execute", std::move(E), err, errlen);
	return 0;
}

// One graph of every segment kind through a throwaway manager of each
// in-process kind, finalized and freed, and one abandoned: a JIT process
// has run these paths before it is measured, so their first use (page
// faults on LLVM's code and data) is not counted as the managers' cost.
static void warm_up()
{
	jm_llvm_graph g = {};
	g.nseg = 4;
	g.seg[0] = {JM_LLVM_PROT_READ, JM_LLVM_LIFE_STANDARD, 100, 0, 8, 0, 0};
	g.seg[1] = {JM_LLVM_PROT_READ | JM_LLVM_PROT_WRITE, JM_LLVM_LIFE_STANDARD, 100, 100,
		    8, 0, 0};
	g.seg[2] = {JM_LLVM_PROT_READ | JM_LLVM_PROT_EXEC, JM_LLVM_LIFE_STANDARD, 100, 0,
		    16, 0, 0};
	g.seg[3] = {JM_LLVM_PROT_READ, JM_LLVM_LIFE_FINALIZE, 100, 0, 8, 0, 0};
	std::string e;
	std::unique_ptr<jm_llvm_mm> mms[] = {
		jm_llvm_mm_inprocess("", e),
		jm_llvm_mm_mapper("granularity=65536", e),
		jm_llvm_mm_section("", e),
	};
	for (auto &mm : mms) {
		void *a = nullptr, *b = nullptr;
		if (!mm)
			continue;
		if (!errorToBool(mm->allocate(g, &a)) && !errorToBool(mm->finalize(a)))
			consumeError(mm->deallocate(a));
		if (!errorToBool(mm->allocate(g, &b)))
			consumeError(mm->abandon(b));
	}
}

void jm_llvm_fill_managers(jm_llvm_plugin &table)
{
	jm_llvm_touch_source();
	warm_up();
	table.mm_create = mm_create;
	table.mm_allocate = mm_allocate;
	table.mm_finalize = mm_finalize;
	table.mm_deallocate = mm_deallocate;
	table.mm_abandon = mm_abandon;
	table.mm_stats = mm_stats;
	table.mm_destroy = mm_destroy;
	table.mm_exec_pid = mm_exec_pid;
	table.mm_read = mm_read;
	table.mm_execute = mm_execute;
}

llvm::jitlink::JITLinkMemoryManager *jm_llvm_mm_jitlink(jm_llvm_mm *mm)
{
	return mm ? mm->jitlink() : nullptr;
}
