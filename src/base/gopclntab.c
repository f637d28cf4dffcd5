// SPDX-License-Identifier: GPL-2.0-only
/*
 * Go's pclntab, read in place: the table is kept as one copy and every lookup decodes the few
 * records it needs (a binary search over the function table, then the varint pc-value programs
 * of one function), so a 40 MiB table costs its bytes and no index. Every read goes through
 * rd*() against the copy's length; a string runs at most to the NUL kept after the copy.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gopclntab.h"

enum gover { GO12 = 12, GO116 = 116, GO118 = 118, GO120 = 120 };

/* runtime/symtab.go: the pcdata and funcdata slots that hold the inline tree (Go 1.16+). */
#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3	/* Go 1.18+ (1.16-1.17 hold an absolute pointer: not read) */
/* Inlined frames followed at one pc at most: a deeper chain is a loop in a hostile tree. */
#define MAX_INLINE_DEPTH 64
/* The pc-value programs: a step past this is a hostile table, not a function. */
#define MAX_PCVALUE_STEPS (1u << 20)

struct gopclntab {
	unsigned char *data;	/* the table, then a NUL */
	size_t len;
	enum gover ver;
	bool big_endian;
	uint8_t quantum, ptrsize;
	uint64_t text;		/* 1.18+: base of the entry offsets */
	uint64_t nfunc;
	/* Offsets of the regions in data. */
	uint64_t funcnametab, cutab, filetab, pctab, funcdata, functab;
	uint32_t nfiletab;	/* 1.2: entries of filetab */
	unsigned int fsz;	/* bytes of one functab field */
	uint64_t min_pc, max_pc;
	/* go:func.* (1.18+), where the inline trees are: a copy and its link-time address. */
	unsigned char *gofunc;
	size_t gofunc_len;
	uint64_t gofunc_vaddr;
};

