/* Readings a process takes of itself from procfs and getrusage. They are
 * cheap, need no privileges, and run in the measured child. */
#ifndef JITMM_PROCFS_SAMPLE_H
#define JITMM_PROCFS_SAMPLE_H

#include <stdint.h>
#include <sys/types.h>

/* Number of VMAs: lines of /proc/PID/maps minus [vsyscall], which is listed
 * but is not a VMA of the process (it equals mm->map_count). pid 0 = self.
 * -1 on error. */
long jm_vma_count(pid_t pid);
/* Resident set size in bytes from /proc/PID/statm (fast; per-cpu counters
 * may lag by a few pages). 0 on error. */
uint64_t jm_rss_statm(pid_t pid);
/* Rss from /proc/PID/smaps_rollup (exact, walks page tables). */
uint64_t jm_rss_rollup(pid_t pid);
/* Minor and major faults of the calling process (getrusage). */
void jm_faults_self(uint64_t *minor, uint64_t *major);

#endif
