// SPDX-License-Identifier: GPL-2.0-only
/*
 * Go's .gopclntab on buffers: a table of two functions built here in each format (Go 1.2, 1.16,
 * 1.18, 1.20; little- and big-endian), names, lines and the inline tree looked up, and every
 * truncation and a field at a time made hostile without a crash or a read outside the buffer;
 * the magic scan of a file without section headers bounded.
 */
#include <elf.h>
#include <errno.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "harness.h"
#include "base/gopclntab.h"

#define TEXT 0x401000ULL

struct tb {
	unsigned char b[4096];
	size_t n;
	int ver;		/* 12, 116, 118, 120 */
	bool be;
	unsigned int ps;	/* pointer size */
};

static void put(struct tb *t, size_t at, uint64_t v, unsigned int sz)
{
	unsigned int i;

	for (i = 0; i < sz; i++) {
		unsigned int sh = t->be ? 8 * (sz - 1 - i) : 8 * i;

		t->b[at + i] = (unsigned char)(v >> sh);
	}
	if (at + sz > t->n)
		t->n = at + sz;
}

static size_t add(struct tb *t, uint64_t v, unsigned int sz)
{
	size_t at = t->n;

	put(t, at, v, sz);
	return at;
}

static size_t add_bytes(struct tb *t, const void *p, size_t len)
{
	size_t at = t->n;

	memcpy(t->b + at, p, len);
	t->n += len;
	return at;
}

static void align(struct tb *t, unsigned int a)
{
	while (t->n % a)
		t->b[t->n++] = 0;
}

/*
 * Two functions: main.a at TEXT (0x20 bytes: line 10 then 11 of a.go at +0x10) and main.b at
 * TEXT + 0x20 (0x10 bytes, line 20), the table ending at TEXT + 0x30. For 1.18+, main.a's first
 * 8 bytes run main.inl inlined (line 5 of a.go), called from a's line 11 (parentPc 0x10).
 */