static uint32_t get32(const struct gopclntab *g, const unsigned char *p)
{
	uint32_t v;

	if (g->big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const struct gopclntab *g, const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	if (g->big_endian) {
		for (i = 0; i < 8; i++)
			v = v << 8 | p[i];
		return v;
	}
	memcpy(&v, p, 8);
	return v;
}

/* A 32-bit field at off of the table; false when it does not fit. */
static bool rd32(const struct gopclntab *g, uint64_t off, uint32_t *v)
{
	if (off > g->len || g->len - off < 4)
		return false;
	*v = get32(g, g->data + off);
	return true;
}

/* A field of sz (4 or 8) bytes. */
static bool rdn(const struct gopclntab *g, uint64_t off, unsigned int sz, uint64_t *v)
{
	uint32_t v32;

	if (sz == 4) {
		if (!rd32(g, off, &v32))
			return false;
		*v = v32;
		return true;
	}
	if (off > g->len || g->len - off < 8)
		return false;
	*v = get64(g, g->data + off);
	return true;
}

/* A string at off of the table ("" past its end: the copy ends in a NUL). */
static const char *str_at(const struct gopclntab *g, uint64_t base, uint64_t off)
{
	if (base > g->len || off >= g->len - base)
		return NULL;
	return (const char *)g->data + base + off;
}

/* Entry pc of function i (i == nfunc: the end of the last one); false past the table. */
static bool func_pc(const struct gopclntab *g, uint64_t i, uint64_t *pc)
{
	uint64_t v;

	if (!rdn(g, g->functab + 2 * i * g->fsz, g->fsz, &v))
		return false;
	*pc = g->ver >= GO118 ? v + g->text : v;
	return true;
}

/* Offset in the table of function i's _func record. */
static bool func_rec(const struct gopclntab *g, uint64_t i, uint64_t *rec)
{
	uint64_t off;

	if (!rdn(g, g->functab + (2 * i + 1) * g->fsz, g->fsz, &off) || off > g->len ||
	    g->funcdata > g->len - off)
		return false;
	*rec = g->funcdata + off;
	return true;
}

/*
 * Field n (1: nameoff ... 8: cuOffset) of a _func record: 4 bytes each after the entry, which
 * is 4 bytes from 1.18 and a pointer before.
 */
static bool func_field(const struct gopclntab *g, uint64_t rec, unsigned int n, uint32_t *v)
{
	unsigned int sz0 = g->ver >= GO118 ? 4 : g->ptrsize;

	return rd32(g, rec + sz0 + (uint64_t)(n - 1) * 4, v);
}

/* The funcID byte of a _func record (1.12+: after npcdata, or cuOffset from 1.16, or startLine
 * from 1.20); 0xff when it cannot be read. */
static uint8_t func_id(const struct gopclntab *g, uint64_t rec)
{
	unsigned int sz0 = g->ver >= GO118 ? 4 : g->ptrsize;
	uint64_t off = rec + sz0 + (g->ver == GO12 ? 28 : g->ver >= GO120 ? 36 : 32);

	return off < g->len ? g->data[off] : 0xff;
}

static int parse_header(struct gopclntab *g, uint64_t text)
{
	const unsigned char *d = g->data;
	uint64_t w[8], end;
	unsigned int i, nw;
	uint32_t magic, fileoff;

	if (g->len < 16 || d[4] || d[5] || (d[6] != 1 && d[6] != 2 && d[6] != 4) ||
	    (d[7] != 4 && d[7] != 8))
		return -EINVAL;
	g->quantum = d[6];
	g->ptrsize = d[7];
	memcpy(&magic, d, 4);
	if (magic != 0xfffffffb && magic != 0xfffffffa && magic != 0xfffffff0 &&
	    magic != 0xfffffff1) {
		g->big_endian = true;
		magic = get32(g, d);
	}
	switch (magic) {
	case 0xfffffffb:
		g->ver = GO12;
		break;
	case 0xfffffffa:
		g->ver = GO116;
		break;
	case 0xfffffff0:
		g->ver = GO118;
		break;
	case 0xfffffff1:
		g->ver = GO120;
		break;
	default:
		return -EINVAL;
	}
	nw = g->ver == GO12 ? 1 : g->ver == GO116 ? 7 : 8;
	for (i = 0; i < nw; i++)
		if (!rdn(g, 8 + i * g->ptrsize, g->ptrsize, &w[i]))
			return -EINVAL;
	g->nfunc = w[0];
	if (!g->nfunc)
		return -EINVAL;
	if (g->nfunc > GOPCLNTAB_MAX_FUNCS)
		return -E2BIG;
	switch (g->ver) {
	case GO12:
		/* The function table follows the count; every offset is from the table's start. */
		g->fsz = g->ptrsize;
		g->functab = 8 + g->ptrsize;
		g->funcdata = g->funcnametab = g->pctab = 0;
		if (!rd32(g, g->functab + (2 * g->nfunc + 1) * g->fsz, &fileoff) ||
		    !rd32(g, fileoff, &g->nfiletab))
			return -EINVAL;
		g->filetab = fileoff;
		break;
	case GO116:
		g->fsz = g->ptrsize;
		g->funcnametab = w[2];
		g->cutab = w[3];
		g->filetab = w[4];
		g->pctab = w[5];
		g->funcdata = g->functab = w[6];
		break;
	case GO118:
	case GO120:
		g->fsz = 4;
		/* The header's textStart is a relocated pointer: the caller's value wins. */
		g->text = text ? text : w[2];
		g->funcnametab = w[3];
		g->cutab = w[4];
		g->filetab = w[5];
		g->pctab = w[6];
		g->funcdata = g->functab = w[7];
		break;
	}
	if (g->funcnametab >= g->len || g->pctab >= g->len || g->functab >= g->len ||
	    (g->ver != GO12 && (g->cutab >= g->len || g->filetab >= g->len)))
		return -EINVAL;
	/* The whole function table (and its end entry) lies inside the copy. */
	end = (2 * g->nfunc + 1) * g->fsz;
	if (end > g->len - g->functab)
		return -EINVAL;
	return 0;
}

/* A table whose entries do not rise is no table (or a false match of the magic). */
static int check_functab(struct gopclntab *g)
{
	uint64_t i, pc, prev = 0;

	for (i = 0; i <= g->nfunc; i++) {
		if (!func_pc(g, i, &pc) || (i && pc < prev))
			return -EINVAL;
		prev = pc;
	}
	if (!func_pc(g, 0, &g->min_pc) || !func_pc(g, g->nfunc, &g->max_pc) ||
	    g->min_pc == g->max_pc)
		return -EINVAL;
	return 0;
}

struct gopclntab *gopclntab__new(const void *buf, size_t len, uint64_t text, int *ret_err)
{
	struct gopclntab *g = NULL;
	int err;

	if (len > GOPCLNTAB_MAX) {
		err = -E2BIG;
		goto cleanup;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->data = malloc(len + 1))) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(g->data, buf, len);
	g->data[len] = '\0';
	g->len = len;
	err = parse_header(g, text);
	if (!err)
		err = check_functab(g);
	if (err)
		goto cleanup;
	return g;
cleanup:
	gopclntab__free(g);
	*ret_err = err;
	return NULL;
}

