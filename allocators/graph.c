#include "graph.h"

#include <string.h>
#include <sys/mman.h>

unsigned jm_seg_order_key(enum jm_prot_class cls, enum jm_lifetime life)
{
	static const unsigned prot[JM_NCLASS] = {
		[JM_RO] = 1, [JM_RW] = 3, [JM_RX] = 5,
	};
	return prot[cls] | ((unsigned)life << 3);
}

void jm_graph_normalize(struct jm_graph_req *req)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < req->nseg; i++)
		if (req->seg[i].content + req->seg[i].zero_fill > 0)
			req->seg[n++] = req->seg[i];
	req->nseg = n;
	/* insertion sort: at most six elements */
	for (uint32_t i = 1; i < n; i++) {
		struct jm_segment_req s = req->seg[i];
		unsigned k = jm_seg_order_key(s.cls, s.life);
		uint32_t j = i;
		while (j > 0 && jm_seg_order_key(req->seg[j - 1].cls,
						 req->seg[j - 1].life) > k) {
			req->seg[j] = req->seg[j - 1];
			j--;
		}
		req->seg[j] = s;
	}
}

uint64_t jm_graph_bytes(const struct jm_graph_req *req)
{
	uint64_t t = 0;
	for (uint32_t i = 0; i < req->nseg; i++)
		t += req->seg[i].content + req->seg[i].zero_fill;
	return t;
}

int jm_class_prot(enum jm_prot_class cls)
{
	switch (cls) {
	case JM_RO: return PROT_READ;
	case JM_RW: return PROT_READ | PROT_WRITE;
	case JM_RX: return PROT_READ | PROT_EXEC;
	default: return PROT_NONE;
	}
}

static const char *const class_names[JM_NCLASS] = {
	[JM_RO] = "ro", [JM_RW] = "rw", [JM_RX] = "rx",
};

const char *jm_class_name(enum jm_prot_class cls)
{
	return (unsigned)cls < JM_NCLASS ? class_names[cls] : "?";
}

int jm_class_parse(const char *s, enum jm_prot_class *out)
{
	for (int i = 0; i < JM_NCLASS; i++)
		if (!strcmp(s, class_names[i])) {
			*out = (enum jm_prot_class)i;
			return 0;
		}
	return -1;
}

void jm_alloc_init(struct jm_alloc *out, const struct jm_graph_req *req)
{
	memset(out, 0, sizeof(*out));
	out->id = req->id;
	out->nseg = req->nseg;
	out->link.flags = req->flags;
	for (uint32_t i = 0; i < req->nseg; i++) {
		out->seg[i].size = req->seg[i].content + req->seg[i].zero_fill;
		out->seg[i].content = req->seg[i].content;
		out->seg[i].cls = req->seg[i].cls;
		out->seg[i].life = req->seg[i].life;
	}
}