static void build(struct tb *t, int ver, bool be, unsigned int ps, unsigned char *gofunc,
		  size_t *gofunc_len)
{
	/* pc-value programs: zig-zag value delta, pc delta; from -1. */
	static const unsigned char lines_a[] = { 22, 0x10, 2, 0x10, 0 };	/* 10, then 11 */
	static const unsigned char lines_b[] = { 42, 0x10, 0 };		/* 20 */
	static const unsigned char file0[] = { 2, 0x30, 0 };		/* file 0 (1.16+) */
	static const unsigned char file1[] = { 4, 0x30, 0 };		/* file 1 (1.2) */
	static const unsigned char inl_ix[] = { 2, 0x08, 1, 0x18, 0 };	/* 0, then -1 */
	static const unsigned char sp_a[] = { 2, 0x04, 16, 0x18, 15, 0x04, 0 }; /* 0, 8, 0 */
	static const unsigned char names[] = "\0main.a\0main.b\0main.inl";
	size_t hdr_words, w, fn_names, cu = 0, ft = 0, pc_tab, pcln, functab, rec[2];
	size_t p_la, p_lb, p_file, p_inl, p_sp, filestr;
	uint64_t base = 0;
	unsigned int fsz, i;
	bool is12 = ver == 12;

	memset(t, 0, sizeof(*t));
	t->ver = ver;
	t->be = be;
	t->ps = ps;
	add(t, ver == 12 ? 0xfffffffb : ver == 116 ? 0xfffffffa : ver == 118 ? 0xfffffff0
							   : 0xfffffff1, 4);
	add(t, 0, 2);
	add(t, 1, 1);
	add(t, ps, 1);
	if (is12) {
		/* nfunc, then the function table right away; all offsets from the table's start. */
		add(t, 2, ps);
		functab = t->n;
		t->n += (2 * 2 + 1) * ps + 4;	/* pairs, end pc, file table offset */
		align(t, ps);
		fn_names = t->n;
		add_bytes(t, names, sizeof(names));
		filestr = t->n;
		add_bytes(t, "a.go", 5);
		align(t, 4);
		ft = t->n;
		add(t, 2, 4);		/* nfiletab: entry 0 is the count itself */
		add(t, filestr, 4);
		pc_tab = 0;
		t->b[t->n++] = 0;
		p_la = add_bytes(t, lines_a, sizeof(lines_a));
		p_lb = add_bytes(t, lines_b, sizeof(lines_b));
		p_file = add_bytes(t, file1, sizeof(file1));
		p_sp = add_bytes(t, sp_a, sizeof(sp_a));
		p_inl = 0;
		align(t, ps);
		pcln = 0;
		put(t, functab + (2 * 2 + 1) * ps, ft, 4);
	} else {
		hdr_words = ver == 116 ? 7 : 8;
		w = t->n;
		t->n += hdr_words * ps;
		fn_names = add_bytes(t, names, sizeof(names));
		align(t, 4);
		cu = add(t, 0, 4);	/* cutab: CU 0's file 0 at filetab offset 0 */
		ft = add_bytes(t, "a.go", 5);
		pc_tab = t->n;
		t->b[t->n++] = 0;
		p_la = add_bytes(t, lines_a, sizeof(lines_a)) - pc_tab;
		p_lb = add_bytes(t, lines_b, sizeof(lines_b)) - pc_tab;
		p_file = add_bytes(t, file0, sizeof(file0)) - pc_tab;
		p_inl = add_bytes(t, inl_ix, sizeof(inl_ix)) - pc_tab;
		p_sp = add_bytes(t, sp_a, sizeof(sp_a)) - pc_tab;
		align(t, 8);
		pcln = functab = t->n;
		fsz = ver >= 118 ? 4 : ps;
		t->n += (2 * 2 + 1) * fsz;
		align(t, 8);
		put(t, w, 2, ps);			/* nfunc */
		put(t, w + ps, 1, ps);			/* nfiles */
		i = 2;
		if (ver >= 118)
			put(t, w + ps * i++, TEXT, ps);	/* textStart */
		put(t, w + ps * i++, fn_names, ps);
		put(t, w + ps * i++, cu, ps);
		put(t, w + ps * i++, ft, ps);
		put(t, w + ps * i++, pc_tab, ps);
		put(t, w + ps * i++, pcln, ps);
		base = pcln;
	}
	fsz = ver >= 118 ? 4 : ps;
	/* _func records: entry, nameoff, args, deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset. */
	for (i = 0; i < 2; i++) {
		uint64_t entry = TEXT + 0x20 * i;

		align(t, 8);
		rec[i] = t->n;
		add(t, ver >= 118 ? entry - TEXT : entry, ver >= 118 ? 4 : ps);
		add(t, (is12 ? fn_names : 0) + (i ? 8 : 1), 4);	/* nameoff */
		add(t, 0, 4);
		add(t, 0, 4);
		add(t, i ? 0 : p_sp, 4);		/* pcsp: b has none */
		add(t, p_file, 4);
		add(t, i ? p_lb : p_la, 4);
		add(t, ver >= 118 && !i ? 3 : 0, 4);	/* npcdata */
		if (!is12)
			add(t, 0, 4);			/* cuOffset */
		if (ver >= 120)
			add(t, i ? 19 : 9, 4);		/* startLine */
		add(t, 0, 1);				/* funcID */
		add(t, 0, 1);
		add(t, 0, 1);
		add(t, ver >= 118 && !i ? 4 : 0, 1);	/* nfuncdata */
		if (ver >= 118 && !i) {
			add(t, 0, 4);
			add(t, 0, 4);
			add(t, p_inl, 4);		/* pcdata[2]: inline tree index */
			add(t, UINT32_MAX, 4);
			add(t, UINT32_MAX, 4);
			add(t, UINT32_MAX, 4);
			add(t, 0, 4);			/* funcdata[3]: the tree at gofunc + 0 */
		}
	}
	for (i = 0; i < 2; i++) {
		put(t, functab + 2 * i * fsz, ver >= 118 ? 0x20 * i : TEXT + 0x20 * i, fsz);
		put(t, functab + (2 * i + 1) * fsz, rec[i] - base, fsz);
	}
	put(t, functab + 4 * fsz, ver >= 118 ? 0x30 : TEXT + 0x30, fsz);
	/* The inline tree: one call of main.inl (name at 15), from a's pc 0x10. */
	*gofunc_len = 0;
	if (ver >= 118) {
		struct tb g = { .be = be };

		if (ver == 118) {
			add(&g, 0xffff, 2);	/* parent */
			add(&g, 0, 2);
			add(&g, 0, 4);		/* file */
			add(&g, 0, 4);		/* line */
			add(&g, 15, 4);		/* func_ */
			add(&g, 0x10, 4);	/* parentPc */
		} else {
			add(&g, 0, 4);		/* funcID, pad */
			add(&g, 15, 4);		/* nameOff */
			add(&g, 0x10, 4);	/* parentPc */
			add(&g, 30, 4);		/* startLine */
		}
		memcpy(gofunc, g.b, g.n);
		*gofunc_len = g.n;
	}
}