int gopclntab__set_gofunc(struct gopclntab *g, const void *buf, size_t len, uint64_t vaddr)
{
	unsigned char *c = malloc(len ? len : 1);

	if (!c)
		return -ENOMEM;
	memcpy(c, buf, len);
	free(g->gofunc);
	g->gofunc = c;
	g->gofunc_len = len;
	g->gofunc_vaddr = vaddr;
	return 0;
}

void gopclntab__free(struct gopclntab *g)
{
	if (!g)
		return;
	free(g->data);
	free(g->gofunc);
	free(g);
}

bool gopclntab__covers(const struct gopclntab *g, uint64_t pc)
{
	return pc >= g->min_pc && pc < g->max_pc;
}

void gopclntab__range(const struct gopclntab *g, uint64_t *lo, uint64_t *hi)
{
	*lo = g->min_pc;
	*hi = g->max_pc;
}

/* An unsigned varint of at most 5 bytes at *off, below end. */
static bool varint(const struct gopclntab *g, uint64_t *off, uint64_t end, uint32_t *v)
{
	uint32_t r = 0;
	unsigned int shift;

	for (shift = 0; shift < 35; shift += 7) {
		unsigned char b;

		if (*off >= end)
			return false;
		b = g->data[(*off)++];
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/*
 * Runs the pc-value program at pctab + off for the function at entry: the value in force at
 * target, or -1 (runtime.pcvalue: pairs of a zig-zag value delta and a pc delta in quanta,
 * from the value -1; a zero value delta after the first pair ends it).
 */
static int32_t pcvalue(const struct gopclntab *g, uint32_t off, uint64_t entry, uint64_t target)
{
	uint64_t p = g->pctab + off, pc = entry;
	uint32_t uv, pcd, n;
	int32_t val = -1;

	if (!off || off >= g->len - g->pctab)
		return -1;
	for (n = 0; n < MAX_PCVALUE_STEPS; n++) {
		if (!varint(g, &p, g->len, &uv) || (!uv && n))
			return -1;
		/* In unsigned arithmetic: a hostile table may overflow it. */
		val = (int32_t)((uint32_t)val + ((uv & 1) ? ~(uv >> 1) : uv >> 1));
		if (!varint(g, &p, g->len, &pcd))
			return -1;
		pc += (uint64_t)pcd * g->quantum;
		if (target < pc)
			return val;
	}
	return -1;
}

/* The source file of file number fno in the function at rec. */
static const char *file_name(const struct gopclntab *g, uint64_t rec, int32_t fno)
{
	uint32_t cu, off;

	if (g->ver == GO12) {
		if (fno <= 0 || (uint32_t)fno >= g->nfiletab ||
		    !rd32(g, g->filetab + 4 * (uint64_t)fno, &off))
			return NULL;
		return str_at(g, 0, off);
	}
	if (fno < 0 || !func_field(g, rec, 8, &cu) ||
	    !rd32(g, g->cutab + 4 * ((uint64_t)cu + (uint32_t)fno), &off) || off == UINT32_MAX)
		return NULL;
	return str_at(g, g->filetab, off);
}

static void file_line(const struct gopclntab *g, uint64_t rec, uint64_t entry, uint64_t pc,
		      struct gopclntab_frame *f)
{
	uint32_t pcfile, pcln;
	int32_t line;

	if (!func_field(g, rec, 5, &pcfile) || !func_field(g, rec, 6, &pcln))
		return;
	f->file = file_name(g, rec, pcvalue(g, pcfile, entry, pc));
	line = pcvalue(g, pcln, entry, pc);
	f->line = line > 0 ? (uint32_t)line : 0;
	if (!f->file)
		f->line = 0;
}

/*
 * Where the inline tree of the function at rec starts in gofunc, and its pcdata program of
 * tree indexes; false when it has none (or flamed has no go:func.* for it).
 */
static bool inline_tree(const struct gopclntab *g, uint64_t rec, uint64_t *tree,
			uint32_t *idx_prog)
{
	uint64_t pcdata;
	uint32_t npcdata, off;
	uint8_t nfuncdata;

	if (g->ver < GO118 || !g->gofunc || !func_field(g, rec, 7, &npcdata))
		return false;
	/* After cuOffset: (1.20+ startLine,) funcID, flag, a pad byte, nfuncdata. */
	pcdata = rec + (g->ver >= GO120 ? 44 : 40);
	if (pcdata > g->len)
		return false;
	nfuncdata = g->data[pcdata - 1];
	if (npcdata <= PCDATA_INLTREEINDEX || nfuncdata <= FUNCDATA_INLTREE ||
	    !rd32(g, pcdata + 4ULL * PCDATA_INLTREEINDEX, idx_prog) ||
	    !rd32(g, pcdata + 4 * ((uint64_t)npcdata + FUNCDATA_INLTREE), &off) ||
	    off == UINT32_MAX || off >= g->gofunc_len)
		return false;
	*tree = off;
	return true;
}

int gopclntab__lookup(const struct gopclntab *g, uint64_t pc, bool inl, bool lines,
		      struct gopclntab_frame *out, int max)
{
	uint64_t lo = 0, hi = g->nfunc, entry, rec, tree, pcur = pc;
	uint32_t nameoff, idx_prog;
	unsigned int csz = g->ver >= GO120 ? 16 : 20, noff = g->ver >= GO120 ? 4 : 12;
	int n = 0, depth;

	if (max <= 0 || !gopclntab__covers(g, pc))
		return 0;
	/* The last function whose entry is at or below pc. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2, mpc;

		if (!func_pc(g, mid, &mpc))
			return 0;
		if (mpc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !func_pc(g, lo - 1, &entry) || !func_rec(g, lo - 1, &rec) ||
	    !func_field(g, rec, 1, &nameoff))
		return 0;
	if (inl && max > 1 && inline_tree(g, rec, &tree, &idx_prog)) {
		int32_t ix = pcvalue(g, idx_prog, entry, pc);

		/* Each inlined call names its callee, and where in the caller the call was. */
		for (depth = 0; ix >= 0 && depth < MAX_INLINE_DEPTH && n < max - 1; depth++) {
			uint64_t at = tree + (uint64_t)ix * csz;
			const unsigned char *c;
			uint32_t name_off, parent_pc;
			struct gopclntab_frame *f = &out[n];

			if (at > g->gofunc_len || g->gofunc_len - at < csz)
				break;
			c = g->gofunc + at;
			name_off = get32(g, c + noff);
			parent_pc = get32(g, c + noff + 4);
			*f = (struct gopclntab_frame){ .name = str_at(g, g->funcnametab, name_off),
						       .inlined = true };
			/* 1.20's inlinedCall ends with the callee's startLine. */
			if (g->ver >= GO120)
				f->start_line = get32(g, c + noff + 8);
			if (!f->name)
				break;
			if (lines)
				file_line(g, rec, entry, pcur, f);
			n++;
			pcur = entry + parent_pc;
			ix = pcvalue(g, idx_prog, entry, pcur);
		}
	}
	out[n] = (struct gopclntab_frame){ .name = str_at(g, g->funcnametab, nameoff) };
	if (!out[n].name)
		return 0;
	/* 1.20's _func: startLine after cuOffset (field 9). */
	if (g->ver >= GO120 && !func_field(g, rec, 9, &out[n].start_line))
		out[n].start_line = 0;
	if (lines)
		file_line(g, rec, entry, pcur, &out[n]);
	return n + 1;
}

/*
 * The ranges of one pc-value program from entry to end, fn for each; what the program does not
 * cover (or all of it, when it cannot be read) has delta -1. Returns fn's first non-zero return.
 */
static int pc_ranges(const struct gopclntab *g, uint32_t off, uint64_t entry, uint64_t end,
		     int (*fn)(void *ctx, uint64_t start, uint64_t end, int32_t delta), void *ctx)
{
	uint64_t p = g->pctab + off, pc = entry, next;
	uint32_t uv, pcd, n;
	int32_t val = -1;
	int ret;

	for (n = 0; off && off < g->len - g->pctab && n < MAX_PCVALUE_STEPS && pc < end; n++) {
		if (!varint(g, &p, g->len, &uv) || (!uv && n) || !varint(g, &p, g->len, &pcd))
			break;
		/* In unsigned arithmetic: a hostile table may overflow it. */
		val = (int32_t)((uint32_t)val + ((uv & 1) ? ~(uv >> 1) : uv >> 1));
		next = pc + (uint64_t)pcd * g->quantum;
		if (next > end || next < pc)
			next = end;
		if (next > pc && (ret = fn(ctx, pc, next, val)))
			return ret;
		pc = next;
	}
	return pc < end ? fn(ctx, pc, end, -1) : 0;
}

int gopclntab__sp_deltas(const struct gopclntab *g,
			 int (*fn)(void *ctx, uint64_t start, uint64_t end, int32_t delta),
			 void *ctx)
{
	uint64_t i, entry, end, rec;
	uint32_t pcsp;
	int ret;

	for (i = 0; i < g->nfunc; i++) {
		if (!func_pc(g, i, &entry) || !func_pc(g, i + 1, &end))
			return 0;
		if (end <= entry)
			continue;
		/* The runtime's special functions (funcID != 0: goexit, mstart, systemstack...)
		 * switch stacks or start them: no delta says where their caller is. */
		if (!func_rec(g, i, &rec) || !func_field(g, rec, 4, &pcsp) || func_id(g, rec))
			pcsp = 0;
		ret = pc_ranges(g, pcsp, entry, end, fn, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

bool gopclntab__is_go(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shnum, shstrndx;

	if (elf_getshdrnum(elf, &shnum) || !shnum)
		return true;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".note.go.buildid") || !strcmp(name, ".gopclntab") ||
		    !strcmp(name, ".data.rel.ro.gopclntab"))
			return true;
	}
	return false;
}

const char *gopclntab__version(const struct gopclntab *g)
{
	switch (g->ver) {
	case GO12:
		return "1.2";
	case GO116:
		return "1.16";
	case GO118:
		return "1.18";
	default:
		return "1.20";
	}
}

size_t gopclntab__nr_funcs(const struct gopclntab *g)
{
	return g->nfunc;
}

bool gopclntab__has_inline(const struct gopclntab *g)
{
	return g->gofunc != NULL;
}

size_t gopclntab__mem(const struct gopclntab *g)
{
	return sizeof(*g) + g->len + 1 + g->gofunc_len;
}

/* Finding the table in an ELF file. */

struct seg {
	uint64_t off, filesz, vaddr;
	uint32_t flags;
};

#define SCAN_CHUNK (1u << 20)
/*
 * Bounds on the work a hostile file can cause: bytes read while looking for the table's magic
 * and for the module data, and candidate headers (each read as a table) per file.
 */
#define SCAN_MAX (256u << 20)
#define SCAN_MODULEDATA_MAX (64u << 20)
#define SCAN_CANDIDATES 16
/* Words of the module data read: up to gofunc of 1.20+ and some. */
#define MODULEDATA_WORDS 48

/* pread of exactly len bytes; -EIO when the file is shorter. */
static int pread_all(int fd, void *dst, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)dst + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		done += n;
	}
	return 0;
}

