/* The trace format: writer -> reader round trip, every class of malformed
 * input gives FILE:LINE: message (never a crash), compressed inputs, and
 * bounded memory over a 10,000,000-event stream. */
#include "testutil.h"

#include <lzma.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../allocators/os.h"
#include "../workloads/trace.h"
#include "../workloads/workload.h"

#if defined(__SANITIZE_ADDRESS__)
/* freed blocks go back at once: the RSS check measures the reader, not
 * ASan's quarantine */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
}
#endif

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/jm-trace-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return tu_rmtree(tmpdir) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

#define HDR "jitmm-trace 1\nsource test\narch x86_64\npage_size 4096\nmade_by hand\n"

static const struct jm_event *sample_events(size_t *n)
{
	static struct jm_event ev[9];
	memset(ev, 0, sizeof(ev));
	ev[0].type = JM_EV_MARK;
	snprintf(ev[0].mark, sizeof(ev[0].mark), "load phase 1");
	ev[1].type = JM_EV_ALLOC;
	ev[1].id = 7;
	ev[1].t_ns = 123456789;
	ev[1].tid = 3;
	ev[1].req = (struct jm_graph_req){.id = 7, .dylib = 2, .nseg = 4, .seg = {
		{JM_RO, JM_STANDARD, 100, 0, 8},
		{JM_RW, JM_STANDARD, 64, 4000, 32},
		{JM_RX, JM_STANDARD, 5000, 0, 16},
		{JM_RO, JM_FINALIZE, 40, 0, 1}}};
	snprintf(ev[1].mark, sizeof(ev[1].mark), "deflate.o");
	/* a section-name hint (slab-pool's .nv_fatbin overflow) */
	ev[1].req.section = (struct jm_section_hint){".nv_fatbin", JM_RO, JM_STANDARD, 64};
	ev[2].type = JM_EV_FINALIZE;
	ev[2].id = 7;
	ev[3].type = JM_EV_ALLOC;
	ev[3].id = 18446744073709551613ull; /* the largest id allowed */
	ev[3].req = (struct jm_graph_req){.id = ev[3].id, .nseg = 1, .seg = {
		{JM_RX, JM_STANDARD, 1ull << 40, 0, 1u << 30}}};
	ev[4].type = JM_EV_FREE;
	ev[4].id = 7;
	ev[4].tid = 4;
	ev[5].type = JM_EV_TRIM;
	ev[5].t_ns = 5;
	ev[6].type = JM_EV_SYS;
	ev[6].sys = (struct jm_sys_event){JM_SYS_MMAP, 0, 1 << 20, PROT_NONE,
					  MAP_PRIVATE | MAP_ANONYMOUS, 0x7f0000000000, 57};
	ev[7].type = JM_EV_SYS;
	ev[7].sys = (struct jm_sys_event){JM_SYS_MADVISE, 0x7f0000001000, 4096, 0,
					  MADV_DONTNEED, 0, -1};
	ev[8].type = JM_EV_SYS;
	ev[8].sys = (struct jm_sys_event){JM_SYS_MPROTECT, 0x7f0000000000, 8192,
					  PROT_READ | PROT_EXEC, 0, -12, 58};
	*n = 9;
	return ev;
}

/* Free text with newlines, backslashes, control bytes and spaces goes
 * through the writer and comes back the same, as exactly the events
 * written: a newline in a header value, a name or a comment starts no line
 * (issue 11: an argument holding "\nalloc 0 ..." became a graph). */
