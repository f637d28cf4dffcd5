// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unwind tables: hand-written CFI in this very binary (asm below) checked row by row; the tables
 * of libc, python3 and this binary against libdw's interpreter and against readelf -wF; crafted
 * .debug_frame/.eh_frame objects; and a live unwind of this process's own stack, through libc's
 * qsort, down to _start.
 */
#include <dlfcn.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"
#include "unwind/unwind_table.h"

#define MIN_SIZE(a, b) ((a) < (b) ? (a) : (b))

/*
 * Functions made of one-byte nops, so row N of a function starts at offset N. They never run;
 * only their CFI matters. A 16-byte gap without CFI follows each.
 */
asm(".pushsection .text\n"
    ".p2align 4\n"
    ".globl ut_unw_std\n.hidden ut_unw_std\n"
    "ut_unw_std:\n"
    ".cfi_startproc\n"
    "nop\n"				/* 0: rsp+8 */
    ".cfi_def_cfa_offset 16\n"
    ".cfi_offset %rbp, -16\n"
    "nop\n"				/* 1: rsp+16, rbp at cfa-16 */
    ".cfi_def_cfa_register %rbp\n"
    "nop\n"				/* 2: rbp+16 */
    ".cfi_remember_state\n"
    ".cfi_def_cfa %rsp, 8\n"
    "nop\n"				/* 3: rsp+8, rbp still at cfa-16 */
    ".cfi_restore_state\n"
    "nop\n"				/* 4: rbp+16 again */
    ".cfi_def_cfa %rsp, 8\n"
    ".cfi_restore %rbp\n"
    "nop\n"				/* 5: rsp+8, rbp same */
    "nop\n"				/* 6: unchanged */
    ".cfi_endproc\n"
    ".globl ut_unw_gap1\n.hidden ut_unw_gap1\n"
    "ut_unw_gap1: .skip 16, 0xcc\n"
    ".p2align 4\n"
    ".globl ut_unw_drap\n.hidden ut_unw_drap\n"
    "ut_unw_drap:\n"
    ".cfi_startproc\n"
    "nop\n"				/* 0: rsp+8 */
    ".cfi_def_cfa %r10, 0\n"
    "nop\n"				/* 1: r10: unsupported */
    ".cfi_escape 0x10, 0x06, 0x02, 0x76, 0x00\n"	/* rbp at *(rbp + 0) */
    ".cfi_escape 0x0f, 0x03, 0x76, 0x78, 0x06\n"	/* CFA = *(rbp - 8) */
    "nop\n"				/* 2: DEREF_RBP -8, rbp by expression */
    ".cfi_offset %rbp, -16\n"
    ".cfi_escape 0x0f, 0x03, 0x76, 0x70, 0x06\n"	/* CFA = *(rbp - 16) */
    "nop\n"				/* 3: DEREF_RBP -16, rbp at cfa-16 */
    ".cfi_def_cfa %rsp, 8\n"
    ".cfi_restore %rbp\n"
    "nop\n"				/* 4: rsp+8 */
    ".cfi_endproc\n"
    ".skip 16, 0xcc\n"
    ".p2align 4\n"
    ".globl ut_unw_plt\n.hidden ut_unw_plt\n"
    "ut_unw_plt:\n"
    ".cfi_startproc\n"
    ".cfi_def_cfa_offset 16\n"
    "nop\n"				/* 0: rsp+16 */
    ".cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22\n"
    ".fill 16, 1, 0x90\n"		/* 1: PLT, K = 11 */
    ".cfi_escape 0x0f, 0x0b, 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3a, 0x2a, 0x33, 0x24, 0x22\n"
    "nop\n"				/* 17: PLT, K = 10 */
    ".cfi_endproc\n"
    ".skip 16, 0xcc\n"
    ".p2align 4\n"
    ".globl ut_unw_misc\n.hidden ut_unw_misc\n"
    "ut_unw_misc:\n"
    ".cfi_startproc\n"
    "nop\n"				/* 0: rsp+8 */
    ".cfi_def_cfa_offset 40000\n"
    "nop\n"				/* 1: offset beyond s16 */
    ".cfi_def_cfa_offset 32\n"
    ".cfi_offset %rbp, -2048\n"
    "nop\n"				/* 2: rbp offset / 8 beyond s8 */
    ".cfi_register %rbp, %rbx\n"
    "nop\n"				/* 3: rbp in rbx */
    ".cfi_restore %rbp\n"
    ".cfi_offset %rip, -16\n"
    "nop\n"				/* 4: return address not at cfa-8 */
    ".cfi_offset %rip, -8\n"
    ".cfi_escape 0x0f, 0x03, 0x77, 0x06, 0x06\n"	/* CFA = *(rsp + 6) */
    "nop\n"				/* 5: other expression */
    ".cfi_def_cfa %rsp, 8\n"
    ".cfi_undefined %rip\n"
    "nop\n"				/* 6: outermost */
    ".cfi_same_value %rip\n"
    ".cfi_offset %rip, -8\n"
    ".cfi_undefined %rbp\n"
    "nop\n"				/* 7: rsp+8, rbp undefined */
    "nop\n"
    "nop\n"
    ".cfi_endproc\n"
    ".skip 16, 0xcc\n"
    ".popsection\n");

extern const char ut_unw_std[], ut_unw_gap1[], ut_unw_drap[], ut_unw_plt[], ut_unw_misc[];

/* --- loaded objects: path and load bias --- */

struct obj_query {
	uint64_t addr;		/* in: a run-time address */
	char path[4096];	/* out */
	uint64_t bias;
	bool found;
};

static int find_obj_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct obj_query *q = data;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || q->addr < start || q->addr >= start + ph->p_memsz)
			continue;
		snprintf(q->path, sizeof(q->path), "%s",
			 info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe");
		q->bias = info->dlpi_addr;
		q->found = true;
		return 1;
	}
	return 0;
}

static bool find_obj(uint64_t addr, struct obj_query *q)
{
	memset(q, 0, sizeof(*q));
	q->addr = addr;
	dl_iterate_phdr(find_obj_cb, q);
	return q->found;
}

static struct unwind_table *self_table(uint64_t *bias)
{
	struct obj_query q;
	int err = 0;

	if (!find_obj((uint64_t)(uintptr_t)ut_unw_std, &q))
		return NULL;
	*bias = q.bias;
	return unwind_table__from_path(q.path, &err);
}

struct name_query {
	char *buf;
	size_t len;
	bool found;
};