static int read_table(int fd, uint64_t off, uint64_t len, uint64_t text, struct gopclntab **g)
{
	void *buf;
	int err = 0;

	unsigned char h[16];
	uint32_t m;

	if (len > GOPCLNTAB_MAX)
		len = GOPCLNTAB_MAX;
	/* The header first: a section that only claims the name costs no big read. */
	if (len < sizeof(h) || pread_all(fd, h, sizeof(h), off))
		return -EINVAL;
	memcpy(&m, h, 4);
	if (((m | 0x0f000000) != 0xffffffff && (m | 0x0000000f) != 0xffffffff) || h[4] || h[5] ||
	    (h[6] != 1 && h[6] != 2 && h[6] != 4) || (h[7] != 4 && h[7] != 8))
		return -EINVAL;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	err = pread_all(fd, buf, len, off);
	if (!err) {
		*g = gopclntab__new(buf, len, text, &err);
		if (*g)
			err = 0;
	}
	free(buf);
	return err;
}

static const struct seg *seg_of_vaddr(const struct seg *segs, size_t n, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vaddr >= segs[i].vaddr && vaddr - segs[i].vaddr < segs[i].filesz)
			return &segs[i];
	return NULL;
}

/* The first function lies in an executable segment: a real table, not a stray magic. */
static bool code_in_exec(const struct gopclntab *g, const struct seg *segs, size_t n)
{
	const struct seg *s = seg_of_vaddr(segs, n, g->min_pc);

	return s && (s->flags & PF_X);
}