struct sp_log {
	uint64_t start[8], end[8];
	int32_t delta[8];
	int n;
};

static int log_sp(void *ctx, uint64_t start, uint64_t end, int32_t delta)
{
	struct sp_log *l = ctx;

	if (l->n == 8)
		return -E2BIG;
	l->start[l->n] = start;
	l->end[l->n] = end;
	l->delta[l->n++] = delta;
	return 0;
}

static const char *const versions[] = { "1.2", "1.16", "1.18", "1.20" };
static const int vers[] = { 12, 116, 118, 120 };

TEST(gopclntab_formats_names_lines_inline)
{
	unsigned char gofunc[64];
	size_t glen;
	int v, e, ps, err;

	for (v = 0; v < 4; v++) {
		for (e = 0; e < 2; e++) {
			for (ps = 4; ps <= 8; ps += 4) {
				struct gopclntab_frame f[4];
				struct gopclntab *g;
				struct tb t;
				int n;

				build(&t, vers[v], e, ps, gofunc, &glen);
				err = 0;
				g = gopclntab__new(t.b, t.n, 0, &err);
				CHECK(g != NULL);
				if (!g) {
					fprintf(stderr, "  %s %s ptr %d: err %d\n", versions[v],
						e ? "BE" : "LE", ps, err);
					continue;
				}
				CHECK_EQ_STR(gopclntab__version(g), versions[v]);
				{
					/* main.a: no frame for 4 bytes, 8 bytes of frame, none at its
					 * return; main.b has no pcsp program: unknown. */
					struct sp_log l = { 0 };

					CHECK_EQ_INT(gopclntab__sp_deltas(g, log_sp, &l), 0);
					CHECK_EQ_INT(l.n, 4);
					CHECK(l.start[0] == TEXT && l.end[0] == TEXT + 4 && !l.delta[0]);
					CHECK(l.start[1] == TEXT + 4 && l.end[1] == TEXT + 0x1c &&
					      l.delta[1] == 8);
					CHECK(l.start[2] == TEXT + 0x1c && l.end[2] == TEXT + 0x20 &&
					      !l.delta[2]);
					CHECK(l.start[3] == TEXT + 0x20 && l.end[3] == TEXT + 0x30 &&
					      l.delta[3] == -1);
				}
				CHECK_EQ_INT(gopclntab__nr_funcs(g), 2);
				CHECK(gopclntab__covers(g, TEXT));
				CHECK(!gopclntab__covers(g, TEXT + 0x30));
				CHECK(!gopclntab__covers(g, TEXT - 1));
				n = gopclntab__lookup(g, TEXT + 0x14, true, true, f, 4);
				CHECK_EQ_INT(n, 1);
				CHECK_EQ_STR(f[0].name, "main.a");
				CHECK_EQ_STR(f[0].file, "a.go");
				CHECK_EQ_INT(f[0].line, 11);
				CHECK(!f[0].inlined);
				n = gopclntab__lookup(g, TEXT + 0x2f, true, true, f, 4);
				CHECK_EQ_INT(n, 1);
				CHECK_EQ_STR(f[0].name, "main.b");
				CHECK_EQ_INT(f[0].line, 20);
				/* Where the table has it (1.20+), the function's first line for pprof. */
				CHECK_EQ_INT(f[0].start_line, vers[v] >= 120 ? 19 : 0);
				CHECK_EQ_INT(gopclntab__lookup(g, TEXT + 0x30, true, true, f, 4), 0);
				CHECK_EQ_INT(gopclntab__lookup(g, 0, true, true, f, 4), 0);
				/* Without go:func.*, the inlined call is not known: the function only. */
				n = gopclntab__lookup(g, TEXT + 4, true, true, f, 4);
				CHECK_EQ_INT(n, 1);
				CHECK_EQ_STR(f[0].name, "main.a");
				CHECK_EQ_INT(f[0].line, 10);
				if (vers[v] >= 118) {
					CHECK_EQ_INT(gopclntab__set_gofunc(g, gofunc, glen, 0x480000), 0);
					CHECK(gopclntab__has_inline(g));
					n = gopclntab__lookup(g, TEXT + 4, true, true, f, 4);
					CHECK_EQ_INT(n, 2);
					CHECK_EQ_STR(f[0].name, "main.inl");
					CHECK(f[0].inlined);
					CHECK_EQ_INT(f[0].line, 10);
					CHECK_EQ_INT(f[0].start_line, vers[v] >= 120 ? 30 : 0);
					CHECK_EQ_STR(f[1].name, "main.a");
					CHECK(!f[1].inlined);
					CHECK_EQ_INT(f[1].line, 11);
					CHECK_EQ_INT(f[1].start_line, vers[v] >= 120 ? 9 : 0);
					/* No room: the function alone; no inline frames asked for. */
					CHECK_EQ_INT(gopclntab__lookup(g, TEXT + 4, true, true, f, 1), 1);
					CHECK_EQ_STR(f[0].name, "main.a");
					CHECK_EQ_INT(gopclntab__lookup(g, TEXT + 4, false, false, f, 4), 1);
					CHECK(f[0].file == NULL);
					/* Past the inlined body: the function alone. */
					CHECK_EQ_INT(gopclntab__lookup(g, TEXT + 8, true, true, f, 4), 1);
				}
				gopclntab__free(g);
			}
		}
	}
}

