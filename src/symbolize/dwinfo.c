// SPDX-License-Identifier: GPL-2.0-only
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdw.h>

#include "symbolize/dwinfo.h"
#include "base/util.h"

#define NO_SCOPE UINT32_MAX
/* What libdw holds per line-table row (Dwarf_Line and its share of the sorted arrays). */
#define LINE_BYTES 48
/* Nesting deeper than this is not real code; stop descending. */
#define MAX_DEPTH 96

/* A function or an inlined call with code: a DIE and its address ranges. */
struct scope {
	Dwarf_Off die;
	uint32_t parent;	/* enclosing scope, NO_SCOPE at a function */
	uint32_t first;		/* its ranges: pcs[first .. first + nr) */
	uint16_t nr;
	uint8_t inlined;
};

struct pcrange {
	uint64_t lo, hi;
};

/* A scope's range in the unit's search array, sorted by lo, then by depth. */
struct srange {
	uint64_t lo, hi;
	uint32_t scope;
	uint32_t depth;
};

struct unit {
	Dwarf_Off off;		/* the unit DIE */
	int state;		/* 0: not indexed yet, 1: indexed, -1: could not be */
	struct scope *scopes;
	uint32_t nr_scopes, cap_scopes;
	struct pcrange *pcs;
	struct srange *sorted;
	const char **names;	/* per scope, read on first use; NO_NAME: it has none */
	uint32_t nr_pcs, cap_pcs;
	Dwarf_Files *files;
	size_t nr_files;
	bool files_read;
	bool lines_read;
};

/* Which unit covers an address. */
struct urange {
	uint64_t lo, hi;
	uint32_t unit;
};

struct dwinfo {
	Dwarf *dw;
	struct unit *units;
	size_t nr_units;
	struct urange *ur;
	size_t nr_ur;
	size_t mem;
};

