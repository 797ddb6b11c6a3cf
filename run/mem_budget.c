#include "mem_budget.h"

#include <stdio.h>
#include <string.h>

#include "../allocators/os.h"

uint64_t jm_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	char line[128];
	unsigned long long kb = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

void jm_mem_text(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

uint64_t jm_graph_pages_bytes(const struct jm_graph_req *req)
{
	uint64_t t = 0, ps = jm_page_size();
	for (uint32_t i = 0; i < req->nseg; i++)
		t = jm_sat_add(t, jm_align_up(req->seg[i].content + req->seg[i].zero_fill, ps));
	return t;
}

uint64_t jm_alloc_pages_bytes(const struct jm_alloc *a)
{
	uint64_t t = 0, ps = jm_page_size();
	for (uint32_t i = 0; i < a->nseg; i++)
		t = jm_sat_add(t, jm_align_up(a->seg[i].size, ps));
	return t;
}

uint64_t jm_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t jm_sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}