TEST(gopclntab_refuses_what_does_not_add_up)
{
	unsigned char gofunc[64], buf[4096];
	struct gopclntab *g;
	struct tb t;
	int err;

	build(&t, 118, false, 8, gofunc, &(size_t){ 0 });
	/* Not a table: wrong magic, pad bytes, quantum, pointer size; too short. */
	memcpy(buf, t.b, t.n);
	buf[0] = 0xfe;
	err = 0;
	CHECK(!gopclntab__new(buf, t.n, 0, &err));
	CHECK_EQ_INT(err, -EINVAL);
	memcpy(buf, t.b, t.n);
	buf[4] = 1;
	CHECK(!gopclntab__new(buf, t.n, 0, &err));
	memcpy(buf, t.b, t.n);
	buf[6] = 3;
	CHECK(!gopclntab__new(buf, t.n, 0, &err));
	memcpy(buf, t.b, t.n);
	buf[7] = 2;
	CHECK(!gopclntab__new(buf, t.n, 0, &err));
	CHECK(!gopclntab__new(t.b, 15, 0, &err));
	/* A function count past the cap, or past the copy. */
	memcpy(buf, t.b, t.n);
	memcpy(buf + 8, &(uint64_t){ GOPCLNTAB_MAX_FUNCS + 1ULL }, 8);
	CHECK(!gopclntab__new(buf, t.n, 0, &err));
	CHECK_EQ_INT(err, -E2BIG);
	memcpy(buf, t.b, t.n);
	memcpy(buf + 8, &(uint64_t){ 100000 }, 8);
	CHECK(!gopclntab__new(buf, t.n, 0, &err));
	CHECK_EQ_INT(err, -EINVAL);
	/* Entries that go down. */
	memcpy(buf, t.b, t.n);
	{
		uint64_t pcln;
		uint32_t big = 0x1000;

		memcpy(&pcln, buf + 8 + 7 * 8, 8);
		memcpy(buf + pcln + 8, &big, 4);
		CHECK(!gopclntab__new(buf, t.n, 0, &err));
	}
	/* Over the size cap, before anything is read. */
	CHECK(!gopclntab__new(t.b, (size_t)GOPCLNTAB_MAX + 1, 0, &err));
	CHECK_EQ_INT(err, -E2BIG);
	/* A text address from the caller moves every function. */
	g = gopclntab__new(t.b, t.n, 0x10000000, &err);
	CHECK(g && gopclntab__covers(g, 0x10000000) && !gopclntab__covers(g, TEXT));
	gopclntab__free(g);
}

