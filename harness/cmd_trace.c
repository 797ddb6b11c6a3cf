/* jitmm trace stats|validate|from-elf|from-jitlink|from-workload: look at,
 * check and make traces
 * (docs/trace-format.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../allocators/os.h"
#include "../workloads/elf_dedup.h"
#include "../workloads/elf_ingest.h"
#include "../workloads/jitlink_trace.h"
#include "../workloads/trace.h"
#include "cli.h"
#include "../run/latency.h"

static void trace_usage(FILE *f)
{
	fprintf(f,
		"usage: jitmm trace stats FILE\n"
		"       jitmm trace validate FILE...\n"
		"       jitmm trace from-elf [--csv] [--sections llvm14] [--dylibs one|file|directory]\n"
		"                            [--dedup] [--debugger-support llvm-jitlink|lli]\n"
		"                            FILE... -o OUT\n"
		"       jitmm trace from-jitlink [--backend B] FILE... [key=value...] -o OUT\n"
		"       jitmm trace from-workload SPEC -o OUT\n\n"
		"  stats      graph count, per-class size distributions, lifetimes, events\n"
		"  validate   parse every line and check the graph protocol; exit 0 if the\n"
		"             trace is well formed, 2 with FILE:LINE: message if not\n"
		"  from-elf   one graph per relocatable ELF object (.o, every member of .a\n"
		"             archives) in the given order: SHF_ALLOC sections grouped\n"
		"             AX->rx, A->ro, WA->rw, NOBITS->zero-fill, plus 8 B of GOT per\n"
		"             GOT/stub target (ro) and a 6 B stub per external call (rx).\n"
		"             -o OUT writes the trace ('-' = stdout); --csv prints the\n"
		"             measured columns of shared/data/elf-segment-sizes.csv instead;\n"
		"             --sections llvm14: LLVM 14's layout (every non-exec section rw,\n"
		"             only the GOT ro), which matches Debian's llvm-jitlink-14\n"
		"             --dylibs: which graphs share a JITDylib (colocate, reach):\n"
		"             one (default: all), file (each input), directory (inputs\n"
		"             of one directory)\n"
		"             --dedup: leave out COMDAT groups and weak-only sections an\n"
		"             earlier object already provides (as JITLink does)\n"
		"             --debugger-support: LLVM 22's debug-object allocation per\n"
		"             object (its size, r--, before the graph): llvm-jitlink never\n"
		"             finalizes it (objects without DWARF), lli does\n"
		"  from-jitlink  LLVM's JIT linker (the LLVM plugin, in a child process)\n"
		"             links the objects and archives, and the graphs it requests\n"
		"             are the trace: debug objects, GOT and stubs, pruning and\n"
		"             COMDAT dedup included; key=value: the jitlink: workload's\n"
		"             options (session, debugger_support, main, ...: `jitmm list\n"
		"             workloads`, docs/jitlink.md); --backend: who allocates\n"
		"             (default inprocess; the graphs do not depend on it)\n"
		"  from-workload  write any workload's events (preset, synthetic:..., trace:...)\n"
		"             as a trace, e.g. to generate large traces for benchmarks\n\n"
		"Traces may be compressed (.xz, .zst): they are read directly.\n\n"
		"examples:\n"
		"  jitmm trace from-elf /usr/lib/x86_64-linux-gnu/libz.a -o z.jmt\n"
		"  jitmm trace from-jitlink /usr/lib/x86_64-linux-gnu/libz.a -o zj.jmt\n"
		"  jitmm trace from-jitlink main.o libz.a session=lli -o zl.jmt\n"
		"  jitmm trace stats z.jmt\n"
		"  jitmm trace validate workloads/traces/*.jmt\n"
		"  jitmm run --workload trace:z.jmt --backend all\n\n"
		"Exit codes: 0 ok, 1 the link failed (a missing symbol, a crash), 2 usage\n"
		"error, unreadable or malformed input, or an output that could not be\n"
		"written.\n");
}

/* ---- stats ---- */

