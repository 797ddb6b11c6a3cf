/* Two processes start a run alike: jitmm validate compares a model, run
 * in a plain jitmm child, with the real LLVM class, run in a child that
 * has libLLVM loaded and has warmed its code up. Left alone, two things
 * differ that belong to neither memory manager:
 *  - holes: small free gaps between the process's mappings (the loader's,
 *    a dlopen's). The kernel's top-down search fills them first with a
 *    run's small mappings, where neighbours decide what merges;
 *  - first use: the first write to a heap page shared copy-on-write with
 *    the parent, the first in-window malloc growth (a brk, at times a VMA)
 *    and the first run of
 *    any code (a model's, libc's syscall wrappers), with fault-around on
 *    its text; the real side paid for most of it before the window (the
 *    plugin's warm-up).
 * jm_even_start reserves the holes (PROT_NONE, no memory), grows the heap
 * and writes every page of it, and faults in every loaded object before
 * the window,
 * so that both sides' mappings go below everything, side by side, and the
 * faults counted are the JIT memory's. */
#ifndef JITMM_EVEN_START_H
#define JITMM_EVEN_START_H

/* Reserve every gap of at most 64 MiB between two mappings of this
 * process, grow its heap by 16 MiB and malloc's top pad and write every
 * page of it, and fault in
 * every page of every loaded object (executable, libraries, libLLVM). */
void jm_even_start(void);

#endif