static int urange_cmp(const void *a, const void *b)
{
	const struct urange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static inline bool srange_before(const struct srange *x, const struct srange *y)
{
	return x->lo < y->lo || (x->lo == y->lo && x->depth < y->depth);
}

/*
 * Sorts by (lo, depth). Ranges come in DIE order, nearly sorted already (a function, then its
 * inlined calls in address order): a merge sort over the runs found in the input, with the
 * comparison inlined, does far less work than qsort here. Stable. 0 or -ENOMEM.
 */
static int sort_ranges(struct srange *a, size_t n)
{
	struct srange *tmp, *src = a, *dst;
	size_t *runs, nr = 0, i, w;

	for (i = 1; i < n && !srange_before(&a[i], &a[i - 1]); i++)
		;
	if (i >= n)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	runs = malloc((n + 1) * sizeof(*runs));
	if (!tmp || !runs) {
		free(tmp);
		free(runs);
		return -ENOMEM;
	}
	/* runs[k] is where run k starts; runs[nr] = n. */
	runs[nr++] = 0;
	for (i = 1; i < n; i++)
		if (srange_before(&a[i], &a[i - 1]))
			runs[nr++] = i;
	runs[nr] = n;
	dst = tmp;
	while (nr > 1) {
		size_t k, out = 0;

		for (k = 0; k < nr; k += 2) {
			size_t lo = runs[k], mid = runs[MIN(k + 1, nr)], hi = runs[MIN(k + 2, nr)];
			size_t x = lo, y = mid;

			w = lo;
			while (x < mid && y < hi)
				dst[w++] = srange_before(&src[y], &src[x]) ? src[y++] : src[x++];
			while (x < mid)
				dst[w++] = src[x++];
			while (y < hi)
				dst[w++] = src[y++];
			runs[out++] = lo;
		}
		runs[out] = n;
		nr = out;
		dst = src;
		src = src == a ? tmp : a;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(tmp);
	free(runs);
	return 0;
}

struct dwinfo *dwinfo__new(Elf *elf, int *ret_err)
{
	struct dwinfo *d = calloc(1, sizeof(*d));
	size_t cap_units = 0, cap_ur = 0;
	Dwarf_CU *cu = NULL;
	int err = -ENOMEM;

	if (!d)
		goto cleanup;
	d->dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		err = -ENODATA;
		goto cleanup;
	}
	for (;;) {
		Dwarf_Addr base, lo, hi;
		Dwarf_Die cudie, subdie;
		Dwarf_Half version;
		uint8_t type;
		ptrdiff_t off;

		if (dwarf_get_units(d->dw, cu, &cu, &version, &type, &cudie, &subdie))
			break;
		/* Type and partial units hold no code of their own. */
		if (type != DW_UT_compile)
			continue;
		if (d->nr_units == cap_units) {
			size_t cap = cap_units ? cap_units * 2 : 64;
			struct unit *u = realloc(d->units, cap * sizeof(*u));

			if (!u)
				goto cleanup;
			d->units = u;
			cap_units = cap;
		}
		d->units[d->nr_units] = (struct unit){ .off = dwarf_dieoffset(&cudie) };
		for (off = 0; (off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0;) {
			/* Code the linker discarded keeps ranges at 0 (or tombstones): skip them. */
			if (!lo || lo >= hi || lo >= (uint64_t)-2)
				continue;
			if (d->nr_ur == cap_ur) {
				size_t cap = cap_ur ? cap_ur * 2 : 256;
				struct urange *r = realloc(d->ur, cap * sizeof(*r));

				if (!r)
					goto cleanup;
				d->ur = r;
				cap_ur = cap;
			}
			d->ur[d->nr_ur++] = (struct urange){ lo, hi, d->nr_units };
		}
		d->nr_units++;
	}
	if (!d->nr_ur) {
		err = -ENODATA;
		goto cleanup;
	}
	qsort(d->ur, d->nr_ur, sizeof(*d->ur), urange_cmp);
	d->mem = sizeof(*d) + cap_units * sizeof(*d->units) + cap_ur * sizeof(*d->ur);
	return d;
cleanup:
	dwinfo__free(d);
	*ret_err = err;
	return NULL;
}

static void unit_clear(struct unit *u)
{
	free(u->names);
	free(u->scopes);
	free(u->pcs);
	free(u->sorted);
}

void dwinfo__free(struct dwinfo *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nr_units; i++)
		unit_clear(&d->units[i]);
	free(d->units);
	free(d->ur);
	if (d->dw)
		dwarf_end(d->dw);
	free(d);
}

size_t dwinfo__mem(const struct dwinfo *d)
{
	return d->mem;
}

size_t dwinfo__nr_units(const struct dwinfo *d)
{
	return d->nr_units;
}

static uint32_t attr_u32(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &w) || w > UINT32_MAX)
		return 0;
	return w;
}

/* Adds die as a scope if it has code; *idx gets its index. 1 added, 0 no code, -ENOMEM. */
static int add_scope(struct unit *u, Dwarf_Die *die, uint32_t parent, uint32_t depth,
		     bool inlined, uint32_t *idx)
{
	Dwarf_Addr base, lo, hi;
	struct scope *sc;
	ptrdiff_t off;
	uint32_t first = u->nr_pcs;

	for (off = 0; (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0;) {
		if (!lo || lo >= hi || lo >= (uint64_t)-2)
			continue;
		if (u->nr_pcs == u->cap_pcs) {
			uint32_t cap = u->cap_pcs ? u->cap_pcs * 2 : 256;
			struct pcrange *p = realloc(u->pcs, cap * sizeof(*p));
			struct srange *s;

			if (!p)
				return -ENOMEM;
			u->pcs = p;
			s = realloc(u->sorted, cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			u->sorted = s;
			u->cap_pcs = cap;
		}
		u->pcs[u->nr_pcs] = (struct pcrange){ lo, hi };
		u->sorted[u->nr_pcs] = (struct srange){ lo, hi, u->nr_scopes, depth };
		u->nr_pcs++;
		if (u->nr_pcs - first == UINT16_MAX)
			break;
	}
	if (u->nr_pcs == first)
		return 0;
	if (u->nr_scopes == u->cap_scopes) {
		uint32_t cap = u->cap_scopes ? u->cap_scopes * 2 : 128;
		struct scope *s = realloc(u->scopes, cap * sizeof(*s));

		if (!s) {
			u->nr_pcs = first;
			return -ENOMEM;
		}
		u->scopes = s;
		u->cap_scopes = cap;
	}
	sc = &u->scopes[u->nr_scopes];
	*sc = (struct scope){
		.die = dwarf_dieoffset(die),
		.parent = parent,
		.first = first,
		.nr = u->nr_pcs - first,
		.inlined = inlined,
	};
	*idx = u->nr_scopes++;
	return 1;
}

static int walk(struct unit *u, Dwarf_Die *parent_die, uint32_t parent, uint32_t depth)
{
	Dwarf_Die child;
	uint32_t idx;
	int r;

	if (depth > MAX_DEPTH || dwarf_child(parent_die, &child))
		return 0;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			r = add_scope(u, &child, parent, depth,
				      dwarf_tag(&child) == DW_TAG_inlined_subroutine, &idx);
			if (r < 0)
				return r;
			/* A function without code (declaration, abstract instance) has none inside. */
			if (r > 0 && dwarf_haschildren(&child)) {
				r = walk(u, &child, idx, depth + 1);
				if (r < 0)
					return r;
			}
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_namespace:
		case DW_TAG_module:
			if (dwarf_haschildren(&child)) {
				r = walk(u, &child, parent, depth + 1);
				if (r < 0)
					return r;
			}
			break;
		default:
			break;
		}
	} while (!dwarf_siblingof(&child, &child));
	return 0;
}