/* id -> index of its alloc, for lifetimes (memory: live graphs only) */
struct idmap {
	uint64_t *key, *val;
	size_t cap, n, used;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

static int idmap_put(struct idmap *m, uint64_t id, uint64_t v)
{
	if ((m->used + 1) * 2 > m->cap) {
		size_t ncap = m->n * 4 < m->cap ? m->cap : (m->cap ? m->cap * 2 : 1024);
		uint64_t *k = calloc(ncap, 8), *vv = calloc(ncap, 8);
		if (!k || !vv) {
			free(k);
			free(vv);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->key[i] && m->key[i] != UINT64_MAX) {
				size_t j = mix(m->key[i]) & (ncap - 1);
				while (k[j])
					j = (j + 1) & (ncap - 1);
				k[j] = m->key[i];
				vv[j] = m->val[i];
			}
		free(m->key);
		free(m->val);
		m->key = k, m->val = vv, m->cap = ncap, m->used = m->n;
	}
	size_t j = mix(id + 1) & (m->cap - 1);
	while (m->key[j] && m->key[j] != UINT64_MAX)
		j = (j + 1) & (m->cap - 1);
	if (!m->key[j])
		m->used++;
	m->key[j] = id + 1;
	m->val[j] = v;
	m->n++;
	return 0;
}

/* remove id and return its value (the reader guarantees it is present) */
static uint64_t idmap_take(struct idmap *m, uint64_t id)
{
	for (size_t j = mix(id + 1) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
		if (m->key[j] == id + 1) {
			m->key[j] = UINT64_MAX;
			m->n--;
			return m->val[j];
		}
		if (!m->key[j])
			return 0;
	}
}

static void print_dist(const char *name, const struct jm_latency *h, uint64_t total,
		       uint64_t graphs)
{
	if (!h->count) {
		printf("  %-10s in 0 graphs\n", name);
		return;
	}
	printf("  %-10s in %llu/%llu graphs: p10 %llu  p50 %llu  p90 %llu  p99 %llu  max %llu  "
	       "total %llu\n", name, (unsigned long long)h->count, (unsigned long long)graphs,
	       (unsigned long long)jm_latency_quantile(h, 0.10),
	       (unsigned long long)jm_latency_quantile(h, 0.50),
	       (unsigned long long)jm_latency_quantile(h, 0.90),
	       (unsigned long long)jm_latency_quantile(h, 0.99),
	       (unsigned long long)h->max, (unsigned long long)total);
}

static int trace_stats(const char *path, int quiet_ok)
{
	char err[600];
	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "jitmm: %s\n", err);
		return JM_EXIT_USAGE;
	}
	static struct jm_latency size[JM_NCLASS + 1], life, align;
	memset(size, 0, sizeof(size));
	memset(&life, 0, sizeof(life));
	memset(&align, 0, sizeof(align));
	uint64_t total[JM_NCLASS + 1] = {0}, by_type[6] = {0}, by_sys[JM_NSYS] = {0};
	uint64_t fin_segments = 0, graphs = 0, dylib_max = 0, with_t = 0, max_tid = 0;
	struct idmap ids = {0};
	struct jm_event ev;
	int rc;
	while ((rc = jm_trace_read(r, &ev)) > 0) {
		by_type[ev.type]++;
		if (ev.t_ns)
			with_t++;
		if (ev.tid > max_tid)
			max_tid = ev.tid;
		if (ev.type == JM_EV_ALLOC) {
			uint64_t per[JM_NCLASS + 1] = {0};
			for (uint32_t i = 0; i < ev.req.nseg; i++) {
				const struct jm_segment_req *s = &ev.req.seg[i];
				per[s->cls] += s->content;
				per[JM_NCLASS] += s->zero_fill;
				fin_segments += s->life == JM_FINALIZE;
				jm_latency_record(&align, s->align);
			}
			for (int c = 0; c <= JM_NCLASS; c++)
				if (per[c]) {
					jm_latency_record(&size[c], per[c]);
					total[c] += per[c];
				}
			if (ev.req.dylib > dylib_max)
				dylib_max = ev.req.dylib;
			if (idmap_put(&ids, ev.id, graphs) < 0) {
				fprintf(stderr, "jitmm: out of memory\n");
				jm_trace_close(r);
				return JM_EXIT_FAIL;
			}
			graphs++;
		} else if (ev.type == JM_EV_FREE) {
			jm_latency_record(&life, graphs - idmap_take(&ids, ev.id));
		} else if (ev.type == JM_EV_SYS) {
			by_sys[ev.sys.sys]++;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "jitmm: %s\n", jm_trace_error(r));
		jm_trace_close(r);
		free(ids.key);
		free(ids.val);
		return JM_EXIT_USAGE;
	}
	const struct jm_trace_header *h = jm_trace_header(r);
	if (!quiet_ok) {
		/* header values as the file has them: escaped, one line each */
		char arch[JM_TRACE_ESCAPED_MAX(sizeof(h->arch))];
		char src[JM_TRACE_ESCAPED_MAX(sizeof(h->source))];
		char by[JM_TRACE_ESCAPED_MAX(sizeof(h->made_by))];
		jm_trace_escape(h->arch, 0, arch, sizeof(arch));
		jm_trace_escape(h->source, 0, src, sizeof(src));
		jm_trace_escape(h->made_by, 0, by, sizeof(by));
		printf("trace %s\n", path);
		printf("  format     %s %u, sizes %s, page size %llu, arch %s\n", JM_TRACE_MAGIC,
		       h->version, h->sizes, (unsigned long long)h->page_size, arch);
		printf("  source     %s\n  made by    %s\n", src, by);
		printf("events (%llu lines): alloc %llu, finalize %llu, free %llu, trim %llu, "
		       "mark %llu, sys %llu; %llu with a time, largest tid %llu\n",
		       (unsigned long long)jm_trace_lineno(r),
		       (unsigned long long)by_type[0], (unsigned long long)by_type[1],
		       (unsigned long long)by_type[2], (unsigned long long)by_type[3],
		       (unsigned long long)by_type[4], (unsigned long long)by_type[5],
		       (unsigned long long)with_t, (unsigned long long)max_tid);
		printf("graphs %llu in %llu dylib(s); peak live %llu, live at end %llu\n",
		       (unsigned long long)graphs, (unsigned long long)dylib_max + (graphs > 0),
		       (unsigned long long)jm_trace_peak_live(r),
		       (unsigned long long)jm_trace_live(r));
		printf("bytes per graph (content per class, zero-fill separately; quantiles are "
		       "bucket bounds, within 6.25%%):\n");
		static const char *const cname[] = {"ro", "rw", "rx", "zero-fill"};
		for (int c = 0; c <= JM_NCLASS; c++)
			print_dist(cname[c], &size[c], total[c], graphs);
		printf("segment alignment: p50 %llu  max %llu; finalize-lifetime segments %llu\n",
		       (unsigned long long)jm_latency_quantile(&align, 0.5),
		       (unsigned long long)align.max, (unsigned long long)fin_segments);
		printf("lifetimes: %llu graphs freed, %llu never freed", (unsigned long long)life.count,
		       (unsigned long long)(graphs - life.count));
		if (life.count)
			printf("; graphs allocated while one lived: p50 %llu  p90 %llu  max %llu",
			       (unsigned long long)jm_latency_quantile(&life, 0.5),
			       (unsigned long long)jm_latency_quantile(&life, 0.9),
			       (unsigned long long)life.max);
		printf("\n");
		if (by_type[5]) {
			printf("sys events:");
			for (int s = 0; s < JM_NSYS; s++)
				if (by_sys[s])
					printf(" %s %llu", jm_sys_name((enum jm_sys)s),
					       (unsigned long long)by_sys[s]);
			printf("\n");
		}
	} else {
		printf("%s: ok (%llu lines, %llu graphs)\n", path,
		       (unsigned long long)jm_trace_lineno(r), (unsigned long long)graphs);
	}
	jm_trace_close(r);
	free(ids.key);
	free(ids.val);
	return JM_EXIT_OK;
}

