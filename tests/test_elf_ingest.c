/* ELF ingestion against real archives (Debian's libz.a, libsqlite3.a) and
 * the measured columns of shared/data/elf-segment-sizes.csv; malformed and
 * truncated objects are errors, never crashes. */
#include "testutil.h"

#include <errno.h>

#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>

#include "../workloads/elf_ingest.h"
#include "../workloads/trace.h"

#define LIBZ "/usr/lib/x86_64-linux-gnu/libz.a"
#define LIBSQLITE "/usr/lib/x86_64-linux-gnu/libsqlite3.a"
/* The libz and libsqlite3 rows of shared/data/elf-segment-sizes.csv, and
 * the libz.a they were measured from (Debian's zlib1g-dev 1:1.2.13.dfsg-1:
 * security updates rebuild the installed one; `make test` fetches it with
 * scripts/fetch-reference-archives). */
#define CSV "tests/fixtures/elf-segment-sizes-libz-libsqlite3.csv"
#define LIBZ_REF "build/reference/libz.a"
#define NO_LIBZ_REF "build/reference/libz.a missing (scripts/fetch-reference-archives " \
	"could not download zlib1g-dev 1:1.2.13.dfsg-1)"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/jm-elf-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return tu_rmtree(tmpdir) == 0 ? 0 : -1;
}

#define MAXOBJ 256
struct collected {
	int n;
	struct jm_elf_object o[MAXOBJ];
};

static int collect(void *ctx, const struct jm_elf_object *o)
{
	struct collected *c = ctx;
	if (c->n >= MAXOBJ)
		return -1;
	c->o[c->n++] = *o;
	return 0;
}

/* rows copied from shared/data/elf-segment-sizes.csv (Debian 12's
 * zlib1g-dev and libsqlite3-dev): obj,rx,ro,rw,zf,maxalign,got,stubs */
static const struct row {
	const char *obj;
	uint64_t rx, ro, rw, zf;
	uint32_t maxalign, got, stubs;
} rows[] = {
	{"deflate.o", 19746, 1552, 160, 0, 32, 9, 9},
	{"adler32.o", 2237, 224, 0, 0, 16, 0, 0},
	{"crc32.o", 3534, 9632, 0, 0, 32, 0, 0},
	{"gzwrite.o", 4451, 960, 0, 0, 16, 18, 18},
	{"zutil.o", 88, 256, 80, 0, 32, 2, 2},
	{"inflate.o", 13832, 3752, 0, 0, 32, 6, 6},
	{"btree.o", 57064, 9288, 0, 16, 16, 93, 93},
	{"vdbe.o", 35188, 2096, 96, 0, 32, 176, 174},
	{"main.o", 20224, 6816, 472, 16, 32, 121, 121},
	{"dbpage.o", 0, 0, 0, 0, 1, 0, 0},
};

static const struct jm_elf_object *find(const struct collected *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->o[i].name, name))
			return &c->o[i];
	return NULL;
}

static void check_row(const struct jm_elf_object *o, const struct row *r)
{
	if (o->rx != r->rx || o->ro != r->ro || o->rw != r->rw || o->zf != r->zf ||
	    o->maxalign != r->maxalign || o->got != r->got || o->stubs != r->stubs)
		fail_msg("%s: got rx %llu ro %llu rw %llu zf %llu align %u got %u stubs %u; "
			 "want %llu %llu %llu %llu %u %u %u", r->obj,
			 (unsigned long long)o->rx, (unsigned long long)o->ro,
			 (unsigned long long)o->rw, (unsigned long long)o->zf, o->maxalign,
			 o->got, o->stubs, (unsigned long long)r->rx, (unsigned long long)r->ro,
			 (unsigned long long)r->rw, (unsigned long long)r->zf, r->maxalign,
			 r->got, r->stubs);
}

static void ingest(const char *path, struct collected *c)
{
	char err[600];
	memset(c, 0, sizeof(*c));
	long n = jm_elf_ingest(path, collect, c, err, sizeof(err));
	if (n < 0)
		fail_msg("%s", err);
	assert_int_equal(n, c->n);
}

