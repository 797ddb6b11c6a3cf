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
	/* most requests come normalized (a trace written by jitmm, the
	 * synthetic generator): check before moving anything */
	uint32_t ok = 0;
	for (unsigned prev = 0; ok < req->nseg; ok++) {
		unsigned k = jm_seg_order_key(req->seg[ok].cls, req->seg[ok].life);
		if (k < prev || req->seg[ok].content + req->seg[ok].zero_fill == 0)
			break;
		prev = k;
	}
	if (ok == req->nseg)
		return;
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
	/* compared here, not by a strcmp call: the trace reader parses a
	 * class for every segment of every graph */
	for (int i = 0; i < JM_NCLASS; i++) {
		const char *a = s, *n = class_names[i];
		while (*n && *a == *n)
			a++, n++;
		if (*a == *n) {
			*out = (enum jm_prot_class)i;
			return 0;
		}
	}
	return -1;
}

void jm_alloc_init(struct jm_alloc *out, const struct jm_graph_req *req)
{
	/* field by field, the unused segments cleared by length: a memset of
	 * the whole struct is a slow `rep stos` at -O2, twice a graph */
	out->id = req->id;
	out->nseg = req->nseg;
	for (uint32_t i = 0; i < req->nseg; i++)
		out->seg[i] = (struct jm_segment_alloc){
			.size = req->seg[i].content + req->seg[i].zero_fill,
			.content = req->seg[i].content,
			.cls = req->seg[i].cls,
			.life = req->seg[i].life,
		};
	memset(&out->seg[req->nseg], 0, (JM_MAX_ALLOC_SEGS - req->nseg) * sizeof(out->seg[0]));
	out->priv = NULL;
	memset(out->priv_u, 0, sizeof(out->priv_u));
	memset(&out->link, 0, sizeof(out->link));
	out->link.flags = req->flags;
}
