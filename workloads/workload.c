#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct jm_preset jm_presets[] = {
	{"llvm-500",
	 "500 graphs never freed, shaped like real application objects "
	 "(rx median ~1.5 KiB, ro ~0.5 KiB, writable data in ~40%)",
	 "graphs=500"},
	{"llvm-5000", "as llvm-500 with 5000 graphs", "graphs=5000"},
	{"page-pairs",
	 "500 graphs of one RX page + one RW page, never freed (the "
	 "worst case for interleaving: every segment is a VMA)",
	 "graphs=500,sizes=fixed,rx=4K,ro=0,rw=4K"},
	{"julia-linalg-light",
	 "the +57-VMA scenario of the per-prot patch (julia#61418: `using "
	 "LinearAlgebra` + light LA): 24 real-shaped graphs, never freed",
	 "graphs=24,seed=61418"},
	{"julia-linalg-sweep",
	 "the +641-VMA scenario of julia#61418 (4 types x 4 sizes x 7 ops, two "
	 "graphs each): 224 real-shaped graphs, never freed",
	 "graphs=224,seed=61418"},
	{"tvm-load-drop",
	 "tvm-ffi modules loaded and dropped: 32 cycles of 16 graphs, trim "
	 "after each drop",
	 "graphs=512,free=cycles,cycles=32,trim=on"},
	{"tvm-oversize",
	 "tvm-ffi modules larger than a slab: 32 graphs whose code is 3 MiB or "
	 "5 MiB (half each, seeded) against a 4 MiB slab, in 4 load/drop cycles "
	 "with trim; every 5 MiB graph needs its own oversize mapping",
	 "graphs=32,sizes=fixed,rx=3M,alt_rx=5M,alt_fraction=0.5,ro=4K,rw=4K,"
	 "free=cycles,cycles=4,trim=on"},
	{"churn",
	 "5000 graphs; after each, a random live graph is freed with "
	 "probability 0.5 (a long-running JIT with eviction)",
	 "graphs=5000,free=fraction,free_fraction=0.5"},
	{"max-map-count",
	 "30000 graphs of one page each of ro, rw and rx: about 90000 VMAs "
	 "where every segment is a VMA, beyond vm.max_map_count = 65530",
	 "graphs=30000,sizes=fixed,rx=4K,ro=4K,rw=4K"},
	{"reach-stress",
	 "40 graphs of 4 KiB code, 4 KiB ro and 64 MiB rw data (only the first "
	 "and last page written): 2.5 GiB of address space, so that pools "
	 "that separate code from data place them more than 2 GiB apart",
	 "graphs=40,sizes=fixed,rx=4K,ro=4K,rw=64M,touch=ends"},
	{NULL, NULL, NULL},
};