/* A table by its magic in the loadable data segments (section headers stripped or renamed). */
static int scan_for_table(int fd, const struct seg *segs, size_t nsegs, struct gopclntab **g,
			  uint64_t *vaddr)
{
	unsigned char *buf = malloc(SCAN_CHUNK);
	unsigned int tried = 0;
	uint64_t scanned = 0;
	size_t i;
	int err = -ENOENT;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < nsegs && err == -ENOENT; i++) {
		const struct seg *s = &segs[i];
		uint64_t pos;

		if (s->flags & PF_X)
			continue;
		for (pos = 0; pos + 16 <= s->filesz && err == -ENOENT; pos += SCAN_CHUNK - 16) {
			size_t len = s->filesz - pos < SCAN_CHUNK ? s->filesz - pos : SCAN_CHUNK, j;

			if (scanned >= SCAN_MAX || tried >= SCAN_CANDIDATES ||
			    pread_all(fd, buf, len, s->off + pos))
				break;
			scanned += len;
			/* The linker aligns the table (32 bytes); 4 covers every layout. */
			for (j = 0; j + 16 <= len; j += 4) {
				const unsigned char *d = buf + j;
				int e;

				if (!((d[0] == 0xff && d[1] == 0xff && d[2] == 0xff &&
				       (d[3] & 0xf0) == 0xf0) ||
				      (d[3] == 0xff && d[2] == 0xff && d[1] == 0xff &&
				       (d[0] & 0xf0) == 0xf0)) ||
				    d[4] || d[5] || (d[7] != 4 && d[7] != 8))
					continue;
				if (++tried > SCAN_CANDIDATES)
					break;
				e = read_table(fd, s->off + pos + j, s->filesz - pos - j, 0, g);
				if (e == -ENOMEM) {
					err = e;
					break;
				}
				if (!e && code_in_exec(*g, segs, nsegs)) {
					*vaddr = s->vaddr + pos + j;
					err = 0;
					break;
				}
				gopclntab__free(*g);
				*g = NULL;
			}
			if (len < SCAN_CHUNK)
				break;
		}
	}
	free(buf);
	return err;
}