/* A unit that cannot be indexed (ENOMEM) gives no frames, and is not tried again. */
static void unit_fail(struct unit *u)
{
	unit_clear(u);
	u->scopes = NULL;
	u->pcs = NULL;
	u->sorted = NULL;
	u->names = NULL;
	u->nr_scopes = u->nr_pcs = u->cap_scopes = u->cap_pcs = 0;
	u->state = -1;
}

static int unit_index(struct dwinfo *d, struct unit *u)
{
	Dwarf_Die cudie;
	size_t before = (size_t)u->cap_pcs * (sizeof(*u->pcs) + sizeof(*u->sorted)) +
			(size_t)u->cap_scopes * sizeof(*u->scopes);
	int err;

	if (!dwarf_offdie(d->dw, u->off, &cudie)) {
		u->state = -1;
		return -EINVAL;
	}
	err = walk(u, &cudie, NO_SCOPE, 0);
	if (err) {
		unit_fail(u);
		return err;
	}
	if (sort_ranges(u->sorted, u->nr_pcs)) {
		err = -ENOMEM;
		unit_fail(u);
		return err;
	}
	u->state = 1;
	d->mem += (size_t)u->cap_pcs * (sizeof(*u->pcs) + sizeof(*u->sorted)) +
		  (size_t)u->cap_scopes * sizeof(*u->scopes) - before;
	return 0;
}

