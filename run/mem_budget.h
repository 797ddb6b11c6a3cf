/* The memory a run may use. Before the measurement window opens, an
 * estimate of what the run will touch (its live-graph tables and the peak
 * of its live graphs) is checked against what the kernel says is available
 * (MemAvailable); while it runs, the live graphs of a workload whose sizes
 * are not known in advance (a trace) are held to the same figure. Issue 11:
 * scale=1e6 grew the child to 24 GB and woke the OOM killer. */
#ifndef JITMM_MEM_BUDGET_H
#define JITMM_MEM_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/graph.h"

/* MemAvailable from /proc/meminfo in bytes; 0 if it cannot be read. */
uint64_t jm_mem_available(void);
/* "2.3 GiB" */
void jm_mem_text(uint64_t bytes, char *buf, size_t len);
/* The bytes a graph's segments take, each rounded up to whole pages. */
uint64_t jm_graph_pages_bytes(const struct jm_graph_req *req);
uint64_t jm_alloc_pages_bytes(const struct jm_alloc *a);
/* a + b and a * b, saturating at UINT64_MAX */
uint64_t jm_sat_add(uint64_t a, uint64_t b);
uint64_t jm_sat_mul(uint64_t a, uint64_t b);

#endif
