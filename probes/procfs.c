/* procfs: the probe that always works. VMA counts come from /proc/PID/maps,
 * RSS from statm/smaps_rollup, faults from getrusage, syscall counts from
 * the os layer; all are read inside the measured child (procfs_sample.c),
 * so there is nothing to do on the parent's side. The VMA peak is the
 * maximum over samples, not exact between samples. */
#include "probe.h"

static int procfs_available(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

const struct jm_probe_ops jm_probe_procfs = {
	.name = "procfs",
	.description = "VMAs from /proc/PID/maps, RSS from smaps_rollup, faults "
		       "from getrusage, syscalls from the os layer (no privileges)",
	.available = procfs_available,
};