static void test_known_rows(void **state)
{
	(void)state;
	if (access(LIBZ_REF, R_OK))
		SKIP_BECAUSE(NO_LIBZ_REF);
	if (access(LIBSQLITE, R_OK))
		SKIP_BECAUSE("libsqlite3.a missing (libsqlite3-dev: scripts/install-deps)");
	static struct collected z, s;
	ingest(LIBZ_REF, &z);
	ingest(LIBSQLITE, &s);
	assert_int_equal(z.n, 15);
	assert_int_equal(s.n, 102);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct jm_elf_object *o = find(&z, rows[i].obj);
		if (!o || i >= 6)
			o = find(&s, rows[i].obj);
		assert_non_null(o);
		check_row(o, &rows[i]);
	}
	/* the graph a JIT linker asks for: GOT (8 B each) in ro, stubs (6 B) in rx */
	struct jm_graph_req req;
	jm_elf_graph(find(&z, "deflate.o"), 2, &req);
	assert_int_equal(req.nseg, 3);
	assert_int_equal(req.seg[0].cls, JM_RO);
	assert_int_equal(req.seg[0].content, 1552 + 9 * 8);
	assert_int_equal(req.seg[0].align, 32);
	assert_int_equal(req.seg[1].cls, JM_RW);
	assert_int_equal(req.seg[1].content, 160);
	assert_int_equal(req.seg[2].cls, JM_RX);
	assert_int_equal(req.seg[2].content, 19746 + 9 * 6);
	assert_int_equal(req.seg[2].align, 16);
	jm_elf_graph(find(&s, "btree.o"), 0, &req);
	assert_int_equal(req.seg[1].cls, JM_RW);
	assert_int_equal(req.seg[1].content, 0);
	assert_int_equal(req.seg[1].zero_fill, 16);
}

/* every libz and libsqlite3 row of the CSV, all columns */
static void test_against_csv(void **state)
{
	(void)state;
	FILE *f = fopen(CSV, "r");
	if (!f)
		fail_msg("%s: %s", CSV, strerror(errno));
	if (access(LIBZ_REF, R_OK) || access(LIBSQLITE, R_OK)) {
		fclose(f);
		SKIP_BECAUSE(NO_LIBZ_REF " or libsqlite3.a missing");
	}
	static struct collected z, s;
	ingest(LIBZ_REF, &z);
	ingest(LIBSQLITE, &s);
	char line[512];
	int matched = 0;
	while (fgets(line, sizeof(line), f)) {
		char obj[200];
		unsigned long long v[11];
		if (sscanf(line, "%199[^,],%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu",
			   obj, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
			   &v[9], &v[10]) != 12)
			continue;
		const struct collected *c = !strncmp(obj, "libz/", 5) ? &z :
					    !strncmp(obj, "libsqlite3/", 11) ? &s : NULL;
		if (!c)
			continue;
		const struct jm_elf_object *o = find(c, strchr(obj, '/') + 1);
		if (!o)
			fail_msg("%s: not in the archive", obj);
		unsigned long long got[11] = {o->rx, o->ro, o->rw, o->zf, o->tls, o->nsec,
					      o->maxalign, o->got, o->stubs, o->nrel, o->nundef};
		for (int k = 0; k < 11; k++)
			if (got[k] != v[k])
				fail_msg("%s: column %d is %llu, the CSV says %llu", obj, k + 1,
					 got[k], v[k]);
		matched++;
	}
	fclose(f);
	assert_int_equal(matched, 15 + 102);
}

/* The whole file, malloc'd. */
static unsigned char *file_bytes(const char *path, size_t *len)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	*len = (size_t)st.st_size;
	unsigned char *a = malloc(*len);
	FILE *f = fopen(path, "rb");
	assert_non_null(a);
	assert_non_null(f);
	assert_int_equal(fread(a, 1, *len, f), *len);
	fclose(f);
	return a;
}