/* ---- from-elf ---- */

enum { DEBUG_NONE, DEBUG_LLVM_JITLINK, DEBUG_LLI };

struct from_elf {
	struct jm_trace_writer *w;
	FILE *csv;
	const char *prefix; /* archive name without .a, for --csv rows */
	int llvm14;         /* --sections llvm14 */
	int debug;          /* --debugger-support: DEBUG_* */
	uint32_t dylib;     /* JITDylib of the input being read (--dylibs) */
	uint64_t next_id;
	uint64_t graphs;    /* counting pass: graphs it would write */
	int failed;
};

/* LLVM 22's ELFDebugObjectPlugin (Orc/Debugging/ELFDebugObjectPlugin.cpp)
 * copies each object it links into an allocation of its own, made through
 * the same memory manager just before the object's graph (one r--
 * segment of the object's size, page aligned, as `jitmm trace
 * from-jitlink` shows): llvm-jitlink (RequireDebugSections) finalizes it
 * only for objects with DWARF, so it stays in the manager's rw- memory;
 * lli finalizes every one (an r-- graph). Returns whether it is finalized. */
static int debug_object(const struct from_elf *fe, const struct jm_elf_object *o,
			struct jm_event *ev)
{
	*ev = (struct jm_event){.type = JM_EV_ALLOC, .id = fe->next_id};
	ev->req.id = fe->next_id;
	ev->req.dylib = fe->dylib;
	ev->req.nseg = 1;
	ev->req.seg[0] = (struct jm_segment_req){JM_RO, JM_STANDARD, o->size ? o->size : 1, 0, 4096};
	return fe->debug == DEBUG_LLI || o->has_dwarf;
}