/*
 * Go 1.18+ keeps the inline trees in go:func.*, whose address only the runtime's module data
 * holds: it is found as the word that points at the table, followed by the table's name region
 * (funcnametab's slice) and, further on, text == the table's textStart.
 */
static void find_gofunc(struct gopclntab *g, int fd, const struct seg *segs, size_t nsegs,
			uint64_t table_vaddr)
{
	size_t ps = g->ptrsize, gofunc_word = g->ver >= GO120 ? 40 : 38;
	unsigned char *buf = malloc(SCAN_CHUNK);
	unsigned char md[MODULEDATA_WORDS * 8];
	const struct seg *gs;
	uint64_t gofunc = 0, end, w1, w22, rodata, scanned = 0;
	size_t i;

	if (!buf)
		return;
	for (i = 0; i < nsegs && !gofunc; i++) {
		const struct seg *s = &segs[i];
		uint64_t pos;

		if (!(s->flags & PF_W))
			continue;
		for (pos = 0; pos < s->filesz && !gofunc; pos += SCAN_CHUNK) {
			size_t len = s->filesz - pos < SCAN_CHUNK ? s->filesz - pos : SCAN_CHUNK, j;

			if (scanned >= SCAN_MODULEDATA_MAX || pread_all(fd, buf, len, s->off + pos))
				break;
			scanned += len;
			for (j = 0; j + ps <= len; j += ps) {
				uint64_t v = ps == 8 ? get64(g, buf + j) : get32(g, buf + j);

				if (v != table_vaddr ||
				    pread_all(fd, md, MODULEDATA_WORDS * ps, s->off + pos + j))
					continue;
				w1 = ps == 8 ? get64(g, md + ps) : get32(g, md + ps);
				w22 = ps == 8 ? get64(g, md + 22 * ps) : get32(g, md + 22 * ps);
				if (w1 != table_vaddr + g->funcnametab || w22 != g->text)
					continue;
				gofunc = ps == 8 ? get64(g, md + gofunc_word * ps)
						 : get32(g, md + gofunc_word * ps);
				/* The word before is rodata, where go:func.* lies: a layout that moved
				 * them (a Go release after these) gives no inline frames, not wrong
				 * ones. */
				rodata = ps == 8 ? get64(g, md + (gofunc_word - 1) * ps)
						 : get32(g, md + (gofunc_word - 1) * ps);
				if (!rodata || rodata > gofunc || gofunc - rodata > UINT32_MAX)
					gofunc = 0;
				break;
			}
		}
	}
	free(buf);
	gs = seg_of_vaddr(segs, nsegs, gofunc);
	if (!gs)
		return;
	/* go:func.* ends where its segment does, or at the table when the table follows it. */
	end = gs->vaddr + gs->filesz;
	if (table_vaddr > gofunc && table_vaddr < end)
		end = table_vaddr;
	if (end - gofunc > GOPCLNTAB_MAX)
		end = gofunc + GOPCLNTAB_MAX;
	buf = malloc(end - gofunc);
	if (buf && !pread_all(fd, buf, end - gofunc, gs->off + (gofunc - gs->vaddr)))
		gopclntab__set_gofunc(g, buf, end - gofunc, gofunc);
	free(buf);
}