/* bytes of one archive member (via libelf), malloc'd */
static unsigned char *member_bytes(const char *archive, const char *name, size_t *len)
{
	elf_version(EV_CURRENT);
	int fd = open(archive, O_RDONLY);
	assert_true(fd >= 0);
	Elf *ar = elf_begin(fd, ELF_C_READ, NULL), *e;
	Elf_Cmd cmd = ELF_C_READ;
	unsigned char *out = NULL;
	while (!out && (e = elf_begin(fd, cmd, ar))) {
		Elf_Arhdr *h = elf_getarhdr(e);
		if (h && !strcmp(h->ar_name, name)) {
			/* the bytes after the member's 60-byte header (not
			 * elf_rawfile: libelf leaks the copy it makes) */
			*len = h->ar_size;
			out = malloc(*len);
			assert_int_equal(pread(fd, out, *len, elf_getaroff(e) + 60), (ssize_t)*len);
		}
		cmd = elf_next(e);
		elf_end(e);
	}
	elf_end(ar);
	close(fd);
	assert_non_null(out);
	return out;
}

static void write_bytes(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

static void expect_fail(const char *path, const char *what)
{
	struct collected c = {0};
	char err[600] = "";
	long n = jm_elf_ingest(path, collect, &c, err, sizeof(err));
	if (n >= 0)
		fail_msg("%s accepted, want an error (%s)", path, what);
	if (strncmp(err, path, strlen(path)) || !strstr(err, what))
		fail_msg("got '%s', want '%s...%s'", err, path, what);
}

static void test_malformed(void **state)
{
	(void)state;
	if (access(LIBZ, R_OK))
		SKIP_BECAUSE("libz.a missing (zlib1g-dev)");
	char path[160];
	size_t len = 0;
	unsigned char *o = member_bytes(LIBZ, "deflate.o", &len);
	/* the object itself is fine */
	snprintf(path, sizeof(path), "%s/deflate.o", tmpdir);
	write_bytes(path, o, len);
	static struct collected c;
	ingest(path, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.o[0].rx, 19746);
	/* every truncation is an error */
	for (size_t cut = 0; cut < len; cut += cut < 128 ? 1 : 97) {
		snprintf(path, sizeof(path), "%s/cut.o", tmpdir);
		write_bytes(path, o, cut);
		struct collected cc = {0};
		char err[600];
		if (jm_elf_ingest(path, collect, &cc, err, sizeof(err)) >= 0)
			fail_msg("truncated at %zu of %zu: accepted", cut, len);
	}
	/* corrupted bytes anywhere: an error or a measurement, never a crash */
	unsigned seed = 7;
	unsigned char *bad = malloc(len);
	for (int round = 0; round < 400; round++) {
		memcpy(bad, o, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245 + 12345;
			size_t at = round < 200 ? (seed >> 8) % 64 : (seed >> 8) % len;
			bad[at] ^= (unsigned char)(seed >> 3);
		}
		/* aim at the section header table too */
		Elf64_Ehdr *eh = (Elf64_Ehdr *)bad;
		if (round % 3 == 0 && eh->e_shoff < len) {
			size_t at = eh->e_shoff + (seed >> 4) % (len - eh->e_shoff);
			bad[at] ^= 0xff;
		}
		snprintf(path, sizeof(path), "%s/bad.o", tmpdir);
		write_bytes(path, bad, len);
		struct collected cc = {0};
		char err[600];
		jm_elf_ingest(path, collect, &cc, err, sizeof(err));
	}
	free(bad);
	/* a sizeable rel section whose symbols are out of range */
	memcpy(o + 18, "\x03\x00", 2); /* e_machine = EM_386 */
	snprintf(path, sizeof(path), "%s/i386.o", tmpdir);
	write_bytes(path, o, len);
	expect_fail(path, "unsupported machine");
	free(o);

	snprintf(path, sizeof(path), "%s/text.o", tmpdir);
	write_bytes(path, "hello world\n", 12);
	expect_fail(path, "not an ELF object or ar archive");
	if (access("/bin/true", R_OK) == 0)
		expect_fail("/bin/true", "not a relocatable object");
	snprintf(path, sizeof(path), "%s/empty.a", tmpdir);
	write_bytes(path, "!<arch>\n", 8);
	expect_fail(path, "archive has no members");
	/* a truncated archive: every member that is there, then an error */
	size_t size;
	unsigned char *a = file_bytes(LIBZ, &size);
	snprintf(path, sizeof(path), "%s/trunc.a", tmpdir);
	for (size_t cut = 9; cut < size; cut += size / 23) {
		write_bytes(path, a, cut);
		struct collected cc = {0};
		char err[600];
		if (jm_elf_ingest(path, collect, &cc, err, sizeof(err)) >= 0)
			fail_msg("archive truncated at %zu: accepted", cut);
	}
	free(a);
	expect_fail("/nonexistent.o", "No such file");
}

/* Size limits (elf_ingest.h): a whole file over 1 GiB, an object or an
 * archive member over 256 MiB, are refused with "FILE: larger than N MiB"
 * before libelf reads them (sparse files: nothing is written to disk). */
static void sparse_file(const char *path, const void *head, size_t len, uint64_t size)
{
	write_bytes(path, head, len);
	assert_int_equal(truncate(path, (off_t)size), 0);
}

static void test_size_limits(void **state)
{
	(void)state;
	if (access(LIBZ, R_OK))
		SKIP_BECAUSE("libz.a missing (zlib1g-dev)");
	char path[160], want[200];
	size_t len = 0;
	unsigned char *o = member_bytes(LIBZ, "deflate.o", &len);
	snprintf(path, sizeof(path), "%s/huge.o", tmpdir);
	sparse_file(path, o, len, JM_ELF_MAX_FILE + 1);
	snprintf(want, sizeof(want), "larger than %llu MiB", JM_ELF_MAX_FILE >> 20);
	expect_fail(path, want);
	/* a valid object padded past the object limit */
	snprintf(path, sizeof(path), "%s/big.o", tmpdir);
	sparse_file(path, o, len, JM_ELF_MAX_OBJECT + 4096);
	snprintf(want, sizeof(want), "big.o: larger than %llu MiB", JM_ELF_MAX_OBJECT >> 20);
	expect_fail(path, want);
	/* at the limit it is measured as before */
	sparse_file(path, o, len, JM_ELF_MAX_OBJECT);
	static struct collected c;
	ingest(path, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.o[0].rx, 19746);
	/* an archive member over the limit, named with its member */
	unsigned char *a = malloc(68 + len);
	memcpy(a, "!<arch>\n", 8);
	char hdr[61];
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10llu`\n", "big.o/", "0", "0", "0",
		 "644", JM_ELF_MAX_OBJECT + 2);
	memcpy(a + 8, hdr, 60);
	memcpy(a + 68, o, len);
	snprintf(path, sizeof(path), "%s/big.a", tmpdir);
	sparse_file(path, a, 68 + len, 68 + JM_ELF_MAX_OBJECT + 2);
	snprintf(want, sizeof(want), "big.a(big.o): larger than %llu MiB",
		 JM_ELF_MAX_OBJECT >> 20);
	expect_fail(path, want);
	free(a);
	free(o);
}

/* jm_elf_ingest_mem (the fuzz target's entry point) measures what the
 * file path measures: every member of libz.a, and one object */
static void test_ingest_mem(void **state)
{
	(void)state;
	if (access(LIBZ, R_OK))
		SKIP_BECAUSE("libz.a missing (zlib1g-dev)");
	static struct collected fromfile, frommem;
	ingest(LIBZ, &fromfile);
	size_t size;
	unsigned char *a = file_bytes(LIBZ, &size);
	char err[600];
	long n = jm_elf_ingest_mem(a, size, "libz.a", collect, &frommem, err,
				   sizeof(err));
	if (n < 0)
		fail_msg("%s", err);
	assert_int_equal(n, fromfile.n);
	assert_true(n > 10);
	assert_memory_equal(frommem.o, fromfile.o, sizeof(fromfile.o[0]) * (size_t)n);
	/* truncated in memory: the same error as a truncated file */
	memset(&frommem, 0, sizeof(frommem));
	assert_int_equal(jm_elf_ingest_mem(a, size - 100, "cut.a", collect,
					   &frommem, err, sizeof(err)), -1);
	if (strncmp(err, "cut.a", 5) || !strchr(err, ':'))
		fail_msg("got '%s'", err);
	free(a);
	size_t len;
	unsigned char *o = member_bytes(LIBZ, "adler32.o", &len);
	memset(&frommem, 0, sizeof(frommem));
	assert_int_equal(jm_elf_ingest_mem(o, len, "adler32.o", collect, &frommem, err,
					   sizeof(err)), 1);
	check_row(&frommem.o[0], &rows[1]);
	/* a member whose name field is blank is an error, not an object
	 * called "" (found by fuzzing) */
	unsigned char *a1 = malloc(68 + len + 1);
	char hdr[61];
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", "", "0", "0", "0",
		 "644", len);
	memcpy(a1, "!<arch>\n", 8);
	memcpy(a1 + 8, hdr, 60);
	memcpy(a1 + 68, o, len);
	a1[68 + len] = '\n';
	assert_int_equal(jm_elf_ingest_mem(a1, 68 + len + (len & 1), "blank.a", collect,
					   &frommem, err, sizeof(err)), -1);
	assert_string_equal(err, "blank.a: archive member at byte 8 has no name");
	/* ... and one with a newline in its name (it would split the error
	 * line and the trace's name= field) */
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", "a\nb.o/", "0", "0", "0",
		 "644", len);
	memcpy(a1 + 8, hdr, 60);
	assert_int_equal(jm_elf_ingest_mem(a1, 68 + len + (len & 1), "nl.a", collect,
					   &frommem, err, sizeof(err)), -1);
	assert_string_equal(err, "nl.a: archive member at byte 8 has a control character in "
			    "its name");
	free(a1);
	assert_int_equal(jm_elf_ingest_mem("junk", 4, "junk", collect, &frommem, err,
					   sizeof(err)), -1);
	assert_string_equal(err, "junk: not an ELF object or ar archive");
	free(o);
}

/* Hostile inputs (issue 11): a FIFO blocked `trace from-elf` forever
 * (opened waiting for a writer), an ar member claiming 10 GB in a 1.6 KB
 * archive was accepted (libelf clamps the size), and a file name with a
 * newline could write graph events into the trace. */
static void test_hostile_inputs(void **state)
{
	(void)state;
	if (access(LIBZ, R_OK))
		SKIP_BECAUSE("libz.a missing (zlib1g-dev)");
	char path[200], out[200], err[600];
	alarm(60); /* a blocking open must fail the test, not hang the suite */
	snprintf(path, sizeof(path), "%s/in.fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_fail(path, "not a regular file (a FIFO)");
	snprintf(out, sizeof(out), "%s/fifo.jmt", tmpdir);
	char *so = NULL, *se = NULL;
	assert_int_equal(tu_run_jitmm((char *[]){"trace", "from-elf", path, "-o", out, NULL},
				      &so, &se), 2);
	assert_non_null(strstr(se, "a FIFO"));
	free(so);
	free(se);
	expect_fail(tmpdir, "not a regular file (a directory)");
	expect_fail("/dev/null", "not a regular file");
	alarm(0);

	/* one real member whose header claims more than the file holds */
	size_t len = 0;
	unsigned char *o = member_bytes(LIBZ, "crc32.o", &len);
	unsigned char *a = malloc(68 + len + 1);
	static const unsigned long long claims[] = {9999999999ull, 104857600ull, 0};
	for (int k = 0; k < 3; k++) {
		unsigned long long claim = claims[k] ? claims[k] : len + 2;
		memcpy(a, "!<arch>\n", 8);
		char hdr[61];
		snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10llu`\n", "crc32.o/", "0", "0",
			 "0", "644", claim);
		memcpy(a + 8, hdr, 60);
		memcpy(a + 68, o, len);
		a[68 + len] = '\n';
		snprintf(path, sizeof(path), "%s/claims%d.a", tmpdir, k);
		write_bytes(path, a, 68 + len + (len & 1));
		char want[120];
		snprintf(want, sizeof(want), "archive member at byte 8 claims %llu bytes", claim);
		expect_fail(path, want);
		struct collected c = {0};
		long n = jm_elf_ingest_mem(a, 68 + len + (len & 1), "mem.a", collect, &c, err,
					   sizeof(err));
		if (n >= 0 || !strstr(err, want))
			fail_msg("in memory: %ld, '%s'", n, err);
	}
	/* the size it really has is fine */
	char hdr[61];
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", "crc32.o/", "0", "0", "0",
		 "644", len);
	memcpy(a + 8, hdr, 60);
	snprintf(path, sizeof(path), "%s/right.a", tmpdir);
	write_bytes(path, a, 68 + len + (len & 1));
	static struct collected c;
	ingest(path, &c);
	assert_int_equal(c.n, 1);
	free(a);

	/* a file name that holds trace lines: one graph, named as the file */
	char name[200];
	snprintf(name, sizeof(name), "%s/x\nalloc 99 rx=4096\nfinalize 99\n#.o", tmpdir);
	write_bytes(name, o, len);
	free(o);
	snprintf(out, sizeof(out), "%s/names.jmt", tmpdir);
	assert_int_equal(tu_run_jitmm((char *[]){"trace", "from-elf", name, "-o", out, NULL},
				      &so, &se), 0);
	free(so);
	free(se);
	struct jm_trace_reader *r = jm_trace_open(out, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	struct jm_event ev;
	int allocs = 0, rc;
	while ((rc = jm_trace_read(r, &ev)) > 0)
		if (ev.type == JM_EV_ALLOC) {
			allocs++;
			assert_true(ev.id == 0);
			/* the name as written (spaces made '_' by from-elf) */
			assert_non_null(strstr(ev.mark, "x\nalloc_99_rx=4096\nfinal"));
		}
	if (rc < 0)
		fail_msg("%s", jm_trace_error(r));
	assert_int_equal(allocs, 1);
	assert_non_null(strstr(jm_trace_header(r)->made_by, "\nalloc 99 rx=4096\n"));
	jm_trace_close(r);
}

