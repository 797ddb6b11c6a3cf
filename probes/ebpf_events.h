/* Layouts shared by the BPF program (probes/jitmm.bpf.c) and its loader
 * (probes/ebpf.c). Fixed-width types only: this header is compiled both for
 * the bpf target (with vmlinux.h) and for the host. */
#ifndef JITMM_EBPF_EVENTS_H
#define JITMM_EBPF_EVENTS_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint8_t jm_u8;
typedef uint16_t jm_u16;
typedef uint32_t jm_u32;
typedef uint64_t jm_u64;
typedef int64_t jm_s64;
#else
typedef __u8 jm_u8;
typedef __u16 jm_u16;
typedef __u32 jm_u32;
typedef __u64 jm_u64;
typedef __s64 jm_s64;
#endif

/* Syscalls counted, in the order of enum jm_probe_sys (probes/probe.h). */
#define JM_EBPF_NSYS 9
/* errno values 1..133 are counted one by one (EHWPOISON is 133); anything
 * else lands in bucket 0 */
#define JM_EBPF_NERRNO 134
/* Processes one run can have tracked at once: the measured child plus the
 * processes it forks (shm-mapper's executor). */
#define JM_EBPF_MAX_PROCS 16

/* Fault classes: protection of the VMA that contains the faulting address,
 * at the time of the fault. */
enum jm_ebpf_fault_class {
	JM_FAULT_RX,    /* executable (r-x, --x, rwx) */
	JM_FAULT_RO,    /* readable, not writable, not executable */
	JM_FAULT_RW,    /* writable, not executable */
	JM_FAULT_OTHER, /* no VMA (SIGSEGV), PROT_NONE, or VMA not found */
	JM_FAULT_NCLASS
};

/* Fault classes by the access that faulted (x86 error code): always kept. */
enum jm_ebpf_fault_access {
	JM_ACCESS_READ,
	JM_ACCESS_WRITE,
	JM_ACCESS_EXEC, /* instruction fetch */
	JM_ACCESS_N
};

struct jm_ebpf_sys {
	jm_u64 calls, errors, bytes;
	jm_u64 by_errno[JM_EBPF_NERRNO];
};

/* One tracked process: one element of the mmap-able "procs" array. The
 * loader reads it directly through the mapping; the BPF program updates it
 * with atomic adds (the measured process may have several threads). */
struct jm_ebpf_proc {
	jm_u32 tgid;      /* 0: slot unused */
	jm_u32 in_window; /* set by the loader between window begin and end */
	jm_u64 map_count; /* mm->map_count at the last syscall exit */
	jm_u64 map_peak;  /* max of map_count since attach or window begin */
	jm_u64 brk_last;  /* last value brk returned (for brk's bytes) */
	jm_u64 faults;
	jm_u64 faults_by_class[JM_FAULT_NCLASS]; /* only with ctl.fault_classes */
	jm_u64 faults_by_access[JM_ACCESS_N];
	jm_u64 events_sent, events_dropped;
	struct jm_ebpf_sys sys[JM_EBPF_NSYS];
};

/* The loader's run-wide state, in the BPF program's .bss. */
struct jm_ebpf_ctl {
	jm_u32 nprocs;     /* slots handed out (the loader resets it per run) */
	jm_u32 events_on;  /* 1: emit a record per counted syscall */
	jm_u32 follow_forks;
	jm_u32 fault_classes; /* 1: classify faults by VMA protection */
};

/* One record of the event stream: one counted syscall, taken at its exit.
 * Argument meaning per syscall is in docs/events-format.md. */
struct jm_ebpf_event {
	jm_u64 t_ns;      /* CLOCK_MONOTONIC at syscall exit */
	jm_u32 tgid, tid;
	jm_u16 sys;       /* enum jm_probe_sys */
	jm_u16 flags_hi;  /* bit 0: inside the measured window */
	jm_u32 map_count; /* mm->map_count after the call */
	jm_u64 addr, len;
	jm_u64 prot, flags;
	jm_s64 ret;
};

#define JM_EBPF_EV_IN_WINDOW 1

#endif