static struct unit *find_unit(struct dwinfo *d, uint64_t addr)
{
	size_t lo = 0, hi = d->nr_ur, i, n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->ur[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Units may overlap (rarely): look back a little. */
	for (i = lo, n = 0; i-- > 0 && n < 8; n++)
		if (addr < d->ur[i].hi)
			return &d->units[d->ur[i].unit];
	return NULL;
}

static bool scope_has(const struct unit *u, const struct scope *s, uint64_t addr)
{
	uint32_t i;

	for (i = 0; i < s->nr; i++)
		if (addr >= u->pcs[s->first + i].lo && addr < u->pcs[s->first + i].hi)
			return true;
	return false;
}

static const char *die_name(struct dwinfo *d, Dwarf_Off off);
static const char NO_NAME[] = "";

/* A scope's name, remembered: resolving it walks abstract origins and specifications. */
static const char *scope_name(struct dwinfo *d, struct unit *u, uint32_t s)
{
	const char *name;

	if (!u->names) {
		u->names = calloc(u->nr_scopes, sizeof(*u->names));
		if (!u->names)
			return die_name(d, u->scopes[s].die);
		d->mem += u->nr_scopes * sizeof(*u->names);
	}
	if (!u->names[s]) {
		name = die_name(d, u->scopes[s].die);
		u->names[s] = name ? name : NO_NAME;
	}
	return u->names[s] == NO_NAME ? NULL : u->names[s];
}

static const char *die_name(struct dwinfo *d, Dwarf_Off off)
{
	Dwarf_Attribute a;
	Dwarf_Die die;
	const char *s;

	if (!dwarf_offdie(d->dw, off, &die))
		return NULL;
	/* The linkage name carries namespaces, template arguments and the Rust crate path. */
	if ((dwarf_attr_integrate(&die, DW_AT_linkage_name, &a) ||
	     dwarf_attr_integrate(&die, DW_AT_MIPS_linkage_name, &a)) &&
	    (s = dwarf_formstring(&a)))
		return s;
	if (dwarf_attr_integrate(&die, DW_AT_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

static const char *unit_file(struct dwinfo *d, struct unit *u, Dwarf_Die *cudie, uint32_t idx)
{
	if (!u->files_read) {
		u->files_read = true;
		if (dwarf_getsrcfiles(cudie, &u->files, &u->nr_files)) {
			u->files = NULL;
			u->nr_files = 0;
		}
	}
	if (!u->files || idx >= u->nr_files)
		return NULL;
	return dwarf_filesrc(u->files, idx, NULL, NULL);
}

int dwinfo__lookup(struct dwinfo *d, uint64_t addr, bool lines, struct sym_frame *out, int max)
{
	struct unit *u = find_unit(d, addr);
	uint32_t s, chain[64];
	size_t lo = 0, hi;
	int n = 0, i;

	if (!u || max <= 0)
		return 0;
	if (!u->state && unit_index(d, u))
		return 0;
	if (u->state < 0)
		return 0;
	hi = u->nr_pcs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->sorted[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	/*
	 * Ranges nest: the innermost scope holding addr is the last range starting at or before
	 * it, or one of that range's enclosing scopes.
	 */
	s = u->sorted[lo - 1].scope;
	while (s != NO_SCOPE && !scope_has(u, &u->scopes[s], addr))
		s = u->scopes[s].parent;
	/* Up to the real function: an inlined call's parent is where it was inlined. */
	for (; s != NO_SCOPE && n < (int)ARRAY_SIZE(chain) && n < max; s = u->scopes[s].parent) {
		chain[n] = s;
		out[n] = (struct sym_frame){
			.name = scope_name(d, u, s),
			.inlined = u->scopes[s].inlined,
		};
		n++;
		if (!u->scopes[s].inlined)
			break;
	}
	if (lines && n) {
		Dwarf_Die cudie;
		Dwarf_Line *l;
		int line;

		if (!dwarf_offdie(d->dw, u->off, &cudie))
			return n;
		if (!u->lines_read) {
			Dwarf_Lines *all;
			size_t nr;

			/* libdw keeps the unit's whole line table from now on: count it. */
			u->lines_read = true;
			if (!dwarf_getsrclines(&cudie, &all, &nr))
				d->mem += nr * LINE_BYTES;
		}
		l = dwarf_getsrc_die(&cudie, addr);
		if (l) {
			out[0].file = dwarf_linesrc(l, NULL, NULL);
			if (!dwarf_lineno(l, &line) && line > 0)
				out[0].line = line;
		}
		/* Each inlined call says where in its caller it sits (read now, not when indexing). */
		for (i = 1; i < n; i++) {
			Dwarf_Die callee;

			if (!dwarf_offdie(d->dw, u->scopes[chain[i - 1]].die, &callee))
				continue;
			out[i].file = unit_file(d, u, &cudie, attr_u32(&callee, DW_AT_call_file));
			out[i].line = attr_u32(&callee, DW_AT_call_line);
		}
		/*
		 * pprof's Function.start_line: the function's declaration line, through an inlined
		 * call's abstract origin or a definition's specification (dwarf_decl_line follows
		 * both).
		 */
		for (i = 0; i < n; i++) {
			Dwarf_Die die;

			if (dwarf_offdie(d->dw, u->scopes[chain[i]].die, &die) &&
			    !dwarf_decl_line(&die, &line) && line > 0)
				out[i].start_line = line;
		}
	}
	return n;
}
