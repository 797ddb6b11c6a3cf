/* The one boundary between jitmm (C) and its LLVM plugin (C++, built with a
 * chosen LLVM's llvm-config). The plugin exports one function,
 * jitmm_llvm_plugin(), returning one versioned struct of function pointers;
 * nothing else crosses. jitmm dlopen()s the plugin in the measured child
 * only: the parent never maps libLLVM, so plugins built from two LLVM trees
 * (upstream and a patched build) run side by side in one matrix, one per
 * child.
 *
 * This header is C (and C++-clean), includes only the C standard library,
 * and uses fixed-width types: a plugin built months earlier against another
 * jitmm tree is refused by its ABI version, never misread. Any change to a
 * struct below bumps JM_LLVM_ABI_VERSION.
 *
 * Two halves:
 *  - memory managers (mm_*): the real LLVM JITLinkMemoryManager classes (and
 *    RuntimeDyld's SectionMemoryManager) behind jitmm's backend protocol,
 *    for the llvm-* backends (allocators/llvm_*.c);
 *  - the JIT linker front end (link_*): LLVM's ORC ExecutionSession +
 *    ObjectLinkingLayer linking real objects, its memory manager being
 *    either a real one (mm_*) or any jitmm backend through host callbacks
 *    (struct jm_llvm_host_mm), for the jitlink: workload. */
#ifndef JITMM_LLVM_H
#define JITMM_LLVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JM_LLVM_ABI_VERSION 3u
/* The symbol a plugin exports (dlsym). */
#define JM_LLVM_ENTRY "jitmm_llvm_plugin"
/* A NUL-terminated string the plugin exports beside it: the LLVM version it
 * was built with, readable from the file without loading it (the parent
 * never loads a plugin). */
#define JM_LLVM_VERSION_SYMBOL "jitmm_llvm_plugin_llvm_version"

/* LLVM's MemProt bits and MemLifetime values (Orc/Shared/MemoryFlags.h). */
enum {
	JM_LLVM_PROT_READ = 1u,
	JM_LLVM_PROT_WRITE = 2u,
	JM_LLVM_PROT_EXEC = 4u,
};
enum {
	JM_LLVM_LIFE_STANDARD = 0u,
	JM_LLVM_LIFE_FINALIZE = 1u,
	/* no memory at all in the executor (LLVM's NoAlloc: debug sections
	 * some tools keep only in the controller) */
	JM_LLVM_LIFE_NOALLOC = 2u,
};

#define JM_LLVM_MAX_SEGS 8

/* One segment (an AllocGroup) of a graph: what is requested, and where
 * the manager put it. */
struct jm_llvm_seg {
	uint32_t prot;      /* JM_LLVM_PROT_* */
	uint32_t lifetime;  /* JM_LLVM_LIFE_* */
	uint64_t content;   /* bytes the linker writes */
	uint64_t zero_fill; /* bytes after them that read as zero */
	uint64_t align;     /* power of two */
	/* filled by allocate: where the linker writes (working memory) and
	 * where the bytes live at run time (target address) */
	uint64_t write;
	uint64_t exec;
};

/* One LinkGraph's request. */
struct jm_llvm_graph {
	uint64_t id;
	uint32_t dylib;     /* JITDylib index, 0 for the first */
	uint32_t nseg;
	const char *name;   /* the graph's name (an object's path), may be NULL */
	struct jm_llvm_seg seg[JM_LLVM_MAX_SEGS];
};

/* What only the plugin can see of a manager, for metrics (the host counts
 * this process's mappings itself, through its os layer): an executor's
 * VMAs and syscalls (llvm-shm) and named counters. */
struct jm_llvm_mm_stats {
	uint64_t vmas_other_processes;
	uint32_t nextra;
	uint32_t pad;
	struct {
		char name[32];
		uint64_t value;
	} extra[8];
};

/* ---- memory managers ---------------------------------------------------
 * kind: "inprocess" (jitlink::InProcessMemoryManager), "mapper"
 * (orc::MapperJITLinkMemoryManager over InProcessMemoryMapper), "shm"
 * (the same over SharedMemoryMapper and a real executor process),
 * "section" (RuntimeDyld's SectionMemoryManager). options: "key=value,..."
 * with sizes in bytes: granularity=N (mapper, shm), reserve=0|1 (section:
 * reserveAllocationSpace before each graph). Every call returns 0, or -1
 * with a one-line message in err. */
struct jm_llvm_mm;

/* Counters of the host's os layer, in this order. */
enum {
	JM_LLVM_SYS_MMAP,
	JM_LLVM_SYS_MUNMAP,
	JM_LLVM_SYS_MPROTECT,
	JM_LLVM_SYS_MADVISE,
	JM_LLVM_SYS_MEMFD_CREATE,
	JM_LLVM_SYS_FTRUNCATE,
	JM_LLVM_NSYS
};

