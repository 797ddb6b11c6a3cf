// SPDX-License-Identifier: GPL-2.0
/* jitmm's kernel-side probe: per tracked process, count the memory syscalls
 * (calls, errors by errno, bytes), the user page faults (by protection of
 * the faulting VMA), and mm->map_count (current and peak); optionally emit
 * one ring-buffer record per counted syscall.
 *
 * Everything is taken at sys_exit: on x86-64 the syscall's arguments are
 * still in the saved user registers (di, si, dx, r10, r8) and orig_ax holds
 * the syscall number, so one program per syscall suffices and sys_enter
 * costs nothing. Only tp_btf attach points are used: they need no tracefs,
 * and fentry/kprobes are unavailable on the machines jitmm targets. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ebpf_events.h"

char LICENSE[] SEC("license") = "GPL";

/* x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl) */
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_brk 12
#define NR_pwrite64 18
#define NR_mremap 25
#define NR_madvise 28
#define NR_ftruncate 77
#define NR_memfd_create 319

/* enum jm_probe_sys order */
enum { S_MMAP, S_MUNMAP, S_MPROTECT, S_MREMAP, S_MADVISE, S_BRK,
       S_MEMFD_CREATE, S_FTRUNCATE, S_PWRITE64 };

#define VM_READ 0x1UL
#define VM_WRITE 0x2UL
#define VM_EXEC 0x4UL

/* tgid -> slot in procs */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, JM_EBPF_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct jm_ebpf_proc);
} procs SEC(".maps");

/* size set by the loader before load (default in ebpf.c) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct jm_ebpf_ctl ctl;
/* wake the consumer once this much is pending; it also polls on a timer */
const volatile __u64 wakeup_bytes = 256 << 10;

/* mm->map_count, or vma_count should a kernel rename it */
struct mm_struct___vc {
	int vma_count;
} __attribute__((preserve_access_index));

static __always_inline __u64 map_count_of(struct mm_struct *mm)
{
	if (!mm)
		return 0;
	if (bpf_core_field_exists(mm->map_count))
		return (__u64)mm->map_count;
	struct mm_struct___vc *m2 = (void *)mm;
	if (bpf_core_field_exists(m2->vma_count))
		return (__u64)BPF_CORE_READ(m2, vma_count);
	return 0;
}

static __always_inline struct jm_ebpf_proc *proc_of(__u32 tgid)
{
	__u32 *slot = bpf_map_lookup_elem(&tracked, &tgid);
	if (!slot)
		return NULL;
	return bpf_map_lookup_elem(&procs, slot);
}

static __always_inline int sys_index(long nr)
{
	switch (nr) {
	case NR_mmap: return S_MMAP;
	case NR_munmap: return S_MUNMAP;
	case NR_mprotect: return S_MPROTECT;
	case NR_mremap: return S_MREMAP;
	case NR_madvise: return S_MADVISE;
	case NR_brk: return S_BRK;
	case NR_memfd_create: return S_MEMFD_CREATE;
	case NR_ftruncate: return S_FTRUNCATE;
	case NR_pwrite64: return S_PWRITE64;
	}
	return -1;
}