static int find_libc_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct name_query *q = data;

	if (!strstr(info->dlpi_name, "/libc.so"))
		return 0;
	snprintf(q->buf, q->len, "%s", info->dlpi_name);
	q->found = true;
	return 1;
}

/* By name: under ASan, &qsort is the sanitizer's interceptor, not libc. */
static const char *libc_path(char *buf, size_t len)
{
	struct name_query q = { buf, len, false };

	dl_iterate_phdr(find_libc_cb, &q);
	return q.found ? buf : NULL;
}

/*
 * The ELF file the first tool of that name on PATH resolves to (python3 -> /usr/bin/python3.11
 * on Debian 12; wrapper scripts such as pyenv's shims are passed over), into buf (PATH_MAX);
 * NULL when it is not installed. python3 is a large -O2 binary without frame pointers, the case
 * the tables exist for, whichever version the machine has.
 */
static const char *tool_path(const char *tool, char *buf)
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX], magic[4];

	while (path && *path) {
		size_t n = strcspn(path, ":");
		int fd;

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path, tool);
		path += n + (path[n] == ':');
		if (access(cand, X_OK) || !realpath(cand, buf))
			continue;
		fd = open(buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, magic, sizeof(magic)) == sizeof(magic) && !memcmp(magic, ELFMAG, SELFMAG);
		close(fd);
		if (n)
			return buf;
	}
	return NULL;
}

#define ROW_CFA(r) UNWIND_CFA_TYPE((r)->type)
#define ROW_RBP(r) UNWIND_RBP_TYPE((r)->type)

/* Checks the row at @fn + @off: cfa type/offset, rbp type/offset8. */
static void check_row(int *failed, const struct unwind_table *t, uint64_t vaddr, int off, int cfa,
		      int cfa_off, int rbp, int rbp_off8)
{
	const struct unwind_row *r = unwind_table__find(t, vaddr + off);

	if (!r) {
		fprintf(stderr, "  no row at +%d\n", off);
		*failed = 1;
		return;
	}
	if (ROW_CFA(r) != cfa || r->cfa_off != cfa_off || ROW_RBP(r) != rbp ||
	    r->rbp_off8 != rbp_off8) {
		fprintf(stderr,
			"  row at +%d: cfa %d%+d rbp %d/%d, expected cfa %d%+d rbp %d/%d\n", off,
			ROW_CFA(r), r->cfa_off, ROW_RBP(r), r->rbp_off8, cfa, cfa_off, rbp,
			rbp_off8);
		*failed = 1;
	}
}