/* What the host lends the managers. An llvm-shm executor is a fork of the
 * measured process whose LLVM memory syscalls go through the host's os
 * layer too (the host binds them at load); it reports its own counts and
 * VMAs with these. */
struct jm_llvm_mm_host {
	void (*counters_reset)(void);
	/* calls of each JM_LLVM_SYS_* in this process since the last reset */
	void (*counters)(uint64_t calls[JM_LLVM_NSYS]);
	/* VMAs of this process, -1 if unknown */
	long (*vma_count)(void);
};

/* ---- the JIT linker front end ------------------------------------------
 * LLVM's ORC session (llvm-jitlink's or lli's) linking real objects and
 * archives: the jitlink: workload and `jitmm trace from-jitlink`
 * (docs/jitlink.md). Its memory manager is a jitmm backend behind host
 * callbacks, or one of this plugin's real managers (mm).
 *
 * Host callbacks: the plugin's JITLinkMemoryManager adapter turns each
 * real graph (its BasicLayout segments) into a jm_llvm_graph and calls
 * allocate, which fills write/exec of every segment; JITLink copies the
 * contents to write and applies its fixups against exec; finalize applies
 * the protections (the plugin then runs the graph's allocation actions,
 * when run_alloc_actions); deallocate frees a finalized graph, abandon one
 * that was never finalized. handle: whatever allocate stored. The plugin
 * serializes the calls (one at a time, whatever the link's threads).
 * When the link uses a real manager (link_run's mm), the plugin allocates
 * with it and calls the same callbacks after each operation: allocate
 * then gets write/exec filled (non-zero; 0 in host mode) and the host only
 * counts. Each callback returns 0, or -1 with a one-line message in err. */
struct jm_llvm_host_mm {
	void *ctx;
	/* 1: run allocation actions (eh-frame and debugger registration) in
	 * this process after finalize; 0: the memory lives in another process
	 * (an executor), which would run them: they are counted, not run */
	uint32_t run_alloc_actions;
	uint32_t pad;
	int (*allocate)(void *ctx, struct jm_llvm_graph *g, uint64_t *handle,
			char *err, size_t errlen);
	int (*finalize)(void *ctx, uint64_t handle, char *err, size_t errlen);
	int (*deallocate)(void *ctx, uint64_t handle, char *err, size_t errlen);
	int (*abandon)(void *ctx, uint64_t handle, char *err, size_t errlen);
	/* a load was dropped (opts->cycles): give free memory back; may be
	 * NULL */
	int (*trim)(void *ctx, char *err, size_t errlen);
};

/* Which real tool's ORC session the link reproduces. */
enum {
	/* llvm-jitlink: ExecutionSession + ObjectLinkingLayer, a Process
	 * JITDylib, EHFrameRegistrationPlugin, ELFDebugObjectPlugin with
	 * RequireDebugSections (objects without DWARF get a debug-object
	 * allocation that is never finalized) */
	JM_LLVM_SESSION_LLVM_JITLINK = 0,
	/* lli -jit-kind=orc: LLJIT with its generic IR platform (initialize /
	 * deinitialize link graphs of their own) and enableDebuggerSupport
	 * (every object's debug object finalized r--) */
	JM_LLVM_SESSION_LLI = 1,
};
enum {
	JM_LLVM_PLATFORM_NONE = 0,   /* as llvm-jitlink without -orc-runtime */
	JM_LLVM_PLATFORM_ELFNIX = 1, /* ELFNixPlatform over opts->orc_runtime */
};
enum {
	JM_LLVM_MAIN_AUTO = 0, /* an object input's main if one defines it, else the stub */
	JM_LLVM_MAIN_STUB = 1, /* a main graph of the plugin's own referencing one
				* global symbol of every object and archive member */
	JM_LLVM_MAIN_SYMBOL = 2, /* look up opts->main_symbol */
	JM_LLVM_MAIN_NONE = 3, /* no entry: every member is loaded and every
				* defined symbol looked up */
};

