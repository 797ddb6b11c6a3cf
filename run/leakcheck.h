/* The leak check's VMA count: VMAs of the calling process that are not the
 * brk heap. The heap is the harness's (malloc'd tables, and the null
 * backend's segments): glibc grows it into a new VMA and keeps it, which
 * is not a mapping the backend leaked. */
#ifndef JITMM_LEAKCHECK_H
#define JITMM_LEAKCHECK_H

/* -1 on error. Allocates nothing (stack buffer). */
long jm_vma_count_no_heap(void);

#endif