static int visit_object(void *ctx, const struct jm_elf_object *o)
{
	struct from_elf *fe = ctx;
	if (fe->csv) {
		fprintf(fe->csv, "%s/%s,%llu,%llu,%llu,%llu,%llu,%u,%u,%u,%u,%llu,%llu\n",
			fe->prefix, o->name, (unsigned long long)o->rx,
			(unsigned long long)o->ro, (unsigned long long)o->rw,
			(unsigned long long)o->zf, (unsigned long long)o->tls, o->nsec,
			o->maxalign, o->got, o->stubs, (unsigned long long)o->nrel,
			(unsigned long long)o->nundef);
		return 0;
	}
	struct jm_event ev = {.type = JM_EV_ALLOC, .id = fe->next_id};
	if (fe->llvm14)
		jm_elf_graph_llvm14(o, fe->next_id, &ev.req);
	else
		jm_elf_graph(o, fe->next_id, &ev.req);
	if (ev.req.nseg == 0) {
		char c[200];
		snprintf(c, sizeof(c), "%.120s: no allocatable sections%s, skipped", o->name,
			 o->dropped ? " left after dedup" : "");
		if (fe->w)
			jm_trace_write_comment(fe->w, c);
		return 0;
	}
	if (!fe->w) { /* the counting pass */
		fe->graphs += fe->debug ? 2 : 1;
		return 0;
	}
	/* the debug object first, its finalize before the object's */
	struct jm_event dbg, dbg_fin = {.type = JM_EV_FINALIZE};
	int dbg_finalized = 0;
	if (fe->debug) {
		dbg_finalized = debug_object(fe, o, &dbg);
		dbg_fin.id = dbg.id;
		if (jm_trace_write(fe->w, &dbg) < 0)
			fe->failed = 1;
		ev.id = ev.req.id = ++fe->next_id;
	}
	ev.req.dylib = fe->dylib;
	snprintf(ev.mark, sizeof(ev.mark), "%.*s", JM_TRACE_MAX_NAME, o->name);
	/* names are one token in the format */
	for (char *p = ev.mark; *p; p++)
		if (*p == ' ' || *p == '\t')
			*p = '_';
	struct jm_event fin = {.type = JM_EV_FINALIZE, .id = fe->next_id};
	if (jm_trace_write(fe->w, &ev) < 0 ||
	    (dbg_finalized && jm_trace_write(fe->w, &dbg_fin) < 0) ||
	    jm_trace_write(fe->w, &fin) < 0)
		fe->failed = 1;
	fe->next_id++;
	return fe->failed ? -1 : 0;
}


/* path's directory part is the first dl bytes of other (dl = its length) */
static int same_dir(const char *path, const char *other, size_t dl)
{
	const char *b = strrchr(path, '/');
	size_t l = b ? (size_t)(b - path) : 0;
	return l == dl && !strncmp(path, other, dl);
}

/* argv[j] is the first input of its directory */
static int first_in_dir(char **argv, int from, int j)
{
	const char *b = strrchr(argv[j], '/');
	size_t l = b ? (size_t)(b - argv[j]) : 0;
	for (int k = from; k < j; k++)
		if (same_dir(argv[k], argv[j], l))
			return 0;
	return 1;
}