/* What to link and how, mirroring llvm-jitlink's and lli's options. */
struct jm_llvm_link_opts {
	const char *const *inputs; /* object files and archives, in order */
	uint32_t ninputs;
	uint32_t session;          /* JM_LLVM_SESSION_* */
	uint32_t platform;         /* JM_LLVM_PLATFORM_* */
	uint32_t main_kind;        /* JM_LLVM_MAIN_* */
	uint32_t debugger_support; /* 1: the tool's ELF debugger support (default) */
	uint32_t lazy;             /* 1: inputs linked lazily (needs elfnix) */
	uint32_t threads;          /* materialization threads; 0: the calling one */
	uint32_t define_missing;   /* 1: unresolved externals get dummies */
	uint32_t run;              /* 1: run the entry point (and lli's
				    * initialize/deinitialize), as the tools do */
	/* >1: load the inputs this many times into fresh JITDylibs of one
	 * session, each dropped (removeJITDylib) and followed by the host's
	 * trim, as tvm-ffi loads and unloads modules; 0 or 1: one link */
	uint32_t cycles;
	/* with cycles > 1: 0: each load dropped before the next; 1: every
	 * load kept, then all dropped in load order and one trim (tvm-ffi's
	 * `for lib in libs: del lib` then `session.clear_free_slabs()`) */
	uint32_t drop_at_end;
	uint32_t pad2;
	const char *main_symbol;   /* JM_LLVM_MAIN_SYMBOL */
	const char *orc_runtime;   /* JM_LLVM_PLATFORM_ELFNIX: liborc_rt path */
};

/* One link session (opaque). */
struct jm_llvm_link;

struct jm_llvm_link_result {
	uint64_t graphs;           /* graphs allocated (debug objects included) */
	uint64_t finalized;        /* of which finalized */
	uint64_t alloc_actions;    /* allocation actions run (or skipped) */
	uint64_t dummies;          /* symbols define_missing defined */
	int64_t exit_code;         /* what the entry point returned (run) */
	char message[256];         /* a note for the run's results, may be "" */
};

struct jm_llvm_plugin {
	uint32_t abi_version;   /* JM_LLVM_ABI_VERSION */
	uint32_t size;          /* sizeof(struct jm_llvm_plugin) */
	const char *llvm_version; /* LLVM_VERSION_STRING it was built with */
	const char *llvm_build;   /* the llvm-config it was built with */

	struct jm_llvm_mm *(*mm_create)(const char *kind, const char *options,
					const struct jm_llvm_mm_host *host,
					char *err, size_t errlen);
	int (*mm_allocate)(struct jm_llvm_mm *mm, struct jm_llvm_graph *g,
			   void **alloc, char *err, size_t errlen);
	/* *alloc: replaced by the finalized allocation's handle */
	int (*mm_finalize)(struct jm_llvm_mm *mm, void **alloc, char *err,
			   size_t errlen);
	int (*mm_deallocate)(struct jm_llvm_mm *mm, void *alloc, char *err,
			     size_t errlen);
	int (*mm_abandon)(struct jm_llvm_mm *mm, void *alloc, char *err,
			  size_t errlen);
	void (*mm_stats)(struct jm_llvm_mm *mm, struct jm_llvm_mm_stats *out);
	void (*mm_destroy)(struct jm_llvm_mm *mm);
	/* A manager whose target addresses live in another process (shm):
	 * that process's pid (0: this one), a read of len bytes at a target
	 * address, and a call of the int(void) function at one (through the
	 * executor process control, as a JIT runs code there). */
	int32_t (*mm_exec_pid)(struct jm_llvm_mm *mm);
	int (*mm_read)(struct jm_llvm_mm *mm, uint64_t exec, void *buf,
		       uint64_t len, char *err, size_t errlen);
	int (*mm_execute)(struct jm_llvm_mm *mm, uint64_t exec, int32_t *ret,
			  char *err, size_t errlen);

	/* The linker front end, in three steps so that the measured window
	 * holds the link only:
	 * link_open: build the session and read the inputs (no graph is
	 * allocated); host is copied. NULL with a one-line message in err. */
	struct jm_llvm_link *(*link_open)(const struct jm_llvm_link_opts *opts,
					  const struct jm_llvm_host_mm *host,
					  char *err, size_t errlen);
	/* link_run: the link (and the run, opts->run). mm: a real manager of
	 * this plugin to link with directly (the host then only counts), or
	 * NULL (or one without a JITLinkMemoryManager: RuntimeDyld's): the
	 * host's backend. 0, or -1 with err (a missing symbol is named). What
	 * was linked stays allocated until link_close. */
	int (*link_run)(struct jm_llvm_link *link, struct jm_llvm_mm *mm,
			struct jm_llvm_link_result *res, char *err, size_t errlen);
	/* link_close: end the session: every graph is deallocated (abandoned
	 * if never finalized) through the same manager, then the link freed.
	 * 0, or -1 with err (the link is freed either way). */
	int (*link_close)(struct jm_llvm_link *link, char *err, size_t errlen);
};

typedef const struct jm_llvm_plugin *(*jm_llvm_entry_fn)(uint32_t abi_version);

#ifdef __cplusplus
}
#endif

#endif