const struct jm_preset *jm_preset_find(const char *name)
{
	for (const struct jm_preset *p = jm_presets; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

int jm_default_workloads(char out[][320], int max)
{
	static const char *const traces[] = {
		"workloads/traces/zlib.jmt",
		"workloads/traces/sqlite3.jmt",
	};
	int n = 0;
	for (const char *p = JM_DEFAULT_WORKLOADS; *p && n < max; n++) {
		size_t len = strcspn(p, ",");
		snprintf(out[n], 320, "%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]) && n < max; i++)
		if (access(traces[i], R_OK) == 0)
			snprintf(out[n++], 320, "trace:%s", traces[i]);
	return n;
}

const char *jm_event_type_name(enum jm_event_type t)
{
	static const char *const names[] = {"alloc", "finalize", "free",
					    "trim", "mark", "sys"};
	return (unsigned)t < 6 ? names[t] : "?";
}

int jm_workload_open(const char *spec, uint64_t seed, struct jm_workload *w,
		     char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	if (jm_text_check(spec, "workload", err, errlen) < 0)
		return -1;
	char name[64];
	const char *colon = strchr(spec, ':');
	size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
	if (nl == 0 || nl >= sizeof(name)) {
		snprintf(err, errlen, "workload '%s': missing or overlong name", spec);
		return -1;
	}
	memcpy(name, spec, nl);
	name[nl] = 0;
	const char *overrides = colon ? colon + 1 : "";
	if (!strcmp(name, "trace")) {
		if (!colon || !colon[1]) {
			snprintf(err, errlen, "workload 'trace': missing file (trace:FILE)");
			return -1;
		}
		return jm_trace_workload_open(colon + 1, w, err, errlen);
	}
	if (!strcmp(name, "jitlink")) {
		if (!colon || !colon[1]) {
			snprintf(err, errlen, "workload 'jitlink': missing files "
				 "(jitlink:FILE[:FILE...][,key=value...])");
			return -1;
		}
		return jm_jitlink_workload_open(colon + 1, w, err, errlen);
	}

	const char *base = NULL;
	if (strcmp(name, "synthetic") != 0) {
		const struct jm_preset *p = jm_preset_find(name);
		if (!p) {
			char known[512] = "";
			for (const struct jm_preset *q = jm_presets; q->name; q++) {
				strncat(known, q == jm_presets ? "" : ", ",
					sizeof(known) - strlen(known) - 1);
				strncat(known, q->name, sizeof(known) - strlen(known) - 1);
			}
			snprintf(err, errlen,
				 "unknown workload '%s' (presets: %s; or synthetic:k=v,..., "
				 "trace:FILE, jitlink:FILE...)",
				 name, known);
			return -1;
		}
		base = p->spec;
	}
	struct jm_optvals o;
	char e[200];
	if (jm_opts_parse(jm_synthetic_options, base, &o, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "workload %s: %s", name, e);
		return -1;
	}
	/* the preset's values, then the user's overrides, then --seed */
	char *copy = strdup(overrides), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = 0;
		if (!eq || jm_opts_set(&o, tok, eq + 1, e, sizeof(e)) < 0) {
			if (!eq)
				snprintf(e, sizeof(e), "'%s' is not key=value", tok);
			snprintf(err, errlen, "workload %s: %s", name, e);
			free(copy);
			return -1;
		}
	}
	free(copy);
	if (seed) {
		char sb[32];
		snprintf(sb, sizeof(sb), "%llu", (unsigned long long)seed);
		jm_opts_set(&o, "seed", sb, e, sizeof(e));
	}
	if (jm_synthetic_open(&o, w, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "workload %s: %s", name, e);
		return -1;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	/* resolved spec: every option that differs from the generator default */
	struct jm_optvals d;
	jm_opts_parse(jm_synthetic_options, NULL, &d, e, sizeof(e));
	size_t len = (size_t)snprintf(w->spec, sizeof(w->spec), "synthetic:");
	int first = 1;
	for (int i = 0; i < o.n; i++) {
		const char *k = o.defs[i].name;
		int shape = jm_opt_u64(&o, "sizes") == 1 &&
			    (!strcmp(k, "rx") || !strcmp(k, "ro") || !strcmp(k, "rw") ||
			     !strcmp(k, "zf") || !strcmp(k, "align"));
		if (!strcmp(o.text[i], d.text[i]) && strcmp(k, "graphs") &&
		    strcmp(k, "seed") && !shape)
			continue;
		len += (size_t)snprintf(w->spec + len, sizeof(w->spec) - len,
					"%s%s=%s", first ? "" : ",", o.defs[i].name, o.text[i]);
		first = 0;
		if (len >= sizeof(w->spec))
			break;
	}
	return 0;
}

int jm_workload_drives(const struct jm_workload *w)
{
	return w->ops && w->ops->drive;
}

/* a driving workload has no events to pull */
static int not_pulled(struct jm_workload *w)
{
	if (!jm_workload_drives(w))
		return 0;
	snprintf(w->err, sizeof(w->err), "workload %s is not pulled: it drives the backend "
		 "itself", w->name);
	return 1;
}

int jm_workload_next(struct jm_workload *w, struct jm_event *ev)
{
	if (not_pulled(w))
		return -1;
	if (w->ops->next)
		return w->ops->next(w, ev);
	const struct jm_event *e;
	int rc = w->ops->next_ref(w, &e);
	if (rc > 0)
		*ev = *e;
	return rc;
}

int jm_workload_next_ref(struct jm_workload *w, const struct jm_event **ev)
{
	if (not_pulled(w))
		return -1;
	if (w->ops->next_ref)
		return w->ops->next_ref(w, ev);
	*ev = &w->event; /* a trace is parsed straight into it */
	return w->ops->next(w, &w->event);
}

void jm_workload_close(struct jm_workload *w)
{
	if (w->ops && w->ops->close)
		w->ops->close(w);
	w->ops = NULL;
}