static int trace_from_elf(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"out", required_argument, 0, 'o'}, /* as every command */
		{"output", required_argument, 0, 'o'},
		{"csv", no_argument, 0, 'c'},
		{"sections", required_argument, 0, 's'},
		{"dedup", no_argument, 0, 'D'},
		{"debugger-support", required_argument, 0, 'g'},
		{"dylibs", required_argument, 0, 'd'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *out = NULL;
	int csv = 0, llvm14 = 0, dedup = 0, debug = DEBUG_NONE, c;
	enum { DYLIB_ONE, DYLIB_FILE, DYLIB_DIRECTORY } dylibs = DYLIB_ONE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'c': csv = 1; break;
		case 's':
			if (!strcmp(optarg, "llvm14"))
				llvm14 = 1;
			else if (strcmp(optarg, "default"))
				return jm_usage_error("trace from-elf: --sections: '%s' is not "
						      "default or llvm14", optarg);
			break;
		case 'D': dedup = 1; break;
		case 'g':
			if (!strcmp(optarg, "llvm-jitlink"))
				debug = DEBUG_LLVM_JITLINK;
			else if (!strcmp(optarg, "lli"))
				debug = DEBUG_LLI;
			else if (strcmp(optarg, "none"))
				return jm_usage_error("trace from-elf: --debugger-support: '%s' is not "
						      "none, llvm-jitlink or lli", optarg);
			break;
		case 'd':
			if (!strcmp(optarg, "one"))
				dylibs = DYLIB_ONE;
			else if (!strcmp(optarg, "file"))
				dylibs = DYLIB_FILE;
			else if (!strcmp(optarg, "directory"))
				dylibs = DYLIB_DIRECTORY;
			else
				return jm_usage_error("trace from-elf: --dylibs: '%s' is not one, "
						      "file or directory", optarg);
			break;
		case 'h': trace_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("trace from-elf", argv);
		}
	}
	if (optind >= argc)
		return jm_usage_error("trace from-elf: no input objects");
	if (!out && !csv)
		return jm_usage_error("trace from-elf: missing -o OUT (or --csv)");
	struct jm_trace_header h = {0};
	/* the ingester accepts x86-64 objects only */
	snprintf(h.arch, sizeof(h.arch), "x86_64");
	h.page_size = jm_page_size();
	snprintf(h.sizes, sizeof(h.sizes), "exact");
	static const char *const debug_name[] = {"", " --debugger-support llvm-jitlink",
						 " --debugger-support lli"};
	size_t len = (size_t)snprintf(h.made_by, sizeof(h.made_by), "jitmm trace from-elf%s%s%s",
				      llvm14 ? " --sections llvm14" : "", dedup ? " --dedup" : "",
				      debug_name[debug]);
	size_t slen = (size_t)snprintf(h.source, sizeof(h.source), "elf:");
	for (int i = optind; i < argc; i++) {
		const char *base = strrchr(argv[i], '/');
		base = base ? base + 1 : argv[i];
		if (len < sizeof(h.made_by))
			len += (size_t)snprintf(h.made_by + len, sizeof(h.made_by) - len, " %s", argv[i]);
		if (slen < sizeof(h.source))
			slen += (size_t)snprintf(h.source + slen, sizeof(h.source) - slen, "%s%s",
						 i > optind ? "," : "", base);
	}
	if (len >= sizeof(h.made_by) || slen >= sizeof(h.source)) {
		/* keep the header lines well formed when many inputs are given */
		snprintf(h.made_by + sizeof(h.made_by) - 5, 5, " ...");
		snprintf(h.source + sizeof(h.source) - 5, 5, ",...");
	}
	char err[600];
	struct from_elf fe = {.llvm14 = llvm14, .debug = debug};
	struct jm_elf_dedup *dd = NULL;
	/* first pass: check every input and count the graphs for the header
	 * (graphs and max_live: nothing is freed) */
	if (!csv) {
		struct from_elf count = fe;
		dd = dedup ? jm_elf_dedup_new() : NULL;
		for (int i = optind; i < argc; i++)
			if (jm_elf_ingest_dedup(argv[i], dd, visit_object, &count, err,
						sizeof(err)) < 0) {
				fprintf(stderr, "jitmm: trace from-elf: %s\n", err);
				jm_elf_dedup_free(dd);
				return JM_EXIT_USAGE;
			}
		jm_elf_dedup_free(dd);
		h.graphs = h.max_live = count.graphs;
	}
	dd = dedup && !csv ? jm_elf_dedup_new() : NULL;
	if (csv) {
		fe.csv = stdout;
	} else if (!(fe.w = jm_trace_writer_open(out, &h, err, sizeof(err)))) {
		fprintf(stderr, "jitmm: trace from-elf: %s\n", err);
		return JM_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		char prefix[256];
		const char *base = strrchr(argv[i], '/');
		snprintf(prefix, sizeof(prefix), "%s", base ? base + 1 : argv[i]);
		size_t pl = strlen(prefix);
		if (pl > 2 && !strcmp(prefix + pl - 2, ".a"))
			prefix[pl - 2] = 0;
		fe.prefix = prefix;
		/* --dylibs file: each input (an archive, an object) is a JITDylib;
		 * directory: inputs in one directory share one, numbered in the
		 * order their directories first appear */
		if (dylibs == DYLIB_FILE) {
			fe.dylib = (uint32_t)(i - optind);
		} else if (dylibs == DYLIB_DIRECTORY) {
			/* the number of distinct directories before this one's first
			 * input */
			size_t dl = base ? (size_t)(base - argv[i]) : 0;
			uint32_t id = 0;
			for (int j = optind; j < i; j++) {
				if (!same_dir(argv[j], argv[i], dl) && first_in_dir(argv, optind, j))
					id++;
				else if (same_dir(argv[j], argv[i], dl))
					break;
			}
			fe.dylib = id;
		}
		if (jm_elf_ingest_dedup(argv[i], dd, visit_object, &fe, err, sizeof(err)) < 0) {
			if (fe.failed)
				snprintf(err, sizeof(err), "%s: write error", out);
			fprintf(stderr, "jitmm: trace from-elf: %s\n", err);
			jm_trace_writer_abort(fe.w);
			jm_elf_dedup_free(dd);
			return JM_EXIT_USAGE;
		}
	}
	jm_elf_dedup_free(dd);
	if (fe.w && jm_trace_writer_close(fe.w, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: trace from-elf: %s\n", err);
		return JM_EXIT_FAIL;
	}
	if (fe.w && strcmp(out, "-"))
		fprintf(stderr, "jitmm: wrote %s: %llu graphs\n", out,
			(unsigned long long)fe.next_id);
	return JM_EXIT_OK;
}