static __always_inline void emit(struct jm_ebpf_proc *p, __u64 id, int s,
				 struct pt_regs *regs, long ret, __u64 mc)
{
	struct jm_ebpf_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&p->events_dropped, 1);
		return;
	}
	e->t_ns = bpf_ktime_get_ns();
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->sys = (__u16)s;
	e->flags_hi = p->in_window ? JM_EBPF_EV_IN_WINDOW : 0;
	e->map_count = (__u32)mc;
	e->addr = regs->di;
	e->len = regs->si;
	e->prot = regs->dx;
	e->flags = regs->r10;
	e->ret = ret;
	/* registers past a syscall's arguments hold leftovers: zero them */
	if (s == S_MUNMAP || s == S_FTRUNCATE) { /* addr|fd, len */
		e->prot = 0;
		e->flags = 0;
	} else if (s == S_MPROTECT || s == S_MADVISE) { /* addr, len, prot|advice */
		e->flags = 0;
	} else if (s == S_BRK) { /* brk */
		e->len = 0;
		e->prot = 0;
		e->flags = 0;
	} else if (s == S_MREMAP) { /* old_addr, old_len, new_len, flags */
		e->len = regs->dx;
		e->prot = 0;
	} else if (s == S_MEMFD_CREATE) { /* name, flags */
		e->addr = 0;
		e->len = 0;
		e->flags = regs->si;
		e->prot = 0;
	} else if (s == S_PWRITE64) { /* fd, buf, count, pos */
		e->len = regs->dx;
		e->prot = 0;
		e->flags = regs->r10; /* the file offset */
	}
	__sync_fetch_and_add(&p->events_sent, 1);
	long avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, avail >= (long)wakeup_bytes ? BPF_RB_FORCE_WAKEUP
							 : BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(jm_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct jm_ebpf_proc *p = proc_of(id >> 32);
	if (!p)
		return 0;

	/* any syscall may change the VMA count (mlock, shmat, ...): follow
	 * it at every exit of a tracked process */
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 mc = map_count_of(task->mm);
	p->map_count = mc;
	if (mc > p->map_peak)
		p->map_peak = mc;

	int s = sys_index(regs->orig_ax);
	if (s < 0 || s >= JM_EBPF_NSYS)
		return 0;
	struct jm_ebpf_sys *c = &p->sys[s];
	__sync_fetch_and_add(&c->calls, 1);
	if (ret < 0 && ret >= -4095) {
		__u64 e = (__u64)-ret;
		__sync_fetch_and_add(&c->errors, 1);
		if (e >= JM_EBPF_NERRNO)
			e = 0;
		__sync_fetch_and_add(&c->by_errno[e], 1);
	} else {
		/* bytes as the os layer counts them (allocators/os.c) */
		__u64 bytes = 0;
		switch (s) {
		case S_MMAP:
		case S_MUNMAP:
		case S_MPROTECT:
		case S_MADVISE:
		case S_FTRUNCATE:
			bytes = regs->si;
			break;
		case S_MREMAP:
			bytes = regs->dx;
			break;
		case S_PWRITE64:
			bytes = (__u64)ret;
			break;
		case S_BRK: {
			__u64 last = p->brk_last;
			if (last)
				bytes = (__u64)ret > last ? (__u64)ret - last : last - (__u64)ret;
			p->brk_last = (__u64)ret;
			break;
		}
		}
		if (bytes)
			__sync_fetch_and_add(&c->bytes, bytes);
	}
	if (ctl.events_on)
		emit(p, id, s, regs, ret, mc);
	return 0;
}

struct vma_ctx {
	int cls;
};

static long classify_vma(struct task_struct *task, struct vm_area_struct *vma,
			 void *data)
{
	struct vma_ctx *v = data;
	unsigned long f = vma->vm_flags;
	if (f & VM_EXEC)
		v->cls = JM_FAULT_RX;
	else if (f & VM_WRITE)
		v->cls = JM_FAULT_RW;
	else if (f & VM_READ)
		v->cls = JM_FAULT_RO;
	else
		v->cls = JM_FAULT_OTHER;
	return 0;
}

/* x86 page-fault error code bits */
#define PF_WRITE (1UL << 1)
#define PF_INSTR (1UL << 4)

SEC("tp_btf/page_fault_user")
int BPF_PROG(jm_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct jm_ebpf_proc *p = proc_of(id >> 32);
	if (!p)
		return 0;
	__sync_fetch_and_add(&p->faults, 1);
	int acc = error_code & PF_INSTR ? JM_ACCESS_EXEC
		  : error_code & PF_WRITE ? JM_ACCESS_WRITE : JM_ACCESS_READ;
	__sync_fetch_and_add(&p->faults_by_access[acc], 1);
	/* The VMA's protection needs bpf_find_vma, which here (irqs still
	 * off) defers its mmap unlock to an irq_work: ~5 us a fault, so it
	 * is opt-in */
	if (!ctl.fault_classes)
		return 0;
	struct vma_ctx v = {JM_FAULT_OTHER};
	bpf_find_vma(bpf_get_current_task_btf(), address, classify_vma, &v, 0);
	int cls = v.cls;
	if (cls >= 0 && cls < JM_FAULT_NCLASS)
		__sync_fetch_and_add(&p->faults_by_class[cls], 1);
	return 0;
}

/* A tracked process's forks are tracked too (shm-mapper's executor), each
 * in its own slot; threads share their process's slot. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(jm_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!ctl.follow_forks)
		return 0;
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	if (child->pid != ctgid || ptgid == ctgid)
		return 0; /* a new thread */
	if (!bpf_map_lookup_elem(&tracked, &ptgid))
		return 0;
	__u32 slot = __sync_fetch_and_add(&ctl.nprocs, 1);
	if (slot >= JM_EBPF_MAX_PROCS)
		return 0;
	struct jm_ebpf_proc *p = bpf_map_lookup_elem(&procs, &slot);
	if (!p)
		return 0;
	p->tgid = ctgid;
	__u64 mc = map_count_of(child->mm);
	p->map_count = mc;
	p->map_peak = mc;
	bpf_map_update_elem(&tracked, &ctgid, &slot, BPF_ANY);
	return 0;
}