struct gopclntab *gopclntab__from_elf(Elf *elf, int fd, int *ret_err)
{
	struct gopclntab *g = NULL;
	struct seg *segs = NULL;
	Elf_Scn *scn = NULL;
	size_t nph = 0, nsegs = 0, shstrndx, i;
	uint64_t table_vaddr = 0;
	int err = -ENOENT;

	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		err = -EINVAL;
		goto cleanup;
	}
	segs = calloc(nph ? nph : 1, sizeof(*segs));
	if (!segs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
			segs[nsegs++] = (struct seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr,
						      ph.p_flags };
	}
	/* By name: .gopclntab, or .data.rel.ro.gopclntab where the linker made it relro. */
	if (!elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn))) {
			const char *name;
			GElf_Shdr sh;
			size_t nl;

			if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
			    !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
				continue;
			nl = strlen(name);
			if (nl < 10 || strcmp(name + nl - 10, ".gopclntab") ||
			    (nl != 10 && strcmp(name, ".data.rel.ro.gopclntab")))
				continue;
			err = read_table(fd, sh.sh_offset, sh.sh_size, 0, &g);
			table_vaddr = sh.sh_addr;
			break;
		}
	}
	if (err == -ENOENT) {
		err = scan_for_table(fd, segs, nsegs, &g, &table_vaddr);
	}
	if (err)
		goto cleanup;
	if (table_vaddr && g->ver >= GO118)
		find_gofunc(g, fd, segs, nsegs, table_vaddr);
	free(segs);
	return g;
cleanup:
	free(segs);
	gopclntab__free(g);
	*ret_err = err;
	return NULL;
}