/* FILE... key=value... -> "FILE:FILE,key=value,..." (the jitlink: spec) */
static int trace_from_jitlink(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, 0, 'o'},
		{"backend", required_argument, 0, 'b'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *out = NULL, *backend = "inprocess";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'b': backend = optarg; break;
		case 'h': trace_usage(stdout); return JM_EXIT_OK;
		default: return jm_bad_option("trace from-jitlink", argv);
		}
	}
	if (!out)
		return jm_usage_error("trace from-jitlink: missing -o OUT");
	struct jm_backend_spec b;
	char err[300];
	int nb = jm_backend_spec_parse(backend, &b, 1, err, sizeof(err));
	if (nb != 1)
		return jm_usage_error("trace from-jitlink: --backend: %s", nb < 0 ? err :
				      "give exactly one backend");
	static char files[8192], opts[2048], made_by[512];
	size_t fl = 0, ol = 0, ml = (size_t)snprintf(made_by, sizeof(made_by),
						     "jitmm trace from-jitlink");
	if (strcmp(backend, "inprocess"))
		ml += (size_t)snprintf(made_by + ml, sizeof(made_by) - ml, " --backend %s", backend);
	files[0] = opts[0] = 0;
	for (int i = optind; i < argc; i++) {
		const char *a = argv[i];
		int kv = strchr(a, '=') != NULL;
		if (!kv && strpbrk(a, ":,"))
			return jm_usage_error("trace from-jitlink: '%s': input names with ':' or ',' "
					      "are not supported", a);
		size_t *len = kv ? &ol : &fl;
		char *dst = kv ? opts : files;
		size_t cap = kv ? sizeof(opts) : sizeof(files);
		*len += (size_t)snprintf(dst + *len, cap - *len, "%s%s",
					 kv ? "," : (fl ? ":" : ""), a);
		if (*len >= cap)
			return jm_usage_error("trace from-jitlink: too many or too long arguments");
		if (ml < sizeof(made_by))
			ml += (size_t)snprintf(made_by + ml, sizeof(made_by) - ml, " %s", a);
	}
	if (!fl)
		return jm_usage_error("trace from-jitlink: no input objects or archives");
	if (ml >= sizeof(made_by))
		snprintf(made_by + sizeof(made_by) - 5, 5, " ...");
	static char args[sizeof(files) + sizeof(opts)];
	snprintf(args, sizeof(args), "%s%s", files, opts);
	return jm_jitlink_trace(args, &b, out, made_by);
}

