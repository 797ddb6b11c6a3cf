/* The probe registry, in the order "auto" prefers them. */
#include "probe.h"

#define PROBES(X) \
	X(ebpf) \
	X(procfs)

#define DECLARE(n) extern const struct jm_probe_ops jm_probe_##n;
PROBES(DECLARE)
#undef DECLARE

const struct jm_probe_ops *const jm_probes[] = {
#define ENTRY(n) &jm_probe_##n,
	PROBES(ENTRY)
#undef ENTRY
	NULL,
};