/* Every prefix of each table, and every byte of it flipped in turn: no crash, no stray read. */
TEST(gopclntab_hostile_bytes)
{
	unsigned char gofunc[64];
	size_t glen, len, i;
	int v;

	for (v = 0; v < 4; v++) {
		struct tb t;

		build(&t, vers[v], v & 1, 8, gofunc, &glen);
		for (len = 0; len <= t.n; len++) {
			unsigned char *copy = malloc(len ? len : 1);
			struct gopclntab *g;
			int err = 0;

			memcpy(copy, t.b, len);
			g = gopclntab__new(copy, len, 0, &err);
			free(copy);
			CHECK(g || err < 0);
			gopclntab__free(g);
		}
		for (i = 0; i < t.n; i++) {
			unsigned char flip[4096];
			struct gopclntab_frame f[8];
			struct gopclntab *g;
			uint64_t pc;
			int err = 0, n, k;

			memcpy(flip, t.b, t.n);
			flip[i] ^= (i & 1) ? 0xff : 0x80;
			g = gopclntab__new(flip, t.n, 0, &err);
			if (!g)
				continue;
			if (glen)
				gopclntab__set_gofunc(g, gofunc, glen, 0);
			{
				struct sp_log l = { 0 };

				gopclntab__sp_deltas(g, log_sp, &l);
				for (k = 0; k < l.n; k++)
					CHECK(l.start[k] < l.end[k]);
			}
			for (pc = TEXT - 1; pc < TEXT + 0x32; pc += 3) {
				n = gopclntab__lookup(g, pc, true, true, f, 8);
				CHECK(n >= 0 && n <= 8);
				for (k = 0; k < n; k++) {
					CHECK(f[k].name != NULL);
					if (f[k].name)
						CHECK(strlen(f[k].name) < t.n);
				}
			}
			gopclntab__free(g);
		}
	}
}

/*
 * tests/fuzz/make_seeds.sh: the tables above as files in $SEED_DIR (go12, go116_be, go118,
 * go120, each with its go:func.* bytes as NAME.gofunc for an ELF seed).
 */
TEST_HOOK(gopclntab_seeds)
{
	static const char *const names[] = { "go12", "go116_be", "go118", "go120" };
	const char *dir = getenv("SEED_DIR");
	unsigned char gofunc[64];
	char path[4096];
	size_t glen;
	int v;

	CHECK(dir != NULL);
	for (v = 0; dir && v < 4; v++) {
		struct tb t;
		FILE *f;

		build(&t, vers[v], v == 1, 8, gofunc, &glen);
		snprintf(path, sizeof(path), "%s/%s", dir, names[v]);
		f = fopen(path, "wb");
		CHECK(f && fwrite(t.b, 1, t.n, f) == t.n);
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/%s.gofunc", dir, names[v]);
		f = fopen(path, "wb");
		CHECK(f && fwrite(gofunc, 1, glen, f) == glen);
		if (f)
			fclose(f);
	}
}

/*
 * A file without section headers whose data segment is 8 MiB of fake table headers (each
 * passes the magic test, none parses): the scan gives up after its few candidates instead of
 * reading the rest of the segment once per candidate (2 million 8 MiB reads).
 */
TEST(gopclntab_scan_is_bounded)
{
	static const unsigned char fake[8] = { 0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8 };
	const size_t seg = 8u << 20;
	unsigned char *img = calloc(1, seg);
	struct timespec t0, t1;
	struct gopclntab *g;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	Elf *elf = NULL;
	size_t i;
	int fd, err = 0;

	CHECK(img != NULL);
	if (!img)
		return;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R, .p_offset = 0,
			    .p_vaddr = 0x400000, .p_filesz = seg, .p_memsz = seg, .p_align = 4096 };
	for (i = 4096; i + sizeof(fake) <= seg; i += 16)
		memcpy(img + i, fake, sizeof(fake));
	fd = memfd_create("gopclntab_scan", MFD_CLOEXEC);
	CHECK(fd >= 0 && write(fd, img, seg) == (ssize_t)seg);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	CHECK(elf != NULL);
	/* CPU time: a loaded machine stretches the wall clock (5.3 s seen in CI at load 10). */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	g = elf ? gopclntab__from_elf(elf, fd, &err) : NULL;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	CHECK(g == NULL);
	CHECK_EQ_INT(err, -ENOENT);
	/* 16 candidates of at most 8 MiB: 0.4 s of CPU; without the cap, over 30 s. */
	CHECK(t1.tv_sec - t0.tv_sec < 5);
	gopclntab__free(g);
	elf_end(elf);
	close(fd);
	free(img);
}