static int trace_from_workload(int argc, char **argv)
{
	const char *out = NULL, *spec = NULL;
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			trace_usage(stdout);
			return JM_EXIT_OK;
		} else if (!spec && argv[i][0] != '-')
			spec = argv[i];
		else
			return jm_usage_error("trace from-workload: unexpected '%s'", argv[i]);
	}
	if (!spec || !out)
		return jm_usage_error("trace from-workload: want SPEC -o OUT");
	char err[600];
	struct jm_workload w;
	if (jm_workload_open(spec, 0, &w, err, sizeof(err)) < 0)
		return jm_usage_error("trace from-workload: %s", err);
	if (jm_workload_drives(&w)) {
		jm_workload_close(&w);
		return jm_usage_error("trace from-workload: %s links with LLVM: use `jitmm trace "
				      "from-jitlink`", spec);
	}
	struct jm_trace_header h = {0};
	snprintf(h.source, sizeof(h.source), "workload:%.240s", w.spec);
	snprintf(h.arch, sizeof(h.arch), "any");
	snprintf(h.sizes, sizeof(h.sizes), "exact");
	snprintf(h.made_by, sizeof(h.made_by), "jitmm trace from-workload %.400s", spec);
	h.page_size = jm_page_size();
	h.graphs = w.graphs;
	h.max_live = w.max_live;
	struct jm_trace_writer *tw = jm_trace_writer_open(out, &h, err, sizeof(err));
	if (!tw) {
		jm_workload_close(&w);
		return jm_usage_error("trace from-workload: %s", err);
	}
	struct jm_event ev;
	int rc;
	uint64_t n = 0;
	while ((rc = jm_workload_next(&w, &ev)) > 0) {
		if (jm_trace_write(tw, &ev) < 0) {
			rc = -2;
			break;
		}
		n++;
	}
	if (rc < 0) {
		fprintf(stderr, "jitmm: trace from-workload: %s\n",
			rc == -2 ? "write error" : w.err);
		jm_trace_writer_abort(tw);
		jm_workload_close(&w);
		return rc == -2 ? JM_EXIT_FAIL : JM_EXIT_USAGE;
	}
	jm_workload_close(&w);
	if (jm_trace_writer_close(tw, err, sizeof(err)) < 0) {
		fprintf(stderr, "jitmm: trace from-workload: %s\n", err);
		return JM_EXIT_FAIL;
	}
	if (strcmp(out, "-"))
		fprintf(stderr, "jitmm: wrote %s: %llu events\n", out, (unsigned long long)n);
	return JM_EXIT_OK;
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 2) {
		trace_usage(stderr);
		return JM_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		trace_usage(stdout);
		return JM_EXIT_OK;
	}
	if (!strcmp(sub, "from-elf"))
		return trace_from_elf(argc - 1, argv + 1);
	if (!strcmp(sub, "from-jitlink"))
		return trace_from_jitlink(argc - 1, argv + 1);
	if (!strcmp(sub, "from-workload"))
		return trace_from_workload(argc - 1, argv + 1);
	if (!strcmp(sub, "stats") || !strcmp(sub, "validate")) {
		int validate = sub[0] == 'v';
		if (argc < 3)
			return jm_usage_error("trace %s: missing FILE", sub);
		if (!validate && argc > 3)
			return jm_usage_error("trace stats: one FILE at a time");
		int rc = JM_EXIT_OK;
		for (int i = 2; i < argc; i++) {
			int r = trace_stats(argv[i], validate);
			if (r != JM_EXIT_OK)
				rc = r;
		}
		return rc;
	}
	return jm_usage_error("trace: unknown subcommand '%s' (stats, validate, from-elf, "
			      "from-jitlink, from-workload)", sub);
}