TEST(unwind_table_asm_cfi)
{
	uint64_t bias = 0, std, drap, plt, misc;
	struct unwind_table *t = self_table(&bias);
	const struct unwind_table_stats *s;

	CHECK(t != NULL);
	if (!t)
		return;
	std = (uint64_t)(uintptr_t)ut_unw_std - bias;
	drap = (uint64_t)(uintptr_t)ut_unw_drap - bias;
	plt = (uint64_t)(uintptr_t)ut_unw_plt - bias;
	misc = (uint64_t)(uintptr_t)ut_unw_misc - bias;

	check_row(failed, t, std, 0, CFA_RSP, 8, RBP_SAME, 0);
	check_row(failed, t, std, 1, CFA_RSP, 16, RBP_AT_CFA, -2);
	check_row(failed, t, std, 2, CFA_RBP, 16, RBP_AT_CFA, -2);
	check_row(failed, t, std, 3, CFA_RSP, 8, RBP_AT_CFA, -2);
	check_row(failed, t, std, 4, CFA_RBP, 16, RBP_AT_CFA, -2);
	check_row(failed, t, std, 5, CFA_RSP, 8, RBP_SAME, 0);
	check_row(failed, t, std, 6, CFA_RSP, 8, RBP_SAME, 0);
	/* 6 and 5 merged; the gap after the FDE has no CFI */
	CHECK(unwind_table__find(t, std + 6) == unwind_table__find(t, std + 5));
	check_row(failed, t, (uint64_t)(uintptr_t)ut_unw_gap1 - bias, 0, CFA_NONE, 0, RBP_SAME, 0);
	check_row(failed, t, (uint64_t)(uintptr_t)ut_unw_gap1 - bias, 15, CFA_NONE, 0, RBP_SAME, 0);

	check_row(failed, t, drap, 0, CFA_RSP, 8, RBP_SAME, 0);
	check_row(failed, t, drap, 1, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
#ifdef UNWIND_HAVE_RBP_AT_RBP
	check_row(failed, t, drap, 2, CFA_DEREF_RBP, -8, RBP_AT_RBP, 0);
#else
	check_row(failed, t, drap, 2, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
#endif
	check_row(failed, t, drap, 3, CFA_DEREF_RBP, -16, RBP_AT_CFA, -2);
	check_row(failed, t, drap, 4, CFA_RSP, 8, RBP_SAME, 0);

	check_row(failed, t, plt, 0, CFA_RSP, 16, RBP_SAME, 0);
	check_row(failed, t, plt, 1, CFA_PLT, 8, RBP_SAME, 11);
	check_row(failed, t, plt, 16, CFA_PLT, 8, RBP_SAME, 11);
	check_row(failed, t, plt, 17, CFA_PLT, 8, RBP_SAME, 10);

	check_row(failed, t, misc, 0, CFA_RSP, 8, RBP_SAME, 0);
	check_row(failed, t, misc, 1, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
	check_row(failed, t, misc, 2, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
	check_row(failed, t, misc, 3, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
	check_row(failed, t, misc, 4, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
	check_row(failed, t, misc, 5, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
	check_row(failed, t, misc, 6, CFA_END, 0, RBP_SAME, 0);
	check_row(failed, t, misc, 7, CFA_RSP, 8, RBP_UNDEFINED, 0);
	check_row(failed, t, misc, 9, CFA_RSP, 8, RBP_UNDEFINED, 0);
	check_row(failed, t, misc, 10, CFA_NONE, 0, RBP_SAME, 0);

	/* four unsupported rows of misc merged into one (reason: the first, cfa-offset-range) */
	s = unwind_table__stats(t);
	CHECK(s->unsup_rows[UNSUP_CFA_RANGE] >= 1);
	CHECK(s->unsup_rows[UNSUP_CFA_REG] >= 1);
	CHECK(s->source == UNWIND_SRC_EH_FRAME);
	CHECK_EQ_INT(s->bytes, s->nr_rows * 8);
	unwind_table__free(t);
}

/* Rows are sorted, strictly increasing, never two equal neighbours; stats add up. */
static void check_invariants(int *failed, const struct unwind_table *t)
{
	const struct unwind_table_stats *s = unwind_table__stats(t);
	const struct unwind_row *r = unwind_table__rows(t);
	size_t i, n = unwind_table__nr_rows(t), sum = 0, unsup = 0, bad = 0;

	for (i = 1; i < n; i++) {
		if (r[i].pc <= r[i - 1].pc)
			bad++;
		if (r[i].type == r[i - 1].type && r[i].cfa_off == r[i - 1].cfa_off &&
		    r[i].rbp_off8 == r[i - 1].rbp_off8)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(n > 0 && ROW_CFA(&r[n - 1]) == CFA_NONE);
	for (i = 0; i < 8; i++)
		sum += s->rows_by_cfa[i];
	for (i = 0; i < UNSUP__MAX; i++)
		unsup += s->unsup_rows[i];
	CHECK_EQ_INT(sum, n);
	CHECK_EQ_INT(unsup, s->rows_by_cfa[CFA_UNSUPPORTED]);
	CHECK_EQ_INT(s->nr_rows, n);
}

/* Our interpreter and libdw's must agree on every row. */
static void check_against_libdw(int *failed, const char *path)
{
	struct unwind_table *a = NULL, *b = NULL;
	size_t i, n, diffs = 0;
	int err = 0, fd;
	Elf *elf;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	a = unwind_table__from_elf(elf, &err);
	b = unwind_table__from_elf_libdw(elf, &err);
	CHECK(a != NULL);
	CHECK(b != NULL);
	if (a && b) {
		check_invariants(failed, a);
		n = unwind_table__nr_rows(a);
		CHECK_EQ_INT(unwind_table__nr_rows(b), n);
		for (i = 0; i < n && i < unwind_table__nr_rows(b); i++) {
			const struct unwind_row *x = &unwind_table__rows(a)[i];
			const struct unwind_row *y = &unwind_table__rows(b)[i];

			if (!memcmp(x, y, sizeof(*x)))
				continue;
			if (diffs++ < 5)
				fprintf(stderr, "  %s row %zu: %#x %d/%d/%#x vs libdw %#x %d/%d/%#x\n",
					path, i, x->pc, x->cfa_off, x->rbp_off8, x->type, y->pc,
					y->cfa_off, y->rbp_off8, y->type);
		}
		CHECK_EQ_INT(diffs, 0);
		CHECK(unwind_table__stats(a)->nr_fdes > 0);
	}
	unwind_table__free(a);
	unwind_table__free(b);
	elf_end(elf);
	close(fd);
}

TEST(unwind_table_matches_libdw)
{
	char buf[4096], py[PATH_MAX];
	const char *libc = libc_path(buf, sizeof(buf));

	CHECK(libc != NULL);
	if (libc)
		check_against_libdw(failed, libc);
	check_against_libdw(failed, "/proc/self/exe");
	if (tool_path("python3", py))
		check_against_libdw(failed, py);
	else
		SKIP("python3 not installed: its tables are not compared");
}

/* --- readelf -wF (frames-interp) as a third opinion --- */

struct fde_range {
	uint64_t start, end;
};

struct readelf_cmp {
	const struct unwind_table *t;
	size_t rows, mismatches, skipped;
	struct fde_range *fdes;
	size_t nr_fdes, cap_fdes;
};

static int add_range(struct readelf_cmp *c, uint64_t start, uint64_t end)
{
	if (c->nr_fdes == c->cap_fdes) {
		size_t cap = c->cap_fdes ? 2 * c->cap_fdes : 1024;
		struct fde_range *p = realloc(c->fdes, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->fdes = p;
		c->cap_fdes = cap;
	}
	c->fdes[c->nr_fdes++] = (struct fde_range){ start, end };
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct fde_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Past an FDE's end comes the next FDE, CFA_NONE, or (alignment padding up to the next FDE at
 * the following 16-byte boundary) the FDE's last row.
 */
static void check_gaps(struct readelf_cmp *c)
{
	size_t i;

	qsort(c->fdes, c->nr_fdes, sizeof(*c->fdes), range_cmp);
	for (i = 0; i < c->nr_fdes; i++) {
		uint64_t end = c->fdes[i].end, next = i + 1 < c->nr_fdes ? c->fdes[i + 1].start : 0;
		const struct unwind_row *r = unwind_table__find(c->t, end);
		bool ok;

		if (next == end)
			continue;
		if ((end & 15) && next == ((end + 15) & ~15ULL))
			ok = r == unwind_table__find(c->t, end - 1);
		else
			ok = r && ROW_CFA(r) == CFA_NONE;
		if (!ok && c->mismatches++ < 5)
			fprintf(stderr, "  readelf: wrong row after the FDE ending at %#lx\n",
				(unsigned long)end);
	}
	free(c->fdes);
}

/* Splits a frames-interp line into columns; "r3 (rbx)" stays one column. */
static int split_cols(char *line, char **cols, int max)
{
	int n = 0;
	char *p = strtok(line, " \t\n");

	while (p) {
		if (p[0] == '(' && n)
			; /* the name part of "rN (name)" */
		else if (n < max)
			cols[n++] = p;
		p = strtok(NULL, " \t\n");
	}
	return n;
}

static void readelf_check(int *failed, struct readelf_cmp *c, uint64_t pc, const char *cfa,
			  const char *rbp, const char *ra)
{
	const struct unwind_row *r = unwind_table__find(c->t, pc);
	int want_cfa = -1, want_rbp = RBP_SAME, off = 0, roff = 0;
	bool ok;

	c->rows++;
	if (r && ROW_CFA(r) == CFA_SIGNAL) {
		/* sigreturn trampolines: registers come from the signal frame, not these rules */
		c->skipped++;
		return;
	}
	if (!strcmp(ra, "u")) {
		want_cfa = CFA_END;
	} else if (strcmp(ra, "c-8")) {
		want_cfa = CFA_UNSUPPORTED;
	} else if (!strncmp(cfa, "rsp+", 4)) {
		want_cfa = CFA_RSP;
		off = atoi(cfa + 4);
	} else if (!strncmp(cfa, "rbp+", 4)) {
		want_cfa = CFA_RBP;
		off = atoi(cfa + 4);
	} else if (!strcmp(cfa, "exp")) {
		/* the expression itself is not printed: PLT, DEREF_RBP or unsupported */
		ok = r && (ROW_CFA(r) == CFA_PLT || ROW_CFA(r) == CFA_DEREF_RBP ||
			   ROW_CFA(r) == CFA_UNSUPPORTED);
		c->skipped++;
		if (!ok)
			c->mismatches++;
		return;
	} else {
		want_cfa = CFA_UNSUPPORTED;
	}
	if ((want_cfa == CFA_RSP || want_cfa == CFA_RBP) && (off < INT16_MIN || off > INT16_MAX))
		want_cfa = CFA_UNSUPPORTED;
	if (want_cfa == CFA_RSP || want_cfa == CFA_RBP) {
		if (!rbp || !strcmp(rbp, "u") || !strcmp(rbp, "s")) {
			want_rbp = RBP_SAME;	/* readelf shows unspecified as "u" too */
		} else if (rbp[0] == 'c') {
			roff = atoi(rbp + 1);
			want_rbp = RBP_AT_CFA;
			if (roff % 8 || roff / 8 < INT8_MIN || roff / 8 > INT8_MAX)
				want_cfa = CFA_UNSUPPORTED;
		} else {
			want_cfa = CFA_UNSUPPORTED;
		}
	}
	if (!r) {
		ok = false;
	} else if (want_cfa == CFA_END || want_cfa == CFA_UNSUPPORTED) {
		ok = ROW_CFA(r) == want_cfa;
	} else {
		ok = ROW_CFA(r) == want_cfa && r->cfa_off == off &&
		     (ROW_RBP(r) == want_rbp ||
		      (want_rbp == RBP_SAME && ROW_RBP(r) == RBP_UNDEFINED)) &&
		     (want_rbp != RBP_AT_CFA || r->rbp_off8 == roff / 8);
	}
	if (!ok && c->mismatches++ < 5)
		fprintf(stderr, "  readelf %#lx: CFA %s rbp %s ra %s, table: cfa %d%+d rbp %d/%d\n",
			(unsigned long)pc, cfa, rbp ? rbp : "-", ra, r ? ROW_CFA(r) : -1,
			r ? r->cfa_off : 0, r ? ROW_RBP(r) : -1, r ? r->rbp_off8 : 0);
}

/* A CIE's initial row, which applies to FDEs that print no rows of their own. */
struct readelf_cie {
	unsigned long off;
	char cfa[32], rbp[32], ra[32];
};

static void check_cie_row(int *failed, struct readelf_cmp *c, const struct readelf_cie *cies,
			  int nr, unsigned long cie, uint64_t pc)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (cies[i].off != cie)
			continue;
		readelf_check(failed, c, pc, cies[i].cfa, cies[i].rbp[0] ? cies[i].rbp : NULL,
			      cies[i].ra);
		return;
	}
	fprintf(stderr, "  readelf: CIE %#lx not seen\n", cie);
	c->mismatches++;
}

static void check_against_readelf(int *failed, const char *path)
{
	struct readelf_cmp c = { 0 };
	char cmd[4200], line[1024], *cols[64];
	int err = 0, rbp_col = -1, ra_col = -1, n, i, nr_cies = 0;
	bool in_fde = false, fde_rows = false, in_cie = false;
	uint64_t fde_start = 0, fde_end = 0;
	static struct readelf_cie cies[256];
	unsigned long fde_cie = 0;
	FILE *f;

	c.t = unwind_table__from_path(path, &err);
	CHECK(c.t != NULL);
	if (!c.t)
		return;
	snprintf(cmd, sizeof(cmd), "readelf -wF '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, " FDE cie=") || strstr(line, " CIE ")) {
			char *pc = strstr(line, "pc="), *cie = strstr(line, "cie=");

			/* an FDE without instructions prints no rows: its CIE's row applies */
			if (in_fde && !fde_rows)
				check_cie_row(failed, &c, cies, nr_cies, fde_cie, fde_start);
			in_fde = pc && cie && sscanf(cie, "cie=%lx", &fde_cie) == 1 &&
				 sscanf(pc, "pc=%lx..%lx", &fde_start, &fde_end) == 2 &&
				 fde_end > fde_start;
			in_cie = strstr(line, " CIE ") && nr_cies < 256;
			if (in_cie) {
				memset(&cies[nr_cies], 0, sizeof(cies[0]));
				cies[nr_cies].off = strtoul(line, NULL, 16);
			}
			fde_rows = false;
			if (in_fde && add_range(&c, fde_start, fde_end))
				c.mismatches++;
			continue;
		}
		n = split_cols(line, cols, 64);
		if (n >= 2 && !strcmp(cols[0], "LOC")) {
			rbp_col = ra_col = -1;
			for (i = 0; i < n; i++) {
				if (!strcmp(cols[i], "rbp"))
					rbp_col = i;
				if (!strcmp(cols[i], "ra"))
					ra_col = i;
			}
			continue;
		}
		if (in_cie && n >= 2 && strlen(cols[0]) == 16 && ra_col >= 0 && ra_col < n) {
			struct readelf_cie *ci = &cies[nr_cies++];

			snprintf(ci->cfa, sizeof(ci->cfa), "%s", cols[1]);
			snprintf(ci->ra, sizeof(ci->ra), "%s", cols[ra_col]);
			if (rbp_col >= 0 && rbp_col < n)
				snprintf(ci->rbp, sizeof(ci->rbp), "%s", cols[rbp_col]);
			in_cie = false;
			continue;
		}
		if (!in_fde || n < 2 || strlen(cols[0]) != 16 || ra_col < 0 || ra_col >= n)
			continue;
		fde_rows = true;
		readelf_check(failed, &c, strtoull(cols[0], NULL, 16), cols[1],
			      rbp_col >= 0 && rbp_col < n ? cols[rbp_col] : NULL, cols[ra_col]);
	}
	if (in_fde && !fde_rows)
		check_cie_row(failed, &c, cies, nr_cies, fde_cie, fde_start);
	/* readelf exits 1 on some libraries for no visible reason: judge by what it printed */
	if (f)
		pclose(f);
	check_gaps(&c);
	CHECK(c.rows > 1000);
	CHECK_EQ_INT(c.mismatches, 0);
	unwind_table__free((struct unwind_table *)c.t);
}

TEST(unwind_table_matches_readelf)
{
	char buf[4096], py[PATH_MAX], tool[PATH_MAX];
	const char *libc = libc_path(buf, sizeof(buf));

	if (!tool_path("readelf", tool)) {
		SKIP("readelf not installed (binutils)");
		return;
	}
	CHECK(libc != NULL);
	if (libc)
		check_against_readelf(failed, libc);
	if (tool_path("python3", py))
		check_against_readelf(failed, py);
	else
		SKIP("python3 not installed: its tables are not compared");
}

/* --- a live unwind of this process --- */

struct obj_cache {
	char path[8][4096];
	struct unwind_table *t[8];
	int nr;
};

static struct unwind_table *cached_table(struct obj_cache *c, const char *path)
{
	int i, err = 0;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->path[i], path))
			return c->t[i];
	if (c->nr == 8)
		return NULL;
	snprintf(c->path[c->nr], sizeof(c->path[0]), "%s", path);
	c->t[c->nr] = unwind_table__from_path(path, &err);
	return c->t[c->nr++];
}

static int read_self(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	/* a wrong CFA must fail the test, not crash it: let the kernel check the address */
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -EFAULT;
	return 0;
}

#define MAX_WALK 64

struct walk {
	uint64_t ips[MAX_WALK];
	int nr;
	int end;		/* last step's result */
	uint64_t want[8];	/* return addresses recorded by the chain, outermost first */
	int nr_want;
	bool done;
};

static struct walk walk;

static void __attribute__((noinline)) unwind_here(uint64_t ip, uint64_t sp, uint64_t bp)
{
	struct unwind_regs regs = { ip, sp, bp };
	struct obj_cache cache = { 0 };
	int i;

	walk.nr = 0;
	walk.end = -1;
	while (walk.nr < MAX_WALK) {
		struct unwind_table *t;
		struct obj_query q;
		uint64_t pc;

		walk.ips[walk.nr++] = regs.ip;
		if (!find_obj(regs.ip, &q) || !(t = cached_table(&cache, q.path))) {
			walk.end = -ENOENT;
			break;
		}
		/* a return address points after the call: look up the call itself */
		pc = regs.ip - q.bias - (walk.nr > 1 ? 1 : 0);
		walk.end = unwind_table__step(t, pc, &regs, read_self, NULL);
		if (walk.end)
			break;
	}
	for (i = 0; i < cache.nr; i++)
		unwind_table__free(cache.t[i]);
}

/*
 * The innermost frame: record where we were called from, then capture ip, sp and bp in one asm
 * statement (so they belong to the same CFI row) and walk from there.
 */
static int __attribute__((noinline, noclone)) chain_leaf(const void *a, const void *b)
{
	uint64_t ip, sp, bp;

	if (!walk.done) {
		walk.done = true;
		walk.want[walk.nr_want++] = (uint64_t)(uintptr_t)__builtin_return_address(0);
		asm volatile("lea 0(%%rip), %0\n\t"
			     "mov %%rsp, %1\n\t"
			     "mov %%rbp, %2"
			     : "=r"(ip), "=r"(sp), "=r"(bp));
		unwind_here(ip, sp, bp);
	}
	return *(const int *)a - *(const int *)b;
}

static int __attribute__((noinline, noclone)) chain_sort(int n)
{
	int v[16], i;

	walk.want[walk.nr_want++] = (uint64_t)(uintptr_t)__builtin_return_address(0);
	for (i = 0; i < 16; i++)
		v[i] = (i * 7 + n) % 16;
	qsort(v, 16, sizeof(v[0]), chain_leaf);	/* libc: no frame pointers */
	return v[0] + v[15];
}

/* alloca forces a frame pointer (CFA_RBP rows) even with -fomit-frame-pointer */
static int __attribute__((noinline, noclone)) chain_alloca(int n)
{
	volatile char *p = __builtin_alloca(n);
	int r;

	walk.want[walk.nr_want++] = (uint64_t)(uintptr_t)__builtin_return_address(0);
	p[0] = 1;
	r = chain_sort(n);
	return r + p[0];
}

static int __attribute__((noinline, noclone)) chain_top(int n)
{
	int r;

	walk.want[walk.nr_want++] = (uint64_t)(uintptr_t)__builtin_return_address(0);
	r = chain_alloca(n + 32);
	asm volatile("" ::: "memory");
	return r + 1;
}

TEST(unwind_table_live_stack)
{
	int i, j = 0, r;

	memset(&walk, 0, sizeof(walk));
	r = chain_top(3);
	CHECK_EQ_INT(r, 15 + 1 + 1);
	CHECK(walk.done);
	/* reached _start, whose CFI marks the return address undefined */
	CHECK_EQ_INT(walk.end, 1);
	CHECK(walk.nr > 6);
	/* every recorded return address shows up in order (recorded outermost first) */
	for (i = 1; i < walk.nr && j < walk.nr_want; i++)
		if (walk.ips[i] == walk.want[walk.nr_want - 1 - j])
			j++;
	CHECK_EQ_INT(j, walk.nr_want);
	if (j != walk.nr_want || walk.end != 1) {
		for (i = 0; i < walk.nr; i++) {
			Dl_info di;

			fprintf(stderr, "    #%d %#lx %s\n", i, (unsigned long)walk.ips[i],
				dladdr((void *)(uintptr_t)walk.ips[i], &di) && di.dli_sname
					? di.dli_sname
					: "?");
		}
	}
}

TEST(unwind_table_step_rules)
{
	/* a fake table-free check of step() through the asm functions' rows */
	uint64_t bias = 0, stack[8] = { 0 }, std;
	struct unwind_table *t = self_table(&bias);
	uint64_t base = (uint64_t)(uintptr_t)stack;
	struct unwind_regs regs;

	CHECK(t != NULL);
	if (!t)
		return;
	std = (uint64_t)(uintptr_t)ut_unw_std - bias;
	/* after push rbp: [sp] = saved rbp, [sp+8] = return address, CFA = sp + 16 */
	stack[0] = 0x1111;
	stack[1] = 0x2222;
	regs = (struct unwind_regs){ .ip = 0, .sp = base, .bp = 0x9999 };
	CHECK_EQ_INT(unwind_table__step(t, std + 1, &regs, read_self, NULL), 0);
	CHECK_EQ_INT(regs.ip, 0x2222);
	CHECK_EQ_INT(regs.sp, base + 16);
	CHECK_EQ_INT(regs.bp, 0x1111);
	/* rbp-based: CFA = rbp + 16 */
	regs = (struct unwind_regs){ .ip = 0, .sp = 12345, .bp = base };
	CHECK_EQ_INT(unwind_table__step(t, std + 2, &regs, read_self, NULL), 0);
	CHECK_EQ_INT(regs.ip, 0x2222);
	CHECK_EQ_INT(regs.sp, base + 16);
	CHECK_EQ_INT(regs.bp, 0x1111);
	/* PLT: (pc & 15) >= K adds 8 */
	regs = (struct unwind_regs){ .ip = 0, .sp = base, .bp = 7 };
	stack[0] = 0x3333;
	{
		uint64_t plt = (uint64_t)(uintptr_t)ut_unw_plt - bias + 1, pc = plt;

		while ((pc & 15) != 11)
			pc++;
		CHECK_EQ_INT(unwind_table__step(t, pc, &regs, read_self, NULL), 0);
		CHECK_EQ_INT(regs.sp, base + 16);
		CHECK_EQ_INT(regs.ip, 0x2222);
		CHECK_EQ_INT(regs.bp, 7);
		regs = (struct unwind_regs){ .ip = 0, .sp = base, .bp = 7 };
		CHECK_EQ_INT(unwind_table__step(t, pc - 1, &regs, read_self, NULL), 0);
		CHECK_EQ_INT(regs.sp, base + 8);
		CHECK_EQ_INT(regs.ip, 0x3333);
	}
	/* DEREF_RBP: CFA = *(rbp - 16), rbp at CFA - 16 */
	stack[2] = base + 48;	/* *(rbp - 16) with rbp = base + 32 */
	stack[4] = 0x4444;	/* CFA - 16: saved rbp */
	stack[5] = 0x5555;	/* CFA - 8: return address */
	regs = (struct unwind_regs){ .ip = 0, .sp = 1, .bp = base + 32 };
	CHECK_EQ_INT(unwind_table__step(t, (uint64_t)(uintptr_t)ut_unw_drap - bias + 3, &regs,
					read_self, NULL),
		     0);
	CHECK_EQ_INT(regs.sp, base + 48);
	CHECK_EQ_INT(regs.ip, 0x5555);
	CHECK_EQ_INT(regs.bp, 0x4444);
	/* failures leave regs alone */
	regs = (struct unwind_regs){ 1, 2, 3 };
	CHECK_EQ_INT(unwind_table__step(t, (uint64_t)(uintptr_t)ut_unw_gap1 - bias, &regs,
					read_self, NULL),
		     -ENOENT);
	CHECK_EQ_INT(unwind_table__step(t, (uint64_t)(uintptr_t)ut_unw_misc - bias + 1, &regs,
					read_self, NULL),
		     -ENOTSUP);
	CHECK_EQ_INT(unwind_table__step(t, (uint64_t)(uintptr_t)ut_unw_misc - bias + 6, &regs,
					read_self, NULL),
		     1);
	CHECK_EQ_INT(unwind_table__step(t, 0, &regs, read_self, NULL), -ENOENT);
	regs.sp = 8;	/* unreadable */
	CHECK_EQ_INT(unwind_table__step(t, std, &regs, read_self, NULL), -EFAULT);
	CHECK_EQ_INT(regs.ip, 1);
	CHECK_EQ_INT(regs.sp, 8);
	CHECK_EQ_INT(regs.bp, 3);
	unwind_table__free(t);
}

/* --- crafted objects --- */

struct bytes {
	uint8_t b[1024];
	size_t n;
};

static void put(struct bytes *s, uint64_t v, int len)
{
	int i;

	for (i = 0; i < len; i++)
		s->b[s->n++] = v >> (8 * i);
}

static void put_uleb(struct bytes *s, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;

		v >>= 7;
		s->b[s->n++] = c | (v ? 0x80 : 0);
	} while (v);
}

static void put_sleb(struct bytes *s, int64_t v)
{
	for (;;) {
		uint8_t c = v & 0x7f;

		v >>= 7;
		if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) {
			s->b[s->n++] = c;
			return;
		}
		s->b[s->n++] = c | 0x80;
	}
}

/* Patches the 32-bit length at @at to cover up to the current end. */
static void close_len(struct bytes *s, size_t at, bool is64)
{
	uint64_t len = s->n - at - (is64 ? 12 : 4);
	size_t n = s->n;

	s->n = is64 ? at + 4 : at;
	put(s, len, is64 ? 8 : 4);
	s->n = n;
}

struct section {
	const char *name;
	uint64_t addr;
	const uint8_t *data;
	size_t len;
};

/*
 * Writes an x86_64 ET_DYN with one executable PT_LOAD [seg_lo, seg_hi) and the given sections
 * to a memfd and opens it with libelf. Returns the fd (the caller closes it and ends *elf).
 */
static int make_elf(uint64_t seg_lo, uint64_t seg_hi, const struct section *secs, int nr,
		    Elf **ret)
{
	char shstr[256] = "";
	size_t shlen = 1, names[4];
	GElf_Ehdr eh;
	GElf_Phdr ph = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = seg_lo,
			 .p_memsz = seg_hi - seg_lo, .p_filesz = 0, .p_align = 0x1000 };
	Elf_Scn *scn;
	Elf_Data *d;
	GElf_Shdr sh;
	Elf *elf;
	int fd, i;

	fd = memfd_create("unwind-test", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	gelf_newehdr(elf, ELFCLASS64);
	gelf_getehdr(elf, &eh);
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_machine = EM_X86_64;
	eh.e_type = ET_DYN;
	eh.e_version = EV_CURRENT;
	gelf_update_ehdr(elf, &eh);
	gelf_newphdr(elf, 1);
	gelf_update_phdr(elf, 0, &ph);
	for (i = 0; i < nr; i++) {
		names[i] = shlen;
		shlen += sprintf(shstr + shlen, "%s", secs[i].name) + 1;
		scn = elf_newscn(elf);
		d = elf_newdata(scn);
		d->d_buf = (void *)secs[i].data;
		d->d_size = secs[i].len;
		d->d_align = 8;
		gelf_getshdr(scn, &sh);
		sh.sh_type = SHT_PROGBITS;
		sh.sh_flags = SHF_ALLOC;
		sh.sh_addr = secs[i].addr;
		sh.sh_name = names[i];
		gelf_update_shdr(scn, &sh);
	}
	scn = elf_newscn(elf);
	d = elf_newdata(scn);
	d->d_buf = shstr;
	d->d_size = shlen + sizeof(".shstrtab");
	strcpy(shstr + shlen, ".shstrtab");
	gelf_getshdr(scn, &sh);
	sh.sh_type = SHT_STRTAB;
	sh.sh_name = shlen;
	gelf_update_shdr(scn, &sh);
	gelf_getehdr(elf, &eh);
	eh.e_shstrndx = elf_ndxscn(scn);
	gelf_update_ehdr(elf, &eh);
	if (elf_update(elf, ELF_C_WRITE) < 0) {
		fprintf(stderr, "  elf_update: %s\n", elf_errmsg(-1));
		elf_end(elf);
		close(fd);
		return -1;
	}
	elf_end(elf);
	*ret = elf_begin(fd, ELF_C_READ, NULL);
	return fd;
}

/* A .debug_frame: a v4 CIE, a 64-bit DWARF v3 CIE, FDEs in both formats, out of order. */
static void build_debug_frame(struct bytes *s)
{
	size_t at, cie32, cie64;

	cie32 = s->n;
	put(s, 0, 4);
	put(s, 0xffffffff, 4);
	put(s, 4, 1);		/* version */
	put(s, 0, 1);		/* augmentation "" */
	put(s, 8, 1);		/* address_size */
	put(s, 0, 1);		/* segment_selector_size */
	put_uleb(s, 1);
	put_sleb(s, -8);
	put_uleb(s, 16);
	put(s, DW_CFA_def_cfa, 1);
	put_uleb(s, 7);
	put_uleb(s, 8);
	put(s, DW_CFA_offset | 16, 1);
	put_uleb(s, 1);
	close_len(s, cie32, false);

	cie64 = s->n;
	put(s, 0xffffffff, 4);
	put(s, 0, 8);
	put(s, ~0ULL, 8);
	put(s, 3, 1);
	put(s, 0, 1);
	put_uleb(s, 1);
	put_sleb(s, -8);
	put_uleb(s, 16);
	put(s, DW_CFA_def_cfa, 1);
	put_uleb(s, 7);
	put_uleb(s, 8);
	put(s, DW_CFA_offset | 16, 1);
	put_uleb(s, 1);
	close_len(s, cie64, true);

	/* 0x1200..0x1210 (64-bit): push rbp at +1 */
	at = s->n;
	put(s, 0xffffffff, 4);
	put(s, 0, 8);
	put(s, cie64, 8);
	put(s, 0x1200, 8);
	put(s, 0x10, 8);
	put(s, DW_CFA_advance_loc | 1, 1);
	put(s, DW_CFA_def_cfa_offset, 1);
	put_uleb(s, 16);
	put(s, DW_CFA_offset | 6, 1);
	put_uleb(s, 2);
	put(s, DW_CFA_advance_loc | 3, 1);
	put(s, 0x3e, 1);	/* an opcode nobody defines: the rest is unusable */
	put(s, DW_CFA_advance_loc | 3, 1);
	put(s, DW_CFA_def_cfa_offset, 1);
	put_uleb(s, 8);
	close_len(s, at, true);

	/* 0x1100..0x1120 (32-bit): sub rsp at +4 via advance_loc1, set_loc to +8 */
	at = s->n;
	put(s, 0, 4);
	put(s, cie32, 4);
	put(s, 0x1100, 8);
	put(s, 0x20, 8);
	put(s, DW_CFA_advance_loc1, 1);
	put(s, 4, 1);
	put(s, DW_CFA_def_cfa_offset_sf, 1);
	put_sleb(s, -4);	/* * data_align -8 = 32 */
	put(s, DW_CFA_set_loc, 1);
	put(s, 0x1108, 8);
	put(s, DW_CFA_GNU_args_size, 1);
	put_uleb(s, 16);
	put(s, DW_CFA_def_cfa_register, 1);
	put_uleb(s, 6);
	close_len(s, at, false);

	/* outside the executable segment: dropped */
	at = s->n;
	put(s, 0, 4);
	put(s, cie32, 4);
	put(s, 0x9000, 8);
	put(s, 0x20, 8);
	close_len(s, at, false);

	/* overlaps the .eh_frame FDE at 0x1400: .eh_frame wins */
	at = s->n;
	put(s, 0, 4);
	put(s, cie32, 4);
	put(s, 0x1400, 8);
	put(s, 0x20, 8);
	put(s, DW_CFA_def_cfa_offset, 1);
	put_uleb(s, 64);
	close_len(s, at, false);
}

/* An .eh_frame at @addr: "zR" CIE with pcrel|sdata4 pointers, one FDE for 0x1400..0x1410. */
static void build_eh_frame(struct bytes *s, uint64_t addr)
{
	size_t cie = s->n, at;

	put(s, 0, 4);
	put(s, 0, 4);
	put(s, 1, 1);
	put(s, 'z', 1);
	put(s, 'R', 1);
	put(s, 0, 1);
	put_uleb(s, 1);
	put_sleb(s, -8);
	put(s, 16, 1);
	put_uleb(s, 1);
	put(s, DW_EH_PE_pcrel | DW_EH_PE_sdata4, 1);
	put(s, DW_CFA_def_cfa, 1);
	put_uleb(s, 7);
	put_uleb(s, 8);
	put(s, DW_CFA_offset | 16, 1);
	put_uleb(s, 1);
	close_len(s, cie, false);

	at = s->n;
	put(s, 0, 4);
	put(s, s->n - cie, 4);	/* CIE pointer: back from this field */
	put(s, 0x1400 - (addr + s->n), 4);
	put(s, 0x10, 4);
	put_uleb(s, 0);		/* augmentation data length */
	put(s, DW_CFA_advance_loc | 2, 1);
	put(s, DW_CFA_remember_state, 1);
	put(s, DW_CFA_def_cfa_offset, 1);
	put_uleb(s, 24);
	put(s, DW_CFA_advance_loc | 2, 1);
	put(s, DW_CFA_restore_state, 1);
	close_len(s, at, false);
	put(s, 0, 4);	/* terminator */
	put(s, 0xdeadbeef, 4);	/* never read */
}

TEST(unwind_table_crafted_sections)
{
	struct bytes dbg = { .n = 0 }, eh = { .n = 0 };
	const struct unwind_table_stats *s;
	struct section secs[2];
	struct unwind_table *t;
	Elf *elf = NULL, *elf2 = NULL;
	int fd, fd2, err = 0;

	build_debug_frame(&dbg);
	build_eh_frame(&eh, 0x2000);

	/* .debug_frame alone */
	secs[0] = (struct section){ ".debug_frame", 0, dbg.b, dbg.n };
	fd = make_elf(0x1000, 0x2000, secs, 1, &elf);
	CHECK(fd >= 0 && elf);
	if (fd < 0 || !elf)
		return;
	t = unwind_table__from_elf(elf, &err);
	CHECK(t != NULL);
	if (t) {
		check_row(failed, t, 0x1100, 0, CFA_RSP, 8, RBP_SAME, 0);
		check_row(failed, t, 0x1100, 4, CFA_RSP, 32, RBP_SAME, 0);
		check_row(failed, t, 0x1100, 8, CFA_RBP, 32, RBP_SAME, 0);
		check_row(failed, t, 0x1100, 0x1f, CFA_RBP, 32, RBP_SAME, 0);
		check_row(failed, t, 0x1100, 0x20, CFA_NONE, 0, RBP_SAME, 0);
		check_row(failed, t, 0x1200, 0, CFA_RSP, 8, RBP_SAME, 0);
		check_row(failed, t, 0x1200, 1, CFA_RSP, 16, RBP_AT_CFA, -2);
		check_row(failed, t, 0x1200, 4, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
		check_row(failed, t, 0x1200, 0xf, CFA_UNSUPPORTED, 0, RBP_SAME, 0);
		CHECK_EQ_INT(unwind_table__stats(t)->unsup_rows[UNSUP_BAD_CFI], 1);
		check_row(failed, t, 0x1400, 0, CFA_RSP, 64, RBP_SAME, 0);
		CHECK(unwind_table__find(t, 0x10ff) == NULL);
		CHECK(ROW_CFA(unwind_table__find(t, 0x9000)) == CFA_NONE);
		s = unwind_table__stats(t);
		CHECK_EQ_INT(s->source, UNWIND_SRC_DEBUG_FRAME);
		CHECK_EQ_INT(s->nr_fdes, 3);
		CHECK_EQ_INT(s->nr_cies, 2);
		CHECK_EQ_INT(s->fdes_skipped, 1);
		check_invariants(failed, t);
	}
	unwind_table__free(t);

	/* .eh_frame in the object, .debug_frame in a separate debug file: both, eh_frame first */
	secs[0] = (struct section){ ".eh_frame", 0x2000, eh.b, eh.n };
	fd2 = make_elf(0x1000, 0x2000, secs, 1, &elf2);
	CHECK(fd2 >= 0 && elf2);
	t = unwind_table__from_elf2(elf2, elf, &err);
	CHECK(t != NULL);
	if (t) {
		check_row(failed, t, 0x1400, 0, CFA_RSP, 8, RBP_SAME, 0);
		check_row(failed, t, 0x1400, 2, CFA_RSP, 24, RBP_SAME, 0);
		check_row(failed, t, 0x1400, 4, CFA_RSP, 8, RBP_SAME, 0);
		check_row(failed, t, 0x1400, 0x10, CFA_NONE, 0, RBP_SAME, 0);
		check_row(failed, t, 0x1100, 8, CFA_RBP, 32, RBP_SAME, 0);
		s = unwind_table__stats(t);
		CHECK_EQ_INT(s->source, UNWIND_SRC_EH_FRAME | UNWIND_SRC_DEBUG_FRAME);
		CHECK_EQ_INT(s->nr_fdes, 3);
		CHECK_EQ_INT(s->fdes_skipped, 2);
		check_invariants(failed, t);
	}
	unwind_table__free(t);
	/* .eh_frame alone */
	t = unwind_table__from_elf(elf2, &err);
	CHECK(t != NULL);
	if (t) {
		CHECK_EQ_INT(unwind_table__stats(t)->nr_fdes, 1);
		CHECK_EQ_INT(unwind_table__nr_rows(t), 4);
	}
	unwind_table__free(t);
	elf_end(elf2);
	close(fd2);

	/* executable segment above 4 GiB */
	fd2 = make_elf(0x100000000ULL, 0x100001000ULL, secs, 1, &elf2);
	err = 0;
	CHECK(unwind_table__from_elf(elf2, &err) == NULL);
	CHECK_EQ_INT(err, -E2BIG);
	elf_end(elf2);
	close(fd2);

	/* no CFI at all */
	fd2 = make_elf(0x1000, 0x2000, secs, 0, &elf2);
	err = 0;
	CHECK(unwind_table__from_elf(elf2, &err) == NULL);
	CHECK_EQ_INT(err, -ENOENT);
	elf_end(elf2);
	close(fd2);

	elf_end(elf);
	close(fd);
}

TEST(unwind_table_errors)
{
	char path[] = "/tmp/unwind-test-XXXXXX";
	int err = 0, fd;

	CHECK(unwind_table__from_path("/nonexistent/unwind", &err) == NULL);
	CHECK_EQ_INT(err, -ENOENT);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "not an elf file", 15) == 15);
	err = 0;
	CHECK(unwind_table__from_fd(fd, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	close(fd);
	unlink(path);
	unwind_table__free(NULL);
}

/* Copies the first @max bytes of @path's .eh_frame and its executable segment. */
static uint8_t *grab_eh_frame(const char *path, size_t max, size_t *len, uint64_t *addr,
			      uint64_t *seg_lo, uint64_t *seg_hi)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = elf_version(EV_CURRENT) != EV_NONE && fd >= 0
			   ? elf_begin(fd, ELF_C_READ_MMAP, NULL)
			   : NULL;
	uint8_t *out = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx, i, nph;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx) || elf_getphdrnum(elf, &nph))
		goto cleanup;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			*seg_lo = ph.p_vaddr;
			*seg_hi = ph.p_vaddr + ph.p_memsz;
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    strcmp(elf_strptr(elf, shstrndx, sh.sh_name) ?: "", ".eh_frame"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			break;
		*len = MIN_SIZE(d->d_size, max);
		*addr = sh.sh_addr;
		out = malloc(*len);
		if (out)
			memcpy(out, d->d_buf, *len);
		break;
	}
cleanup:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return out;
}

