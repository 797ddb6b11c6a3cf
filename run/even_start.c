/* Starting a measured run alike in two processes: see even_start.h. */
#include "even_start.h"

#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../allocators/graph.h" /* jm_align_up */
#include "../allocators/os.h"

#define MAX_HOLE (64ull << 20)
#define MAX_HOLES 512
/* below malloc's mmap threshold (measure.c sets it to 32 MiB): the heap */
#define HEAP_ROOM (16u << 20)
#define STACK_ROOM (256u << 10)
#ifndef MADV_POPULATE_READ /* Linux 5.14 */
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static void advise(uint64_t lo, uint64_t hi, int advice)
{
	const uint64_t ps = jm_page_size();
	lo = jm_align_down(lo, ps);
	hi = jm_align_up(hi, ps);
	if (hi > lo)
		jm_os_madvise((void *)(uintptr_t)lo, hi - lo, advice);
}

/* Every loaded object's PT_LOAD segments: read in its code and read-only
 * data, write its data (private: each page becomes the process's own, as
 * its first write would make it), but for the part made read-only after
 * relocation (PT_GNU_RELRO), which is read. */
static int populate(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	uint64_t relro_lo = 0, relro_hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
			relro_lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
			relro_hi = jm_align_up(relro_lo + info->dlpi_phdr[i].p_memsz,
					       jm_page_size());
		}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (!(ph->p_flags & PF_W)) {
			advise(lo, hi, MADV_POPULATE_READ);
			continue;
		}
		if (relro_hi > lo && relro_lo < hi) {
			advise(lo, relro_hi, MADV_POPULATE_READ);
			lo = relro_hi;
		}
		advise(lo, hi, MADV_POPULATE_WRITE);
	}
	return 0;
}

/* The holes, and every page of the heap: those inherited from the parent
 * are shared copy-on-write until first written, and which of them a run's
 * mallocs write first depends on the parent's history (jitmm validate's
 * grows with the results it holds); the rest up to the break would fault
 * in at first use, which of the two sides uses more. */
static void fill_holes_own_heap(void)
{
	/* every gap first: mapping while reading maps moves its lines */
	static uint64_t hole[MAX_HOLES][2];
	uint64_t heap_lo = 0, heap_hi = 0;
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	char line[512];
	uint64_t prev = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		/* [heap] can be two VMAs: the part inherited and the part grown */
		if (strstr(line, "[heap]")) {
			if (!heap_lo)
				heap_lo = lo;
			heap_hi = hi;
		}
		if (prev && lo > prev && lo - prev <= MAX_HOLE && n < MAX_HOLES) {
			hole[n][0] = prev;
			hole[n++][1] = lo - prev;
		}
		prev = hi;
	}
	fclose(f);
	if (heap_hi > heap_lo)
		advise(heap_lo, heap_hi, MADV_POPULATE_WRITE);
	for (int i = 0; i < n; i++)
		jm_os_mmap((void *)(uintptr_t)hole[i][0], hole[i][1], PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
			   -1, 0);
}

/* Stack pages below this frame, touched now rather than by whichever side
 * first calls deeper in the window. */
static void __attribute__((noinline)) touch_stack(void)
{
	volatile char room[STACK_ROOM];
	for (size_t i = 0; i < sizeof(room); i += 4096)
		room[i] = 0;
}

void jm_even_start(void)
{
	touch_stack();
	/* grows the heap (by M_TOP_PAD more): freed into the top chunk, which
	 * stays (M_TRIM_THRESHOLD) */
	void *room = malloc(HEAP_ROOM);
	__asm__ volatile("" : : "r"(room) : "memory");
	free(room);
	fill_holes_own_heap();
	dl_iterate_phdr(populate, NULL);
}