static void test_cli_from_elf(void **state)
{
	(void)state;
	if (access(LIBZ, R_OK))
		SKIP_BECAUSE("libz.a missing (zlib1g-dev)");
	char out[160];
	snprintf(out, sizeof(out), "%s/z.jmt", tmpdir);
	char *args[] = {"trace", "from-elf", LIBZ, "-o", out, NULL};
	char *so = NULL, *se = NULL;
	assert_int_equal(tu_run_jitmm(args, &so, &se), 0);
	free(so);
	free(se);
	/* one graph per member, in archive order, each finalized */
	char err[600];
	struct jm_trace_reader *r = jm_trace_open(out, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	struct jm_event ev;
	int allocs = 0, fins = 0;
	while (jm_trace_read(r, &ev) > 0) {
		if (ev.type == JM_EV_ALLOC) {
			assert_int_equal(ev.id, allocs);
			if (allocs == 2) {
				assert_string_equal(ev.mark, "deflate.o");
				assert_int_equal(ev.req.seg[2].content, 19746 + 54);
			}
			allocs++;
		}
		fins += ev.type == JM_EV_FINALIZE;
	}
	assert_string_equal(jm_trace_error(r), "");
	assert_int_equal(allocs, 15);
	assert_int_equal(fins, 15);
	jm_trace_close(r);
	/* the trace replays through a backend */
	char spec[200];
	snprintf(spec, sizeof(spec), "trace:%s", out);
	char *run[] = {"run", "-q", "-b", "single-pool,inprocess", "-w", spec, "--verify", NULL};
	assert_int_equal(tu_run_jitmm(run, &so, &se), 0);
	assert_non_null(strstr(so, "| single-pool | ok |"));
	free(so);
	free(se);
	/* several inputs, in the order given; a compressed output */
	size_t len = 0;
	unsigned char *obj = member_bytes(LIBZ, "crc32.o", &len);
	char one[160], multi[160];
	snprintf(one, sizeof(one), "%s/crc32.o", tmpdir);
	write_bytes(one, obj, len);
	free(obj);
	snprintf(multi, sizeof(multi), "%s/multi.jmt.zst", tmpdir);
	char *args3[] = {"trace", "from-elf", one, LIBZ, "-o", multi, NULL};
	assert_int_equal(tu_run_jitmm(args3, &so, &se), 0);
	free(so);
	free(se);
	r = jm_trace_open(multi, err, sizeof(err));
	if (!r)
		fail_msg("%s", err);
	allocs = 0;
	const char *order[] = {"crc32.o", "adler32.o", "crc32.o", "deflate.o"};
	while (jm_trace_read(r, &ev) > 0)
		if (ev.type == JM_EV_ALLOC) {
			if (allocs < 4)
				assert_string_equal(ev.mark, order[allocs]);
			allocs++;
		}
	assert_string_equal(jm_trace_error(r), "");
	assert_int_equal(allocs, 16);
	assert_non_null(strstr(jm_trace_header(r)->source, "elf:crc32.o,libz.a"));
	jm_trace_close(r);

	/* a bad input: exit 2, and no output file left behind */
	char bad[160], out2[160];
	snprintf(bad, sizeof(bad), "%s/notelf.o", tmpdir);
	write_bytes(bad, "not an object", 13);
	snprintf(out2, sizeof(out2), "%s/never.jmt", tmpdir);
	char *args2[] = {"trace", "from-elf", LIBZ, bad, "-o", out2, NULL};
	assert_int_equal(tu_run_jitmm(args2, &so, &se), 2);
	assert_non_null(strstr(se, "notelf.o: not an ELF object"));
	assert_int_equal(access(out2, F_OK), -1);
	free(so);
	free(se);
}

/* --dylibs: which graphs share a JITDylib (for colocate and reach) */
static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[4096];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "alloc ", 6) && strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_cli_dylibs(void **state)
{
	(void)state;
	const char *z = "/usr/lib/x86_64-linux-gnu/libz.a", *q = "/usr/lib/x86_64-linux-gnu/libsqlite3.a";
	if (access(z, R_OK) || access(q, R_OK))
		SKIP_BECAUSE("libz.a or libsqlite3.a not installed (zlib1g-dev, libsqlite3-dev)");
	char out[] = "/tmp/jitmm-dylibs-XXXXXX";
	close(mkstemp(out));
	assert_int_equal(tu_run_jitmm((char *[]){"trace", "from-elf", "--dylibs", "file", (char *)z,
						 (char *)q, "-o", out, NULL}, NULL, NULL), 0);
	/* libz.a's 15 graphs are JITDylib 0 (not written), libsqlite3.a's 88 are 1 */
	assert_int_equal(count_in_file(out, " dylib=1"), 88);
	assert_int_equal(count_in_file(out, " dylib="), 88);
	/* directory: two objects of one directory share an id, in first-seen order */
	char dir[] = "/tmp/jitmm-dyldir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/a %s/b && cd %s/a && ar x %s adler32.o && "
		 "cd %s/b && ar x %s crc32.o && cp crc32.o crc.o", dir, dir, dir, z, dir, z);
	assert_int_equal(system(cmd), 0);
	char a1[300], b1[300], b2[300];
	snprintf(a1, sizeof(a1), "%s/a/adler32.o", dir);
	snprintf(b1, sizeof(b1), "%s/b/crc32.o", dir);
	snprintf(b2, sizeof(b2), "%s/b/crc.o", dir);
	assert_int_equal(tu_run_jitmm((char *[]){"trace", "from-elf", "--dylibs", "directory", b1,
						 a1, b2, "-o", out, NULL}, NULL, NULL), 0);
	assert_int_equal(count_in_file(out, "name=crc32.o"), 1);
	assert_int_equal(count_in_file(out, "alloc 1 dylib=1 "), 1); /* adler32.o */
	assert_int_equal(count_in_file(out, " dylib="), 1); /* crc32.o and crc.o: 0 */
	assert_int_equal(tu_run_jitmm((char *[]){"trace", "from-elf", "--dylibs", "archive",
						 (char *)z, "-o", out, NULL}, NULL, NULL), 2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	unlink(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_rows),
		cmocka_unit_test(test_against_csv),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_ingest_mem),
		cmocka_unit_test(test_hostile_inputs),
		cmocka_unit_test(test_cli_from_elf),
		cmocka_unit_test(test_cli_dylibs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
