/* `jitmm trace from-jitlink`: the graphs a jitlink: link requests, written
 * as a trace, so that machines without LLVM replay the real linker's link
 * (debug objects, GOT and stubs, pruning and COMDAT dedup included). */
#ifndef JITMM_JITLINK_TRACE_H
#define JITMM_JITLINK_TRACE_H

#include "../allocators/backend.h"

/* Link args ("FILE[:FILE...][,key=value...]", the jitlink: spec without its
 * prefix) in a forked child (the LLVM plugin is loaded there only), every
 * graph allocated, finalized and freed by backend b, and write its events
 * to out ("-": stdout) with made_by in the header. The session's teardown
 * is not written: the trace ends with what the link left allocated. Returns
 * a JM_EXIT_* code: 2 for bad args or inputs, 1 when the link fails or
 * crashes; the reason is printed on stderr. */
int jm_jitlink_trace(const char *args, const struct jm_backend_spec *b, const char *out,
		     const char *made_by);

#endif