/* Random damage to real CFI must never crash the builder (run it under SANITIZE=1 too). */
TEST(unwind_table_mutations)
{
	uint64_t addr = 0, lo = 0, hi = 0, rng = 0x9e3779b97f4a7c15ULL;
	char buf[4096];
	const char *libc = libc_path(buf, sizeof(buf));
	size_t len = 0, built = 0;
	uint8_t *orig, *mut;
	int round, i;

	orig = libc ? grab_eh_frame(libc, 16384, &len, &addr, &lo, &hi) : NULL;
	CHECK(orig != NULL);
	if (!orig)
		return;
	mut = malloc(len);
	for (round = 0; mut && round < 300; round++) {
		struct section sec = { ".eh_frame", addr, mut, len };
		struct unwind_table *t;
		Elf *elf = NULL;
		int fd, err = 0;

		memcpy(mut, orig, len);
		for (i = 0; i < 1 + round % 8; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			mut[rng % len] = round % 3 ? (uint8_t)(rng >> 32) : mut[rng % len] ^ 0x80;
		}
		fd = make_elf(lo, hi, &sec, 1, &elf);
		if (fd < 0 || !elf) {
			CHECK(0);
			break;
		}
		t = unwind_table__from_elf(elf, &err);
		if (t) {
			built++;
			check_invariants(failed, t);
		}
		unwind_table__free(t);
		elf_end(elf);
		close(fd);
	}
	CHECK(built > 100);
	free(mut);
	free(orig);
}