static void test_escaped_text(void **state)
{
	(void)state;
	char path[128], err[600];
	snprintf(path, sizeof(path), "%s/esc.jmt", tmpdir);
	static const char nasty[] = " lead\nalloc 0 rx=4096\nfinalize 0\r\n# \\x41\t\x01" "\x7f" " trail ";
	struct jm_trace_header h = {.page_size = 4096};
	snprintf(h.source, sizeof(h.source), "%s", nasty);
	snprintf(h.arch, sizeof(h.arch), "x86_64\nalloc 9 rx=1");
	snprintf(h.made_by, sizeof(h.made_by), "sh -c %s", nasty);
	struct jm_trace_writer *w = jm_trace_writer_open(path, &h, err, sizeof(err));
	assert_non_null(w);
	jm_trace_write_comment(w, "a comment\nalloc 7 rx=1");
	struct jm_event a = {.type = JM_EV_ALLOC, .id = 3};
	a.req.seg[0] = (struct jm_segment_req){JM_RX, JM_STANDARD, 100, 0, 16};
	a.req.nseg = 1;
	snprintf(a.mark, sizeof(a.mark), "my obj\nfree 3.o \\");
	struct jm_event mk = {.type = JM_EV_MARK};
	snprintf(mk.mark, sizeof(mk.mark), "phase 1\nalloc 8 rx=1 ");
	assert_int_equal(jm_trace_write(w, &a), 0);
	assert_int_equal(jm_trace_write(w, &mk), 0);
	assert_int_equal(jm_trace_writer_close(w, err, sizeof(err)), 0);

	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	assert_string_equal(jm_trace_header(r)->source, h.source);
	assert_string_equal(jm_trace_header(r)->arch, h.arch);
	assert_string_equal(jm_trace_header(r)->made_by, h.made_by);
	struct jm_event got;
	assert_int_equal(jm_trace_read(r, &got), 1);
	assert_int_equal(got.type, JM_EV_ALLOC);
	assert_true(got.id == 3);
	assert_string_equal(got.mark, a.mark);
	assert_int_equal(jm_trace_read(r, &got), 1);
	assert_int_equal(got.type, JM_EV_MARK);
	assert_string_equal(got.mark, mk.mark);
	if (jm_trace_read(r, &got) != 0) /* nothing injected */
		fail_msg("an extra event or error: %s", jm_trace_error(r));
	jm_trace_close(r);
	/* every escape and back, byte by byte */
	char raw[256], esc[JM_TRACE_ESCAPED_MAX(256)], back[256], why[200];
	for (int i = 0; i < 255; i++)
		raw[i] = (char)(i + 1);
	raw[255] = 0;
	assert_true(jm_trace_escape(raw, 1, esc, sizeof(esc)) < sizeof(esc));
	assert_null(strchr(esc, '\n'));
	assert_null(strchr(esc, ' '));
	if (jm_trace_unescape(esc, back, sizeof(back), why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_string_equal(back, raw);
}

static void test_round_trip(void **state)
{
	(void)state;
	char path[128], err[600];
	snprintf(path, sizeof(path), "%s/rt.jmt", tmpdir);
	struct jm_trace_header h = {.page_size = 16384, .max_live = 2, .graphs = 2};
	snprintf(h.source, sizeof(h.source), "round trip");
	snprintf(h.arch, sizeof(h.arch), "aarch64");
	snprintf(h.made_by, sizeof(h.made_by), "test_trace_reader");
	snprintf(h.sizes, sizeof(h.sizes), "page");
	struct jm_trace_writer *w = jm_trace_writer_open(path, &h, err, sizeof(err));
	assert_non_null(w);
	size_t n;
	const struct jm_event *ev = sample_events(&n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(jm_trace_write(w, &ev[i]), 0);
	assert_int_equal(jm_trace_writer_close(w, err, sizeof(err)), 0);

	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	const struct jm_trace_header *rh = jm_trace_header(r);
	assert_string_equal(rh->source, "round trip");
	assert_string_equal(rh->arch, "aarch64");
	assert_string_equal(rh->made_by, "test_trace_reader");
	assert_string_equal(rh->sizes, "page");
	assert_int_equal(rh->page_size, 16384);
	assert_int_equal(rh->max_live, 2);
	assert_int_equal(rh->graphs, 2);
	struct jm_event got;
	for (size_t i = 0; i < n; i++) {
		int rc = jm_trace_read(r, &got);
		if (rc != 1)
			fail_msg("event %zu: %d %s", i, rc, jm_trace_error(r));
		assert_int_equal(got.type, ev[i].type);
		assert_int_equal(got.t_ns, ev[i].t_ns);
		assert_int_equal(got.tid, ev[i].tid);
		switch (got.type) {
		case JM_EV_ALLOC: {
			assert_true(got.id == ev[i].id);
			assert_string_equal(got.mark, ev[i].mark);
			assert_int_equal(got.req.dylib, ev[i].req.dylib);
			assert_string_equal(got.req.section.name, ev[i].req.section.name);
			assert_int_equal(got.req.section.cls, ev[i].req.section.cls);
			assert_int_equal(got.req.section.life, ev[i].req.section.life);
			assert_true(got.req.section.size == ev[i].req.section.size);
			struct jm_graph_req want = ev[i].req;
			jm_graph_normalize(&want);
			assert_int_equal(got.req.nseg, want.nseg);
			for (uint32_t s = 0; s < want.nseg; s++) {
				assert_int_equal(got.req.seg[s].cls, want.seg[s].cls);
				assert_int_equal(got.req.seg[s].life, want.seg[s].life);
				assert_true(got.req.seg[s].content == want.seg[s].content);
				assert_int_equal(got.req.seg[s].zero_fill, want.seg[s].zero_fill);
				assert_int_equal(got.req.seg[s].align, want.seg[s].align);
			}
			break;
		}
		case JM_EV_FINALIZE:
		case JM_EV_FREE:
			assert_int_equal(got.id, ev[i].id);
			break;
		case JM_EV_MARK:
			assert_string_equal(got.mark, ev[i].mark);
			break;
		case JM_EV_SYS:
			assert_int_equal(got.sys.sys, ev[i].sys.sys);
			assert_true(got.sys.addr == ev[i].sys.addr);
			assert_true(got.sys.len == ev[i].sys.len);
			assert_int_equal(got.sys.prot, ev[i].sys.prot);
			assert_int_equal(got.sys.flags, ev[i].sys.flags);
			assert_true(got.sys.ret == ev[i].sys.ret);
			assert_true(got.sys.vmas == ev[i].sys.vmas);
			break;
		case JM_EV_TRIM:
			break;
		}
	}
	assert_int_equal(jm_trace_read(r, &got), 0);
	assert_int_equal(jm_trace_peak_live(r), 2);
	assert_int_equal(jm_trace_live(r), 1);
	jm_trace_close(r);
}

/* The writer compresses by suffix; every form reads back the same events. */
static void test_compressed_writer(void **state)
{
	(void)state;
	const char *suffix[] = {"", ".zst", ".xz"};
	char lines[3][9][512];
	size_t n;
	const struct jm_event *ev = sample_events(&n);
	for (int k = 0; k < 3; k++) {
		char path[128], err[600];
		snprintf(path, sizeof(path), "%s/w.jmt%s", tmpdir, suffix[k]);
		struct jm_trace_header h = {.page_size = 4096};
		snprintf(h.source, sizeof(h.source), "w");
		snprintf(h.arch, sizeof(h.arch), "x86_64");
		snprintf(h.made_by, sizeof(h.made_by), "t");
		struct jm_trace_writer *w = jm_trace_writer_open(path, &h, err, sizeof(err));
		assert_non_null(w);
		for (int rep = 0; rep < 2000; rep++) /* many compressor blocks */
			jm_trace_write_comment(w, "padding padding padding padding padding");
		for (size_t i = 0; i < n; i++)
			assert_int_equal(jm_trace_write(w, &ev[i]), 0);
		assert_int_equal(jm_trace_writer_close(w, err, sizeof(err)), 0);
		FILE *f = fopen(path, "rb");
		unsigned char magic[4] = {0};
		assert_true(fread(magic, 1, 4, f) == 4);
		fclose(f);
		assert_int_equal(magic[0], k == 0 ? 'j' : k == 1 ? 0x28 : 0xFD);
		struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
		if (!r)
			fail_msg("%s", err);
		struct jm_event got;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(jm_trace_read(r, &got), 1);
			jm_trace_format(&got, lines[k][i], sizeof(lines[k][i]));
			if (k)
				assert_string_equal(lines[k][i], lines[0][i]);
		}
		assert_int_equal(jm_trace_read(r, &got), 0);
		jm_trace_close(r);
	}
}

/* Each malformed input: the error must be "PATH:LINE: ..." containing what. */
static const struct bad {
	const char *text;
	int line;
	const char *what;
} bad_inputs[] = {
	{"", 0, "empty file"},
	{"hello 1\n", 1, "not a jitmm trace"},
	{"jitmm-trace\n", 1, "bad version line"},
	{"jitmm-trace 2\n", 1, "version 2 is not supported"},
	{"jitmm-trace 1 extra\n", 1, "bad version line"},
	{"jitmm-trace 1\nsource x\narch x86_64\npage_size 4096\nalloc 1 rx=1\n", 5, "missing 'made_by'"},
	{"jitmm-trace 1\nsource x\narch x86_64\nmade_by y\nalloc 1 rx=1\n", 5, "missing 'page_size'"},
	{"jitmm-trace 1\npage_size 4095\n", 2, "not a power of two"},
	/* the replayer sizes its table from max_live: bounded (was a hang in
	 * jm_live_init at 2^61) */
	{"jitmm-trace 1\nmax_live 2305843009213693952\n", 2,
	 "header max_live: 2305843009213693952 is over the limit 1048576"},
	{"jitmm-trace 1\nmax_live 1048577\n", 2, "over the limit 1048576"},
	{"jitmm-trace 1\npage_size lots\n", 2, "not a number"},
	{"jitmm-trace 1\ncolour blue\n", 2, "unknown header key 'colour'"},
	{"jitmm-trace 1\nsizes huge\n", 2, "not exact or page"},
	{"jitmm-trace 1\nsource\n", 2, "missing value"},
	{HDR "# comment\n\nallocate 1 rx=1\n", 8, "unknown header key 'allocate'"},
	/* escapes in free text (docs/trace-format.md, "Escapes") */
	{"jitmm-trace 1\nsource a\\qb\n", 2, "header source byte 1: unknown escape '\\q'"},
	{"jitmm-trace 1\nsource a\\x4\n", 2, "\\x needs two hex digits"},
	{"jitmm-trace 1\nsource a\\xg0\n", 2, "\\x needs two hex digits"},
	{"jitmm-trace 1\nmade_by a\\x00b\n", 2, "header made_by byte 1: \\x00 (NUL)"},
	{"jitmm-trace 1\nsource ab\\\n", 2, "a backslash ends the text"},
	{"jitmm-trace 1\nsource a\x01" "b\n", 2, "byte 1 is a control character (0x01)"},
	{"jitmm-trace 1\narch a\x1b" "[31m\n", 2, "control character (0x1b)"},
	{HDR "alloc 1 rx=1 name=a\\zb\n", 6, "alloc: name byte 1: unknown escape"},
	{HDR "alloc 1 rx=1 name=\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09\\x0a"
	 "\\x0b\\x0c\\x0d\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18"
	 "\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f\\x20\\x21\\x22\\x23\\x24\\x25\\x26"
	 "\\x27\\x28\\x29\\x2a\\x2b\\x2c\\x2d\\x2e\\x2f\\x30\\x31\n", 6,
	 "name longer than 47 bytes"},
	{HDR "mark drop\\x00\n", 6, "mark: phase name byte 4: \\x00 (NUL)"},
	{HDR "alloc 1 rx=1\nallocate 2 rx=1\n", 7, "unknown event 'allocate'"},
	{HDR "alloc\n", 6, "missing graph id"},
	{HDR "alloc x rx=1\n", 6, "not a number"},
	{HDR "alloc 18446744073709551615 rx=1\n", 6, "below 2^64-2"},
	{HDR "alloc 99999999999999999999 rx=1\n", 6, "not a number"},
	{HDR "alloc 1\n", 6, "no segments"},
	{HDR "alloc 1 qq=5\n", 6, "unknown segment class 'qq'"},
	{HDR "alloc 1 rx/forever=5\n", 6, "not std or fin"},
	{HDR "alloc 1 rx=5 rx=6\n", 6, "two rx segments"},
	{HDR "alloc 1 ro=5 section=.nv_fatbin\n", 6, "want section=NAME:CLASS"},
	{HDR "alloc 1 ro=5 section=:ro=5\n", 6, "section name must be 1 to 23"},
	{HDR "alloc 1 ro=5 section=a;b:ro=5\n", 6, "character 0x3b not allowed"},
	{HDR "alloc 1 ro=5 section=.f:qq=5\n", 6, "section class 'qq'"},
	{HDR "alloc 1 ro=5 section=.f:ro=0\n", 6, "is not in [1, 2^40]"},
	{HDR "alloc 1 ro=5 section=.f:ro=6\n", 6, "larger than the content"},
	{HDR "alloc 1 ro=5 section=.f:rx=5\n", 6, "names a rx segment the graph does not have"},
	{HDR "alloc 1 ro=5 section=.f:ro=1 section=.g:ro=1\n", 6, "two section= hints"},
	{HDR "alloc 1 rx=5x\n", 6, "bad size"},
	{HDR "alloc 1 rx=5+z\n", 6, "bad zero-fill"},
	{HDR "alloc 1 rx=5@3\n", 6, "not a power of two"},
	{HDR "alloc 1 rx=5@2147483648\n", 6, "not a power of two"},
	{HDR "alloc 1 rx=5@\n", 6, "bad alignment"},
	{HDR "alloc 1 rx=1099511627777\n", 6, "limit 2^40"},
	{HDR "alloc 1 rx=0\n", 6, "is empty"},
	{HDR "alloc 1 rx=1 bogus\n", 6, "unexpected 'bogus'"},
	{HDR "alloc 1 rx=1 dylib=-1\n", 6, "bad dylib=-1"},
	{HDR "alloc 1 rx=1 name=0123456789012345678901234567890123456789012345678\n", 6,
	 "name longer than"},
	{HDR "alloc 1 rx=1\nalloc 1 rx=1\n", 7, "already live"},
	{HDR "finalize 3\n", 6, "not live"},
	{HDR "alloc 1 rx=1\nfinalize 1\nfinalize 1\n", 8, "finalized twice"},
	{HDR "free 3\n", 6, "not live"},
	{HDR "alloc 1 rx=1\nfree 1\nfree 1\n", 8, "not live"},
	{HDR "alloc 1 rx=1\nfinalize 1 2\n", 7, "unexpected '2'"},
	{HDR "trim now\n", 6, "unexpected 'now'"},
	{HDR "mark\n", 6, "missing phase name"},
	{HDR "mark t=5\n", 6, "missing phase name"},
	{HDR "mark 012345678901234567890123456789012345678901234567\n", 6, "longer than"},
	{HDR "alloc t=abc 1 rx=1\n", 6, "not a number"},
	{HDR "alloc tid=99999999999 1 rx=1\n", 6, "tid"},
	{HDR "sys\n", 6, "missing syscall"},
	{HDR "sys brk len=1 ret=0\n", 6, "not mmap, munmap"},
	{HDR "sys mmap len=4096\n", 6, "needs len= and ret="},
	{HDR "sys mmap ret=0\n", 6, "needs len= and ret="},
	{HDR "sys mmap len=4096 ret=0 prot=rwz\n", 6, "bad prot"},
	{HDR "sys mmap len=4096 ret=0 prot=9\n", 6, "bad prot"},
	{HDR "sys mmap len=4096 ret=0 flags=0x1ffffffff\n", 6, "bad flags"},
	{HDR "sys mmap len=4096 ret=--1\n", 6, "bad ret"},
	{HDR "sys mmap len=4096 ret=0 vmas=x\n", 6, "bad vmas"},
	{HDR "sys mmap len=4096 ret=0 colour=1\n", 6, "unknown field 'colour'"},
	{HDR "sys mmap len=4096 ret=0 junk\n", 6, "not key=value"},
	{HDR "sys madvise addr=0x1000 len=4096 advice=sleepy ret=0\n", 6, "unknown advice"},
	{HDR "sys munmap addr=0x1001 len=4096 ret=0\n", 6, "not page aligned"},
	{HDR "sys munmap addr=0x zlen=1 ret=0\n", 6, "bad addr"},
	{"jitmm-trace 1\nsource x\narch x86_64\npage_size 4096\nmade_by y\nmax_live 1\n"
	 "alloc 1 rx=1\nalloc 2 rx=1\n", 8, "max_live"},
	{HDR "alloc 1 rx=1\nsource late\n", 7, "unknown event 'source'"},
};

static void expect_error(const char *path, int line, const char *what)
{
	char err[600], prefix[200];
	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (r) {
		struct jm_event ev;
		int rc;
		while ((rc = jm_trace_read(r, &ev)) > 0)
			;
		if (rc == 0)
			fail_msg("%s: accepted; want line %d: %s", path, line, what);
		snprintf(err, sizeof(err), "%s", jm_trace_error(r));
		jm_trace_close(r);
	}
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		fail_msg("got '%s', want '%s...%s'", err, prefix, what);
}

static void expect_error_anyline(const char *path, const char *what)
{
	char err[600], prefix[200];
	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (r) {
		struct jm_event ev;
		int rc;
		while ((rc = jm_trace_read(r, &ev)) > 0)
			;
		if (rc == 0)
			fail_msg("%s: accepted; want %s", path, what);
		snprintf(err, sizeof(err), "%s", jm_trace_error(r));
		jm_trace_close(r);
	}
	snprintf(prefix, sizeof(prefix), "%s:", path);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		fail_msg("got '%s', want '%s...%s'", err, prefix, what);
}

static void test_malformed(void **state)
{
	(void)state;
	char path[128];
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		snprintf(path, sizeof(path), "%s/bad%zu.jmt", tmpdir, i);
		write_file(path, bad_inputs[i].text, strlen(bad_inputs[i].text));
		expect_error(path, bad_inputs[i].line, bad_inputs[i].what);
	}
}

static void test_limits_and_binary(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/long.jmt", tmpdir);
	size_t len = strlen(HDR) + 100000;
	char *text = malloc(len + 1);
	strcpy(text, HDR);
	memset(text + strlen(HDR), 'a', 100000);
	write_file(path, text, len); /* no final newline either */
	expect_error(path, 6, "line longer than 4096");
	/* just under the limit is fine as far as length goes */
	snprintf(text, len, HDR "mark ");
	memset(text + strlen(text), 'b', 4000);
	text[strlen(HDR) + 5 + 4000] = 0;
	write_file(path, text, strlen(text));
	expect_error(path, 6, "phase name longer");
	free(text);
	static const char nul[] = HDR "alloc 1 rx=1\0\n";
	snprintf(path, sizeof(path), "%s/nul.jmt", tmpdir);
	write_file(path, nul, sizeof(nul) - 1);
	expect_error(path, 6, "NUL byte");
	/* NUL bytes are looked for once per read of the buffer: one far past
	 * the first 256 KiB read (after the buffer has moved) is still found,
	 * on its own line, and the lines before it are fine */
	{
		size_t cap = strlen(HDR) + 40000 * 32 + 64, n = 0;
		char *big = malloc(cap);
		assert_non_null(big);
		n += (size_t)snprintf(big + n, cap - n, "%s", HDR);
		for (int i = 0; i < 40000; i++)
			n += (size_t)snprintf(big + n, cap - n, "alloc %d rx=1\nfree %d\n", i, i);
		memcpy(big + n, "alloc 7 rx=\0" "1\nfree 7\n", 21);
		n += 21;
		write_file(path, big, n);
		expect_error(path, 6 + 80000, "NUL byte");
		free(big);
	}
	/* random bytes never crash: an error or (unlikely) a valid trace */
	unsigned seed = 12345;
	char *junk = malloc(65536);
	for (int round = 0; round < 50; round++) {
		size_t n = strlen(HDR);
		memcpy(junk, HDR, n);
		for (size_t i = n; i < 65536; i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = (char)(" \n=@+/0123456789abcdefrwxomlk#\t-"[(seed >> 16) % 32]);
		}
		write_file(path, junk, 65536);
		char err[600];
		struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
		if (!r)
			continue;
		struct jm_event ev;
		int rc;
		while ((rc = jm_trace_read(r, &ev)) > 0)
			;
		if (rc < 0)
			assert_non_null(strstr(jm_trace_error(r), path));
		jm_trace_close(r);
	}
	free(junk);
	char err[600];
	assert_null(jm_trace_open("/nonexistent/x.jmt", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

static int have(const char *tool)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static void read_all_ok(const char *path, uint64_t want_events)
{
	char err[600];
	struct jm_trace_reader *r = jm_trace_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	struct jm_event ev;
	uint64_t n = 0;
	int rc;
	while ((rc = jm_trace_read(r, &ev)) > 0)
		n++;
	if (rc < 0)
		fail_msg("%s", jm_trace_error(r));
	assert_int_equal(n, want_events);
	jm_trace_close(r);
}

static void test_compressed(void **state)
{
	(void)state;
	if (!have("xz") || !have("zstd"))
		SKIP_BECAUSE("xz or zstd not installed (scripts/install-deps installs them)");
	char plain[128], cmd[1024];
	snprintf(plain, sizeof(plain), "%s/c.jmt", tmpdir);
	/* big enough to span many 64 KiB input blocks */
	FILE *f = fopen(plain, "w");
	fputs(HDR, f);
	for (int i = 0; i < 50000; i++)
		fprintf(f, "alloc %d ro=%d@8 rx=%d@16\nfinalize %d\nfree %d\n", i, 8 + i % 100,
			16 + i % 1000, i, i);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xz -k -c %s > %s.xz && zstd -q -k %s -o %s.zst", plain,
		 plain, plain, plain);
	assert_int_equal(system(cmd), 0);
	char p[160];
	snprintf(p, sizeof(p), "%s.xz", plain);
	read_all_ok(p, 150000);
	snprintf(p, sizeof(p), "%s.zst", plain);
	read_all_ok(p, 150000);
	/* the workload source reads compressed traces too */
	char spec[200], err[600];
	snprintf(spec, sizeof(spec), "trace:%s.zst", plain);
	struct jm_workload w;
	assert_int_equal(jm_workload_open(spec, 0, &w, err, sizeof(err)), 0);
	struct jm_event ev;
	assert_int_equal(jm_workload_next(&w, &ev), 1);
	assert_int_equal(ev.type, JM_EV_ALLOC);
	jm_workload_close(&w);

	/* truncated and corrupt compressed streams are errors, not crashes */
	const char *kinds[] = {"xz", "zst"};
	for (int k = 0; k < 2; k++) {
		char src[160], dst[160];
		snprintf(src, sizeof(src), "%s.%s", plain, kinds[k]);
		snprintf(dst, sizeof(dst), "%s.trunc.%s", plain, kinds[k]);
		struct stat st;
		assert_int_equal(stat(src, &st), 0);
		snprintf(cmd, sizeof(cmd), "head -c %lld %s > %s", (long long)st.st_size / 2,
			 src, dst);
		assert_int_equal(system(cmd), 0);
		expect_error_anyline(dst, k == 0 ? "xz: truncated" : "zstd: truncated");
		/* corrupt: the middle of the stream overwritten */
		snprintf(cmd, sizeof(cmd),
			 "cp %s %s && printf 'XXXXXXXXXXXXXXXXXXXXXXXX' | dd of=%s bs=1 seek=%lld "
			 "conv=notrunc 2>/dev/null", src, dst, dst, (long long)st.st_size / 2);
		assert_int_equal(system(cmd), 0);
		expect_error_anyline(dst, k == 0 ? "xz: " : "zstd: ");
	}
}

/* A file of several compressed streams (xz) or frames (zstd) is read to
 * its end, as `xz -d` and `zstd -d` do; bytes after the last one that are
 * not another stream are an error (xz read only the first stream and
 * ignored the rest, graphs and garbage alike: issue 11). xz's stream
 * padding (NUL bytes, a multiple of four) is allowed. */
static void test_concatenated_streams(void **state)
{
	(void)state;
	if (!have("xz") || !have("zstd"))
		SKIP_BECAUSE("xz or zstd not installed (scripts/install-deps installs them)");
	char a[128], b[128], cmd[1024], p[160];
	snprintf(a, sizeof(a), "%s/part1.jmt", tmpdir);
	snprintf(b, sizeof(b), "%s/part2.jmt", tmpdir);
	static const char part1[] = HDR "alloc 1 rx=1\nfinalize 1\n";
	static const char part2[] = "alloc 2 rx=1\nfinalize 2\nfree 1\n";
	write_file(a, part1, sizeof(part1) - 1);
	write_file(b, part2, sizeof(part2) - 1);
	static const struct {
		const char *ext, *compress;
	} kinds[] = {{"xz", "xz -c"}, {"zst", "zstd -q -c"}};
	static const struct {
		const char *name, *tail; /* printf(1) text appended after the streams */
		int ok;
	} tails[] = {
		{"nothing", "", 1},
		{"short garbage", "garbage!", 0},
		{"long garbage", "this is not a compressed stream at all", 0},
		{"a NUL byte", "\\0", 0},
	};
	for (size_t k = 0; k < 2; k++)
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			snprintf(p, sizeof(p), "%s/cat%zu.jmt.%s", tmpdir, t, kinds[k].ext);
			snprintf(cmd, sizeof(cmd), "{ %s %s; %s %s; printf '%s'; } > %s",
				 kinds[k].compress, a, kinds[k].compress, b, tails[t].tail, p);
			assert_int_equal(system(cmd), 0);
			printf("# %s, two streams + %s: %s\n", kinds[k].ext, tails[t].name,
			       tails[t].ok ? "read to the end" : "refused");
			if (tails[t].ok)
				read_all_ok(p, 5); /* both streams' events */
			else
				expect_error_anyline(p, k == 0 ? "xz: " : "zstd: ");
		}
	/* xz stream padding: four NUL bytes are part of the format */
	snprintf(p, sizeof(p), "%s/padded.jmt.xz", tmpdir);
	snprintf(cmd, sizeof(cmd), "{ xz -c %s; printf '\\0\\0\\0\\0'; xz -c %s; } > %s", a, b, p);
	assert_int_equal(system(cmd), 0);
	read_all_ok(p, 5);
}

/* 10,000,000 events through a FIFO (never on disk): the reader's memory
 * must stay flat, i.e. proportional to the live graphs (at most 64 here),
 * not to the length of the stream. */
static void test_bounded_memory(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	const uint64_t graphs = 400000; /* ASan is ~10x slower; same property */
#else
	const uint64_t graphs = 3333334; /* 3 events each: 10,000,002 events */
#endif
	char fifo[128];
	snprintf(fifo, sizeof(fifo), "%s/fifo.jmt", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fopen(fifo, "w");
		if (!f)
			_exit(1);
		setvbuf(f, NULL, _IOFBF, 1 << 16);
		fputs(HDR, f);
		for (uint64_t i = 0; i < graphs; i++) {
			fprintf(f, "alloc %llu ro=64@8 rx=%llu@16\nfinalize %llu\n",
				(unsigned long long)i, (unsigned long long)(16 + i % 4096),
				(unsigned long long)i);
			if (i >= 64)
				fprintf(f, "free %llu\n", (unsigned long long)(i - 64));
			else
				fprintf(f, "mark warmup %llu\n", (unsigned long long)i);
		}
		fclose(f);
		_exit(0);
	}
	char err[600];
	struct jm_trace_reader *r = jm_trace_open(fifo, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	struct rusage ru;
	struct jm_event ev;
	uint64_t n = 0;
	long rss_early = 0;
	int rc;
	while ((rc = jm_trace_read(r, &ev)) > 0) {
		if (++n == 100000) {
			getrusage(RUSAGE_SELF, &ru);
			rss_early = ru.ru_maxrss;
		}
	}
	if (rc < 0)
		fail_msg("%s", jm_trace_error(r));
	getrusage(RUSAGE_SELF, &ru);
	assert_int_equal(n, graphs * 3);
	assert_int_equal(jm_trace_peak_live(r), 65);
	jm_trace_close(r);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the stream is ~250 MB of text; the reader may not grow by 1 MiB */
	printf("# %llu events, max RSS %ld KiB after 100000 events, %ld KiB at the end\n",
	       (unsigned long long)n, rss_early, ru.ru_maxrss);
	assert_true(ru.ru_maxrss - rss_early < 1024);
}

static void test_cli_validate(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/cli.jmt", tmpdir);
	write_file(path, HDR "alloc 1 rx=1\nfree 2\n", strlen(HDR) + 20);
	char *out = NULL, *err = NULL;
	char *args[] = {"trace", "validate", path, NULL};
	assert_int_equal(tu_run_jitmm(args, &out, &err), 2);
	char want[200];
	snprintf(want, sizeof(want), "%s:7: free of graph 2, which is not live", path);
	if (!strstr(err, want))
		fail_msg("stderr '%s' lacks '%s'", err, want);
	free(out);
	free(err);
	write_file(path, HDR "alloc 1 rx=1\nfree 1\n", strlen(HDR) + 20);
	assert_int_equal(tu_run_jitmm(args, &out, &err), 0);
	assert_non_null(strstr(out, "ok (7 lines, 1 graphs)"));
	free(out);
	free(err);
	/* a run on a malformed trace is a usage error before anything runs */
	char spec[160];
	write_file(path, HDR "alloc 1 rx=1\nfree 2\n", strlen(HDR) + 20);
	snprintf(spec, sizeof(spec), "trace:%s", path);
	char *run[] = {"run", "-b", "null", "-w", spec, NULL};
	int rc = tu_run_jitmm(run, &out, &err);
	/* checked before any run starts: an input error */
	assert_int_equal(rc, 2);
	snprintf(want, sizeof(want), "%s:7:", path);
	if (!strstr(err, want))
		fail_msg("stderr '%s' lacks '%s'", err, want);
	free(out);
	free(err);
	write_file(path, "jitmm-trace 9\n", 14);
	assert_int_equal(tu_run_jitmm(run, &out, &err), 2);
	assert_non_null(strstr(err, ":1: trace format version 9"));
	free(out);
	free(err);
}

/* Decoder limits: a header asking for a huge dictionary (xz) or window
 * (zstd) is refused with a message naming the limit, before any large
 * allocation; the buffer entry point (jm_trace_open_file) reads the same. */
static void test_decoder_limits(void **state)
{
	(void)state;
	if (!have("xz") || !have("zstd"))
		SKIP_BECAUSE("xz or zstd not installed (scripts/install-deps installs them)");
	char plain[128], cmd[600], p[160];
	snprintf(plain, sizeof(plain), "%s/lim.jmt", tmpdir);
	write_file(plain, HDR "alloc 1 rx=16\nfinalize 1\n", strlen(HDR "alloc 1 rx=16\nfinalize 1\n"));
	/* xz: the LZMA2 dictionary-size byte of the block header set to 40
	 * (4 GiB - 1), its CRC32 recomputed: a well-formed, hostile stream */
	snprintf(p, sizeof(p), "%s.xz", plain);
	snprintf(cmd, sizeof(cmd), "xz -T1 -c %s > %s", plain, p);
	assert_int_equal(system(cmd), 0);
	read_all_ok(p, 2);
	FILE *f = fopen(p, "r+b");
	assert_non_null(f);
	uint8_t b[64];
	assert_int_equal(fread(b, 1, sizeof(b), f), sizeof(b));
	size_t hs = ((size_t)b[12] + 1) * 4; /* block header at 12 */
	assert_int_equal(b[13], 0);          /* one filter, no size fields */
	assert_int_equal(b[14], 0x21);       /* LZMA2 */
	b[16] = 40;
	uint32_t crc = lzma_crc32(b + 12, hs - 4, 0);
	for (int i = 0; i < 4; i++)
		b[12 + hs - 4 + i] = (uint8_t)(crc >> (8 * i));
	rewind(f);
	assert_int_equal(fwrite(b, 1, sizeof(b), f), sizeof(b));
	fclose(f);
	expect_error(p, 1, "xz: the stream needs more than the decoder limit of 256 MiB");
	/* zstd: a streamed frame (size unknown) keeps --long=30's 1 GiB window */
	snprintf(p, sizeof(p), "%s.zst", plain);
	snprintf(cmd, sizeof(cmd), "zstd -q --long=30 -c < %s > %s", plain, p);
	assert_int_equal(system(cmd), 0);
	expect_error(p, 1, "zstd: the frame's window is larger than the decoder limit of 128 MiB");
	/* at the limit (--long=27) it reads */
	snprintf(cmd, sizeof(cmd), "zstd -q --long=27 -c < %s > %s", plain, p);
	assert_int_equal(system(cmd), 0);
	read_all_ok(p, 2);

	/* jm_trace_open_file: a stream in memory, errors named as given */
	static const char text[] = HDR "alloc 1 rx=16\nfinalize 2\n";
	f = fmemopen((void *)text, sizeof(text) - 1, "rb");
	assert_non_null(f);
	char err[600];
	struct jm_trace_reader *r = jm_trace_open_file(f, "mem.jmt", err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	struct jm_event ev;
	assert_int_equal(jm_trace_read(r, &ev), 1);
	assert_int_equal(ev.type, JM_EV_ALLOC);
	assert_int_equal(jm_trace_read(r, &ev), -1);
	assert_string_equal(jm_trace_error(r), "mem.jmt:7: finalize of graph 2, which is not live");
	jm_trace_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_escaped_text),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits_and_binary),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_concatenated_streams),
		cmocka_unit_test(test_compressed_writer),
		cmocka_unit_test(test_decoder_limits),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_cli_validate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
