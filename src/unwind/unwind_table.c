// SPDX-License-Identifier: GPL-2.0-only
/*
 * .eh_frame / .debug_frame -> rows of bpf/unwind.h.
 *
 * The CFA instructions of each FDE are interpreted once, front to back, and a row is emitted at
 * every location advance. libdw's dwarf_cfi_addrframe() answers one address at a time and re-runs
 * the CIE and FDE programs from the start for each state, so building a whole table with it costs
 * O(states^2) per FDE plus a malloc per state; bench/unwind/unwind_tables.sh measures both (the libdw
 * builder is kept below as an independent reference for the tests).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/elfimage.h"
#include "unwind/unwind_table.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RIP 16
#define PC_LIMIT 0x100000000ULL	/* rows hold u32 pcs */
#define STATE_STACK_MAX 32	/* DW_CFA_remember_state depth; compilers use 1 or 2 */
#define MAX_SEGS 16
#define MAX_SECS 2

const char *const unwind_unsup_names[UNSUP__MAX] = {
	[UNSUP_CFA_REG] = "cfa-register",
	[UNSUP_CFA_EXPR] = "cfa-expression",
	[UNSUP_CFA_RANGE] = "cfa-offset-range",
	[UNSUP_RBP_RULE] = "rbp-rule",
	[UNSUP_RBP_RANGE] = "rbp-offset-range",
	[UNSUP_RA_RULE] = "ra-rule",
	[UNSUP_BAD_CFI] = "bad-cfi",
};

struct unwind_table {
	struct unwind_row *rows;
	size_t nr;
	struct unwind_table_stats stats;
};

/* One CFI section's bytes and its address, the base of pc-relative pointers. */
struct cfi_sec {
	const uint8_t *data;
	size_t size;
	uint64_t addr;
	bool eh;
};

enum rule_kind {
	RULE_UNSPEC = 0, /* not mentioned: rbp is callee-saved in the x86_64 ABI, so "same value" */
	RULE_UNDEF,
	RULE_SAME,
	RULE_OFFSET,
	RULE_VAL_OFFSET,
	RULE_REG,
	RULE_EXPR,
	RULE_VAL_EXPR,
};

struct reg_rule {
	uint8_t kind;
	int64_t val;		/* offset, or register number for RULE_REG */
	const uint8_t *expr;
	size_t expr_len;
};

struct cfa_rule {
	bool is_expr;
	uint64_t reg;
	int64_t off;
	const uint8_t *expr;
	size_t expr_len;
};

/* Only what a row can use: the CFA, rbp and the return address column. */
struct cfa_state {
	struct cfa_rule cfa;
	struct reg_rule rbp, ra;
};

struct cie {
	uint64_t off;
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;	/* DW_EH_PE_* of FDE addresses */
	bool aug_z;		/* FDEs carry a length-prefixed augmentation */
	bool signal;		/* 'S': a signal trampoline (sigreturn), see CFA_SIGNAL */
	bool header_ok;		/* FDEs can be parsed (their address encoding is known) */
	bool bad;		/* initial instructions not understood: FDEs become BAD_CFI */
	struct cfa_state init;
};

struct fde_rec {
	uint64_t start, end;
	size_t first, nr;	/* rows in builder.rows */
};

struct seg {
	uint64_t start, end;
};

struct builder {
	const struct cfi_sec *sec;
	struct seg segs[MAX_SEGS];
	int nr_segs;
	/* CIEs of the current section, found by offset through an open-addressed hash. */
	struct cie *cies;
	size_t nr_cies, cap_cies;
	uint64_t *cie_keys;	/* offset + 1, 0 = empty */
	uint32_t *cie_idx;
	size_t cie_slots;
	struct unwind_row *rows;
	size_t nr_rows, cap_rows;
	struct fde_rec *fdes;
	size_t nr_fdes, cap_fdes;
	/* FDEs of a previous section (.eh_frame) that a later one (.debug_frame) must not overlap */
	size_t nr_prior_fdes;
	bool ranges_only;	/* collect FDE ranges, no rows (the libdw builder) */
	struct unwind_table_stats stats;
};

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rd_un(struct reader *r, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		r->p = r->end;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint64_t rd_uleb(struct reader *r)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return v;
}

static int64_t rd_sleb(struct reader *r)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	uint8_t b;

	do {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~0ULL << shift;
	return (int64_t)v;
}

static void rd_skip(struct reader *r, uint64_t n)
{
	if ((uint64_t)(r->end - r->p) < n) {
		r->bad = true;
		r->p = r->end;
		return;
	}
	r->p += n;
}

/*
 * Reads a DW_EH_PE-encoded pointer. Only absolute and pc-relative applications occur in x86_64
 * FDE addresses; the others (text/data/func-relative, indirect) mark the reader bad.
 */
static uint64_t rd_ptr(struct reader *r, uint8_t enc, const struct cfi_sec *s)
{
	uint64_t base, v;

	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		base = 0;
		break;
	case DW_EH_PE_pcrel:
		base = s->addr + (uint64_t)(r->p - s->data);
		break;
	default:
		r->bad = true;
		return 0;
	}
	if (enc & DW_EH_PE_indirect)
		r->bad = true;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		v = rd_un(r, 8);
		break;
	case DW_EH_PE_uleb128:
		v = rd_uleb(r);
		break;
	case DW_EH_PE_udata2:
		v = rd_un(r, 2);
		break;
	case DW_EH_PE_udata4:
		v = rd_un(r, 4);
		break;
	case DW_EH_PE_sleb128:
		v = (uint64_t)rd_sleb(r);
		break;
	case DW_EH_PE_sdata2:
		v = (uint64_t)(int64_t)(int16_t)rd_un(r, 2);
		break;
	case DW_EH_PE_sdata4:
		v = (uint64_t)(int64_t)(int32_t)rd_un(r, 4);
		break;
	default:
		r->bad = true;
		return 0;
	}
	return base + v;
}

/* Skips a pointer of any application (the personality routine's, which may be indirect). */
static void skip_ptr(struct reader *r, uint8_t enc)
{
	struct cfi_sec none = { 0 };

	if (enc == DW_EH_PE_omit)
		return;
	rd_ptr(r, enc & 0x0f, &none);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* --- classification: CFI state -> row --- */

/* DW_OP_breg<reg> N [DW_OP_deref]: the only shapes a row can hold besides the PLT one. */
static bool match_breg(const uint8_t *e, size_t len, unsigned int reg, bool deref, int64_t *off)
{
	struct reader r = { e, e + len, false };

	if (rd_un(&r, 1) != DW_OP_breg0 + reg)
		return false;
	*off = rd_sleb(&r);
	if (deref && rd_un(&r, 1) != DW_OP_deref)
		return false;
	return !r.bad && r.p == r.end;
}

/*
 * What ld emits for .plt entries: DW_OP_breg7 (rsp) B; DW_OP_breg16 (rip) 0; DW_OP_lit15;
 * DW_OP_and; DW_OP_lit<K>; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus, i.e.
 * CFA = rsp + B + ((rip & 15) >= K ? 8 : 0). K is 11 for the classic 16-byte entry (after its
 * push and jmp); other PLT layouts use other K, so it is returned and stored in the row.
 */
static bool match_plt(const uint8_t *e, size_t len, int64_t *base, int *k)
{
	static const uint8_t tail[] = { DW_OP_ge, DW_OP_lit3, DW_OP_shl, DW_OP_plus };
	struct reader r = { e, e + len, false };
	uint8_t lit;

	if (rd_un(&r, 1) != DW_OP_breg7)
		return false;
	*base = rd_sleb(&r);
	if (rd_un(&r, 1) != DW_OP_breg16 || rd_sleb(&r) != 0 || rd_un(&r, 1) != DW_OP_lit15 ||
	    rd_un(&r, 1) != DW_OP_and)
		return false;
	lit = rd_un(&r, 1);
	if (lit < DW_OP_lit0 || lit > DW_OP_lit15 || r.bad)
		return false;
	*k = lit - DW_OP_lit0;
	return (size_t)(r.end - r.p) == sizeof(tail) && !memcmp(r.p, tail, sizeof(tail));
}

/* Unsupported rows carry the reason in cfa_off until the table is finished. */
static void set_unsup(struct unwind_row *row, enum unwind_unsup why)
{
	row->type = UNWIND_TYPE(CFA_UNSUPPORTED, RBP_SAME);
	row->cfa_off = why;
	row->rbp_off8 = 0;
}

static void classify(const struct cfa_state *st, bool bad, struct unwind_row *row)
{
	int cfa, rbp = RBP_SAME;
	int64_t off, base;
	int k;

	row->cfa_off = 0;
	row->rbp_off8 = 0;
	if (bad)
		return set_unsup(row, UNSUP_BAD_CFI);
	if (st->ra.kind == RULE_UNDEF) {
		row->type = UNWIND_TYPE(CFA_END, RBP_SAME);
		return;
	}
	if (st->ra.kind != RULE_OFFSET || st->ra.val != -8)
		return set_unsup(row, UNSUP_RA_RULE);
	if (!st->cfa.is_expr) {
		if (st->cfa.reg == REG_RSP)
			cfa = CFA_RSP;
		else if (st->cfa.reg == REG_RBP)
			cfa = CFA_RBP;
		else
			return set_unsup(row, UNSUP_CFA_REG);
		off = st->cfa.off;
	} else if (match_plt(st->cfa.expr, st->cfa.expr_len, &base, &k)) {
		if (st->rbp.kind != RULE_UNSPEC && st->rbp.kind != RULE_SAME)
			return set_unsup(row, UNSUP_RBP_RULE);
		if (base < 0 || base > INT16_MAX)
			return set_unsup(row, UNSUP_CFA_RANGE);
		/* rbp is untouched in a PLT entry, so rbp_off8 is free to carry K */
		row->type = UNWIND_TYPE(CFA_PLT, RBP_SAME);
		row->cfa_off = base;
		row->rbp_off8 = k;
		return;
	} else if (match_breg(st->cfa.expr, st->cfa.expr_len, REG_RBP, true, &off)) {
		cfa = CFA_DEREF_RBP;
	} else {
		return set_unsup(row, UNSUP_CFA_EXPR);
	}
	if (off < INT16_MIN || off > INT16_MAX)
		return set_unsup(row, UNSUP_CFA_RANGE);

	switch (st->rbp.kind) {
	case RULE_UNSPEC:
	case RULE_SAME:
		break;
	case RULE_REG:
		if (st->rbp.val != REG_RBP)
			return set_unsup(row, UNSUP_RBP_RULE);
		break;
	case RULE_UNDEF:
		rbp = RBP_UNDEFINED;
		break;
	case RULE_OFFSET:
		if (st->rbp.val % 8 || st->rbp.val / 8 < INT8_MIN || st->rbp.val / 8 > INT8_MAX)
			return set_unsup(row, UNSUP_RBP_RANGE);
		rbp = RBP_AT_CFA;
		row->rbp_off8 = st->rbp.val / 8;
		break;
#ifdef UNWIND_HAVE_RBP_AT_RBP
	case RULE_EXPR:
		/* gcc's dynamic realignment (DRAP) saves rbp at rbp + N, unrelated to the CFA */
		if (!match_breg(st->rbp.expr, st->rbp.expr_len, REG_RBP, false, &base))
			return set_unsup(row, UNSUP_RBP_RULE);
		if (base % 8 || base / 8 < INT8_MIN || base / 8 > INT8_MAX)
			return set_unsup(row, UNSUP_RBP_RANGE);
		rbp = RBP_AT_RBP;
		row->rbp_off8 = base / 8;
		break;
#endif
	default:
		return set_unsup(row, UNSUP_RBP_RULE);
	}
	row->type = UNWIND_TYPE(cfa, rbp);
	row->cfa_off = off;
}

static bool row_same(const struct unwind_row *a, const struct unwind_row *b)
{
	return a->type == b->type && a->cfa_off == b->cfa_off && a->rbp_off8 == b->rbp_off8;
}

/* --- the CFA program interpreter --- */

struct interp {
	struct builder *b;
	const struct cie *cie;	/* NULL while running a CIE's own initial instructions */
	struct cfa_state st;
	struct cfa_state stack[STATE_STACK_MAX];
	int depth;
	bool bad;
	bool signal;		/* the FDE describes a signal trampoline */
	uint64_t loc, end;	/* current location and FDE end */
	size_t first_row;	/* this FDE's first row in b->rows */
};

static bool emit(struct interp *in, uint64_t pc)
{
	struct builder *b = in->b;
	struct unwind_row row;

	classify(&in->st, in->bad, &row);
	if ((in->signal || (in->cie && in->cie->signal)) && !in->bad) {
		/* The registers come from the kernel's signal frame, whatever the CFI says. */
		row.type = UNWIND_TYPE(CFA_SIGNAL, RBP_SAME);
		row.cfa_off = 0;
		row.rbp_off8 = 0;
	}
	row.pc = pc;
	if (b->nr_rows > in->first_row && row_same(&b->rows[b->nr_rows - 1], &row))
		return true;
	if (!grow((void **)&b->rows, &b->cap_rows, b->nr_rows + 1, sizeof(row)))
		return false;
	b->rows[b->nr_rows++] = row;
	return true;
}

static struct reg_rule *rule_of(struct interp *in, uint64_t reg, uint64_t ra_reg)
{
	if (reg == REG_RBP)
		return &in->st.rbp;
	if (reg == ra_reg)
		return &in->st.ra;
	return NULL;
}

static void set_rule(struct interp *in, uint64_t ra_reg, uint64_t reg, int kind, int64_t val)
{
	struct reg_rule *r = rule_of(in, reg, ra_reg);

	if (r)
		*r = (struct reg_rule){ .kind = kind, .val = val };
}

/* DW_CFA_restore: back to the CIE's rule (to "unspecified" inside the CIE itself). */
static void restore_rule(struct interp *in, uint64_t reg, uint64_t ra_reg)
{
	struct reg_rule *r = rule_of(in, reg, ra_reg);

	if (!r)
		return;
	if (!in->cie)
		*r = (struct reg_rule){ 0 };
	else
		*r = reg == REG_RBP ? in->cie->init.rbp : in->cie->init.ra;
}

/* Factored offsets from hostile input may overflow: wrap instead of invoking UB. */
static int64_t factor(uint64_t v, int64_t align)
{
	return (int64_t)(v * (uint64_t)align);
}

/*
 * Runs CFA instructions [p, end) from @cie (or the CIE being set up, @c). Emits a row before
 * each location advance. Returns -ENOMEM, or 0; malformed or unknown instructions set in->bad
 * and stop, so the rest of the FDE becomes BAD_CFI.
 */
static int run(struct interp *in, const struct cie *c, const uint8_t *p, const uint8_t *end)
{
	const struct cfi_sec *sec = in->b->sec;
	struct reader r = { p, end, false };
	uint64_t reg, new_loc, u;
	int64_t da = c->data_align;
	struct reg_rule *rr;

	while (r.p < r.end && !in->bad) {
		uint8_t op = *r.p++;
		bool adv = false;

		new_loc = in->loc;
		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			new_loc = in->loc + (op & 0x3f) * c->code_align;
			adv = true;
			break;
		case DW_CFA_offset:
			u = rd_uleb(&r);
			set_rule(in, c->ra_reg, op & 0x3f, RULE_OFFSET, factor(u, da));
			break;
		case DW_CFA_restore:
			restore_rule(in, op & 0x3f, c->ra_reg);
			break;
		default:
			switch (op) {
			case DW_CFA_nop:
				break;
			case DW_CFA_set_loc:
				new_loc = rd_ptr(&r, c->fde_enc, sec);
				adv = true;
				break;
			case DW_CFA_advance_loc1:
				new_loc = in->loc + rd_un(&r, 1) * c->code_align;
				adv = true;
				break;
			case DW_CFA_advance_loc2:
				new_loc = in->loc + rd_un(&r, 2) * c->code_align;
				adv = true;
				break;
			case DW_CFA_advance_loc4:
				new_loc = in->loc + rd_un(&r, 4) * c->code_align;
				adv = true;
				break;
			case DW_CFA_offset_extended:
				reg = rd_uleb(&r);
				u = rd_uleb(&r);
				set_rule(in, c->ra_reg, reg, RULE_OFFSET, factor(u, da));
				break;
			case DW_CFA_offset_extended_sf:
				reg = rd_uleb(&r);
				set_rule(in, c->ra_reg, reg, RULE_OFFSET, factor(rd_sleb(&r), da));
				break;
			case DW_CFA_GNU_negative_offset_extended:
				reg = rd_uleb(&r);
				u = rd_uleb(&r);
				set_rule(in, c->ra_reg, reg, RULE_OFFSET,
					 (int64_t)(0 - (uint64_t)factor(u, da)));
				break;
			case DW_CFA_val_offset:
				reg = rd_uleb(&r);
				u = rd_uleb(&r);
				set_rule(in, c->ra_reg, reg, RULE_VAL_OFFSET, factor(u, da));
				break;
			case DW_CFA_val_offset_sf:
				reg = rd_uleb(&r);
				set_rule(in, c->ra_reg, reg, RULE_VAL_OFFSET, factor(rd_sleb(&r), da));
				break;
			case DW_CFA_restore_extended:
				restore_rule(in, rd_uleb(&r), c->ra_reg);
				break;
			case DW_CFA_undefined:
				set_rule(in, c->ra_reg, rd_uleb(&r), RULE_UNDEF, 0);
				break;
			case DW_CFA_same_value:
				set_rule(in, c->ra_reg, rd_uleb(&r), RULE_SAME, 0);
				break;
			case DW_CFA_register:
				reg = rd_uleb(&r);
				set_rule(in, c->ra_reg, reg, RULE_REG, (int64_t)rd_uleb(&r));
				break;
			case DW_CFA_remember_state:
				if (in->depth == STATE_STACK_MAX) {
					in->bad = true;
					break;
				}
				in->stack[in->depth++] = in->st;
				break;
			case DW_CFA_restore_state:
				/* the CFA rule is restored too, as gcc's epilogues expect */
				if (!in->depth) {
					in->bad = true;
					break;
				}
				in->st = in->stack[--in->depth];
				break;
			case DW_CFA_def_cfa:
				in->st.cfa = (struct cfa_rule){ .reg = rd_uleb(&r) };
				in->st.cfa.off = (int64_t)rd_uleb(&r);
				break;
			case DW_CFA_def_cfa_sf:
				in->st.cfa = (struct cfa_rule){ .reg = rd_uleb(&r) };
				in->st.cfa.off = factor(rd_sleb(&r), da);
				break;
			case DW_CFA_def_cfa_register:
				in->bad |= in->st.cfa.is_expr;
				in->st.cfa.reg = rd_uleb(&r);
				break;
			case DW_CFA_def_cfa_offset:
				in->bad |= in->st.cfa.is_expr;
				in->st.cfa.off = (int64_t)rd_uleb(&r);
				break;
			case DW_CFA_def_cfa_offset_sf:
				in->bad |= in->st.cfa.is_expr;
				in->st.cfa.off = factor(rd_sleb(&r), da);
				break;
			case DW_CFA_def_cfa_expression:
				u = rd_uleb(&r);
				in->st.cfa = (struct cfa_rule){ .is_expr = true, .expr = r.p,
								.expr_len = u };
				rd_skip(&r, u);
				break;
			case DW_CFA_expression:
			case DW_CFA_val_expression:
				reg = rd_uleb(&r);
				u = rd_uleb(&r);
				rr = rule_of(in, reg, c->ra_reg);
				if (rr)
					*rr = (struct reg_rule){
						.kind = op == DW_CFA_expression ? RULE_EXPR
										: RULE_VAL_EXPR,
						.expr = r.p,
						.expr_len = u,
					};
				rd_skip(&r, u);
				break;
			case DW_CFA_GNU_args_size:
				rd_uleb(&r);
				break;
			default:
				in->bad = true;
				break;
			}
		}
		if (r.bad)
			in->bad = true;
		if (!adv || !in->cie || in->bad)
			continue;
		if (new_loc < in->loc) {
			in->bad = true;
			continue;
		}
		if (new_loc == in->loc)
			continue;
		if (!emit(in, in->loc))
			return -ENOMEM;
		in->loc = new_loc;
		if (in->loc >= in->end)
			return 0;
	}
	return 0;
}

/* --- CIEs and FDEs --- */

struct entry {
	const uint8_t *start;	/* the length field */
	const uint8_t *body;	/* after the CIE id / CIE pointer */
	const uint8_t *end;
	bool is_cie;
	uint64_t cie_off;	/* for FDEs */
};

/* Reads the entry at @off; returns the next offset, 0 at a terminator, -1 if malformed. */
static int64_t read_entry(const struct cfi_sec *s, uint64_t off, struct entry *e)
{
	struct reader r = { s->data + off, s->data + s->size, false };
	const uint8_t *id_pos;
	uint64_t len, id;
	bool is64 = false;

	e->start = r.p;
	len = rd_un(&r, 4);
	if (r.bad)
		return -1;
	if (len == 0)
		return 0;
	if (len == 0xffffffffULL) {
		len = rd_un(&r, 8);
		is64 = true;
	}
	if (r.bad || len > (uint64_t)(r.end - r.p))
		return -1;
	e->end = r.p + len;
	id_pos = r.p;
	id = rd_un(&r, is64 && !s->eh ? 8 : 4);
	if (r.bad || r.p > e->end)
		return -1;
	e->body = r.p;
	if (s->eh) {
		e->is_cie = id == 0;
		e->cie_off = (uint64_t)(id_pos - s->data) - id;
	} else {
		e->is_cie = id == (is64 ? ~0ULL : 0xffffffffULL);
		e->cie_off = id;
	}
	return e->end - s->data;
}

static int parse_cie(struct builder *b, uint64_t off, struct cie *c)
{
	const struct cfi_sec *s = b->sec;
	struct interp *in = NULL;
	struct entry e;
	struct reader r;
	const char *aug;
	uint8_t version;
	int err = 0;

	memset(c, 0, sizeof(*c));
	c->off = off;
	c->bad = true;
	if (off >= s->size || read_entry(s, off, &e) <= 0 || !e.is_cie)
		return 0;
	r = (struct reader){ e.body, e.end, false };
	version = rd_un(&r, 1);
	if (version != 1 && version != 3 && version != 4)
		return 0;
	aug = (const char *)r.p;
	while (r.p < r.end && *r.p)
		r.p++;
	rd_skip(&r, 1);
	if (r.bad)
		return 0;	/* no NUL: aug must not be read */
	c->fde_enc = DW_EH_PE_absptr;
	if (aug[0] == 'e' && aug[1] == 'h') {
		rd_skip(&r, 8);	/* old gcc: address of the exception table */
		aug += 2;
	}
	if (version == 4) {
		if (rd_un(&r, 1) == 4)	/* address_size */
			c->fde_enc = DW_EH_PE_udata4;
		rd_skip(&r, 1);	/* segment_selector_size */
	}
	c->code_align = rd_uleb(&r);
	c->data_align = rd_sleb(&r);
	c->ra_reg = version == 1 ? rd_un(&r, 1) : rd_uleb(&r);
	if (aug[0] == 'z') {
		uint64_t alen = rd_uleb(&r);
		struct reader a = { r.p, r.p + alen, false };

		rd_skip(&r, alen);
		if (r.bad)
			return 0;
		c->aug_z = true;
		for (aug++; *aug; aug++) {
			if (*aug == 'R')
				c->fde_enc = rd_un(&a, 1);
			else if (*aug == 'L')
				rd_un(&a, 1);
			else if (*aug == 'P')
				skip_ptr(&a, rd_un(&a, 1));
			else if (*aug == 'S')
				c->signal = true;
			else if (*aug != 'B' && *aug != 'G')
				break;	/* the length lets us skip what we don't know */
		}
	} else if (aug[0]) {
		return 0;	/* unknown augmentation: cannot find the instructions */
	}
	if (r.bad)
		return 0;
	c->header_ok = true;

	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->b = b;
	in->st.cfa.reg = ~0ULL;	/* no CFA rule until def_cfa */
	err = run(in, c, r.p, r.end);
	c->bad = in->bad;
	c->init = in->st;
	free(in);
	return err;
}

static uint64_t cie_hash(uint64_t off)
{
	return (off * 0x9e3779b97f4a7c15ULL) >> 17;
}

static int cie_insert(struct builder *b, uint64_t off, uint32_t idx)
{
	size_t i;

	if ((b->nr_cies + 1) * 2 > b->cie_slots) {
		size_t slots = b->cie_slots ? b->cie_slots * 2 : 64, j;
		uint64_t *keys = calloc(slots, sizeof(*keys));
		uint32_t *vals = calloc(slots, sizeof(*vals));

		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -ENOMEM;
		}
		for (j = 0; j < b->cie_slots; j++) {
			if (!b->cie_keys[j])
				continue;
			for (i = cie_hash(b->cie_keys[j] - 1) & (slots - 1); keys[i];
			     i = (i + 1) & (slots - 1))
				;
			keys[i] = b->cie_keys[j];
			vals[i] = b->cie_idx[j];
		}
		free(b->cie_keys);
		free(b->cie_idx);
		b->cie_keys = keys;
		b->cie_idx = vals;
		b->cie_slots = slots;
	}
	for (i = cie_hash(off) & (b->cie_slots - 1); b->cie_keys[i]; i = (i + 1) & (b->cie_slots - 1))
		;
	b->cie_keys[i] = off + 1;
	b->cie_idx[i] = idx;
	return 0;
}

/* The parsed CIE at @off (NULL with *err set on ENOMEM; bad CIEs are returned with ->bad). */
static const struct cie *get_cie(struct builder *b, uint64_t off, int *err)
{
	size_t i;

	if (b->cie_slots) {
		for (i = cie_hash(off) & (b->cie_slots - 1); b->cie_keys[i];
		     i = (i + 1) & (b->cie_slots - 1))
			if (b->cie_keys[i] == off + 1)
				return &b->cies[b->cie_idx[i]];
	}
	if (!grow((void **)&b->cies, &b->cap_cies, b->nr_cies + 1, sizeof(*b->cies))) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = parse_cie(b, off, &b->cies[b->nr_cies]);
	if (!*err)
		*err = cie_insert(b, off, b->nr_cies);
	if (*err)
		return NULL;
	b->stats.nr_cies++;
	return &b->cies[b->nr_cies++];
}

static bool in_exec_seg(const struct builder *b, uint64_t start, uint64_t end)
{
	int i;

	for (i = 0; i < b->nr_segs; i++)
		if (start >= b->segs[i].start && end <= b->segs[i].end)
			return true;
	return false;
}

/* Does [start, end) overlap an FDE of an earlier section? (those are sorted by start) */
static bool overlaps_prior(const struct builder *b, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = b->nr_prior_fdes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->fdes[mid].start < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* fdes[lo - 1] is the last one starting before end */
	return lo && b->fdes[lo - 1].end > start;
}

static int do_fde(struct builder *b, const struct entry *e, struct interp *in)
{
	struct reader r = { e->body, e->end, false };
	const struct cie *c;
	uint64_t start, range;
	int err = 0;

	c = get_cie(b, e->cie_off, &err);
	if (!c)
		return err;
	if (!c->header_ok) {
		b->stats.fdes_skipped++;
		return 0;
	}
	start = rd_ptr(&r, c->fde_enc, b->sec);
	range = rd_ptr(&r, c->fde_enc & 0x0f, b->sec);
	if (c->aug_z)
		rd_skip(&r, rd_uleb(&r));
	if (r.bad || !range || start + range < start || !in_exec_seg(b, start, start + range) ||
	    overlaps_prior(b, start, start + range)) {
		b->stats.fdes_skipped++;
		return 0;
	}
	if (!grow((void **)&b->fdes, &b->cap_fdes, b->nr_fdes + 1, sizeof(*b->fdes)))
		return -ENOMEM;
	b->fdes[b->nr_fdes] = (struct fde_rec){ start, start + range, b->nr_rows, 0 };
	if (!b->ranges_only) {
		in->cie = c;
		in->st = c->init;
		in->depth = 0;
		in->bad = c->bad;
		in->loc = start;
		in->end = start + range;
		in->first_row = b->nr_rows;
		err = run(in, c, r.p, r.end);
		if (!err && in->loc < in->end && !emit(in, in->loc))
			err = -ENOMEM;
		if (err)
			return err;
	}
	b->fdes[b->nr_fdes].nr = b->nr_rows - b->fdes[b->nr_fdes].first;
	b->nr_fdes++;
	return 0;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde_rec *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static void sort_fdes(struct fde_rec *f, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (fde_cmp(&f[i - 1], &f[i]) > 0)
			break;
	if (i < n)
		qsort(f, n, sizeof(*f), fde_cmp);
}

static int parse_section(struct builder *b, const struct cfi_sec *s)
{
	struct interp *in;
	uint64_t off = 0;
	int err = 0;

	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->b = b;
	b->sec = s;
	while (off + 4 <= s->size) {
		struct entry e;
		int64_t next = read_entry(s, off, &e);

		if (next == 0 && s->eh)
			break;	/* zero terminator, as the runtime unwinder stops */
		if (next == 0) {
			off += 4;
			continue;
		}
		if (next < 0) {
			err = -EINVAL;
			break;
		}
		if (!e.is_cie) {
			err = do_fde(b, &e, in);
			if (err)
				break;
		}
		off = next;
	}
	free(in);
	/* CIE offsets are per section */
	free(b->cie_keys);
	free(b->cie_idx);
	b->cie_keys = NULL;
	b->cie_idx = NULL;
	b->cie_slots = 0;
	b->nr_cies = 0;
	/* a truncated section still yields the FDEs before the damage */
	return err == -EINVAL && b->nr_fdes ? 0 : err;
}

/* Appends @row to @out, merging with the previous row. */
static void push_row(struct unwind_row *out, size_t *n, const struct unwind_row *row)
{
	const struct unwind_row *last = *n ? &out[*n - 1] : NULL;

	if (last && last->type == row->type &&
	    (UNWIND_CFA_TYPE(row->type) == CFA_UNSUPPORTED || row_same(last, row)))
		return;
	out[(*n)++] = *row;
}

/* Sorted FDEs -> final rows: gaps become CFA_NONE, equal neighbours merge, stats filled. */
static int finish(struct builder *b, struct unwind_table *t)
{
	struct unwind_row *out, none = { .type = UNWIND_TYPE(CFA_NONE, RBP_SAME) };
	uint64_t prev_end = 0;
	size_t i, j, n = 0;

	sort_fdes(b->fdes, b->nr_fdes);
	out = malloc((b->nr_rows + b->nr_fdes + 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < b->nr_fdes; i++) {
		const struct fde_rec *f = &b->fdes[i];

		if (n && f->start < prev_end) {
			/* the later FDE wins from its start on */
			b->stats.fdes_overlapping++;
			while (n && out[n - 1].pc >= f->start)
				n--;
		} else if (n && f->start > prev_end) {
			/*
			 * Alignment padding (the gap ends at the next 16-byte boundary) never runs,
			 * and no function can hide in it, so it keeps the previous row and saves
			 * a row, often two (when the next FDE starts like the last one ended).
			 */
			if ((prev_end & 15) && f->start == ((prev_end + 15) & ~15ULL)) {
				b->stats.gaps_padding++;
			} else {
				none.pc = prev_end;
				push_row(out, &n, &none);
			}
		}
		for (j = 0; j < f->nr; j++)
			push_row(out, &n, &b->rows[f->first + j]);
		prev_end = f->end;
	}
	if (n) {
		none.pc = prev_end;
		push_row(out, &n, &none);
	}
	for (i = 0; i < n; i++) {
		int cfa = UNWIND_CFA_TYPE(out[i].type);

		if (cfa == CFA_UNSUPPORTED) {
			b->stats.unsup_rows[out[i].cfa_off < UNSUP__MAX ? out[i].cfa_off
									 : UNSUP_BAD_CFI]++;
			out[i].cfa_off = 0;
		}
		b->stats.rows_by_cfa[cfa]++;
		if (i + 1 < n)
			b->stats.code_bytes_by_cfa[cfa] += out[i + 1].pc - out[i].pc;
	}
	if (n) {
		struct unwind_row *shrunk = realloc(out, n * sizeof(*out));

		if (shrunk)
			out = shrunk;
	}
	t->rows = out;
	t->nr = n;
	b->stats.nr_rows = n;
	b->stats.bytes = n * sizeof(*out);
	b->stats.nr_fdes = b->nr_fdes;
	t->stats = b->stats;
	return 0;
}

/* --- ELF plumbing --- */

/* Executable PT_LOADs; -E2BIG if one reaches past 4 GiB, -ENOTSUP if not x86_64 EXEC/DYN. */
static int load_segs(Elf *elf, struct builder *b)
{
	GElf_Ehdr eh;
	size_t i, nr;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -EINVAL;
	if (eh.e_machine != EM_X86_64 || gelf_getclass(elf) != ELFCLASS64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return -ENOTSUP;
	if (elf_getphdrnum(elf, &nr))
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (ph.p_vaddr + ph.p_memsz > PC_LIMIT || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return -E2BIG;
		if (b->nr_segs == MAX_SEGS)
			return -E2BIG;
		b->segs[b->nr_segs++] = (struct seg){ ph.p_vaddr, ph.p_vaddr + ph.p_memsz };
	}
	return b->nr_segs ? 0 : -ENOTSUP;
}

/* The named section's bytes, decompressed if needed; false if absent, empty or NOBITS. */
static bool find_sec(Elf *elf, const char *name, bool eh, struct cfi_sec *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name))
			continue;
		if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
			return false;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || !d->d_size)
			return false;
		*out = (struct cfi_sec){ d->d_buf, d->d_size, sh.sh_addr, eh };
		return true;
	}
	return false;
}

static void builder_free(struct builder *b)
{
	free(b->cies);
	free(b->cie_keys);
	free(b->cie_idx);
	free(b->rows);
	free(b->fdes);
}

/* Finds the CFI sections: .eh_frame first, then .debug_frame of @elf or @debug. */
static int pick_secs(Elf *elf, Elf *debug, struct cfi_sec secs[MAX_SECS], int *nr)
{
	*nr = 0;
	if (find_sec(elf, ".eh_frame", true, &secs[*nr]))
		(*nr)++;
	else if (find_sec(debug, ".eh_frame", true, &secs[*nr]))
		(*nr)++;
	if (find_sec(elf, ".debug_frame", false, &secs[*nr]) ||
	    find_sec(debug, ".debug_frame", false, &secs[*nr]))
		(*nr)++;
	return *nr ? 0 : -ENOENT;
}

struct unwind_table *unwind_table__from_elf2(Elf *elf, Elf *debug, int *err)
{
	struct cfi_sec secs[MAX_SECS];
	struct unwind_table *t = NULL;
	struct builder b = { 0 };
	int i, nr, ret;

	ret = load_segs(elf, &b);
	if (ret)
		goto cleanup;
	ret = pick_secs(elf, debug, secs, &nr);
	if (ret)
		goto cleanup;
	for (i = 0; i < nr; i++) {
		/* a later section only fills what the earlier ones leave uncovered */
		sort_fdes(b.fdes, b.nr_fdes);
		b.nr_prior_fdes = b.nr_fdes;
		ret = parse_section(&b, &secs[i]);
		if (ret)
			goto cleanup;
		b.stats.source |= secs[i].eh ? UNWIND_SRC_EH_FRAME : UNWIND_SRC_DEBUG_FRAME;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = finish(&b, t);
	if (ret) {
		free(t);
		t = NULL;
	}
cleanup:
	builder_free(&b);
	if (ret && err)
		*err = ret;
	return t;
}

struct unwind_table *unwind_table__from_elf(Elf *elf, int *err)
{
	return unwind_table__from_elf2(elf, NULL, err);
}

struct unwind_table *unwind_table__from_fd(int fd, int *err)
{
	struct unwind_table *t;
	struct elfimage *im;

	im = elfimage__open(fd, ELFIMAGE_CFI, err);
	if (!im)
		return NULL;
	t = unwind_table__from_elf(elfimage__elf(im), err);
	elfimage__free(im);
	return t;
}

struct unwind_table *unwind_table__from_path(const char *path, int *err)
{
	struct unwind_table *t;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	t = unwind_table__from_fd(fd, err);
	close(fd);
	return t;
}

void unwind_table__free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t);
}

size_t unwind_table__nr_rows(const struct unwind_table *t)
{
	return t->nr;
}

const struct unwind_row *unwind_table__rows(const struct unwind_table *t)
{
	return t->rows;
}

const struct unwind_table_stats *unwind_table__stats(const struct unwind_table *t)
{
	return &t->stats;
}

const struct unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t pc)
{
	size_t lo = 0, hi = t->nr;

	if (pc >= PC_LIMIT)
		return t->nr && t->rows[t->nr - 1].pc <= pc ? &t->rows[t->nr - 1] : NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

int unwind_table__step(const struct unwind_table *t, uint64_t pc, struct unwind_regs *regs,
		       unwind_read_mem_fn read_mem, void *ctx)
{
	const struct unwind_row *row = unwind_table__find(t, pc);
	uint64_t cfa, ra, bp = regs->bp;
	int err;

	if (!row)
		return -ENOENT;
	switch (UNWIND_CFA_TYPE(row->type)) {
	case CFA_RSP:
		cfa = regs->sp + row->cfa_off;
		break;
	case CFA_RBP:
		cfa = regs->bp + row->cfa_off;
		break;
	case CFA_PLT:
		cfa = regs->sp + row->cfa_off + ((int)(pc & 15) >= row->rbp_off8 ? 8 : 0);
		break;
	case CFA_DEREF_RBP:
		err = read_mem(ctx, regs->bp + row->cfa_off, &cfa, sizeof(cfa));
		if (err)
			return err;
		break;
	case CFA_END:
		return 1;
	case CFA_NONE:
		return -ENOENT;
	default:
		return -ENOTSUP;
	}
	err = read_mem(ctx, cfa - 8, &ra, sizeof(ra));
	if (err)
		return err;
	switch (UNWIND_RBP_TYPE(row->type)) {
	case RBP_SAME:
		break;
	case RBP_AT_CFA:
		err = read_mem(ctx, cfa + (int64_t)row->rbp_off8 * 8, &bp, sizeof(bp));
		if (err)
			return err;
		break;
#ifdef UNWIND_HAVE_RBP_AT_RBP
	case RBP_AT_RBP:
		err = read_mem(ctx, regs->bp + row->rbp_off8 * 8, &bp, sizeof(bp));
		if (err)
			return err;
		break;
#endif
	case RBP_UNDEFINED:
		bp = 0;
		break;
	default:
		return -ENOTSUP;
	}
	regs->ip = ra;
	regs->sp = cfa;
	regs->bp = bp;
	return 0;
}

/* --- the libdw reference builder --- */

/* Re-encodes the ops classify() can match; anything else becomes an invalid byte. */
static size_t encode_ops(const Dwarf_Op *ops, size_t nops, uint8_t *buf, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < nops && n + 11 < cap; i++) {
		uint8_t a = ops[i].atom;

		if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
			int64_t v = (int64_t)ops[i].number;

			buf[n++] = a;
			for (;;) {
				uint8_t byte = v & 0x7f;

				v >>= 7;
				if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
					buf[n++] = byte;
					break;
				}
				buf[n++] = byte | 0x80;
			}
		} else if ((a >= DW_OP_lit0 && a <= DW_OP_lit31) || a == DW_OP_and ||
			   a == DW_OP_ge || a == DW_OP_shl || a == DW_OP_plus || a == DW_OP_deref) {
			buf[n++] = a;
		} else {
			buf[n++] = 0xff;
		}
	}
	return n;
}

/* libdw's description of a register rule -> ours. */
static void libdw_rule(const Dwarf_Op *ops_mem, const Dwarf_Op *ops, size_t nops,
		       struct reg_rule *r, uint8_t *scratch, size_t cap)
{
	bool val;

	memset(r, 0, sizeof(*r));
	if (!nops) {
		r->kind = ops == ops_mem ? RULE_UNDEF : RULE_SAME;
		return;
	}
	val = ops[nops - 1].atom == DW_OP_stack_value;
	if (val)
		nops--;
	if (nops && ops[0].atom == DW_OP_call_frame_cfa &&
	    (nops == 1 || (nops == 2 && ops[1].atom == DW_OP_plus_uconst))) {
		r->kind = val ? RULE_VAL_OFFSET : RULE_OFFSET;
		r->val = nops == 2 ? (int64_t)ops[1].number : 0;
		return;
	}
	if (nops == 1 && ops[0].atom == DW_OP_regx) {
		r->kind = RULE_REG;
		r->val = (int64_t)ops[0].number;
		return;
	}
	r->kind = val ? RULE_VAL_EXPR : RULE_EXPR;
	r->expr = scratch;
	r->expr_len = encode_ops(ops, nops, scratch, cap);
}

static int libdw_fde(struct builder *b, Dwarf_CFI *cfi, const struct fde_rec *f)
{
	struct interp in = { .b = b, .first_row = b->nr_rows };
	uint64_t pc = f->start;

	while (pc < f->end) {
		uint8_t cfa_buf[64], rbp_buf[64], ra_buf[64];
		Dwarf_Op ops_mem[3], *ops;
		Dwarf_Addr start, end;
		Dwarf_Frame *fr;
		size_t nops;
		int ra;

		if (dwarf_cfi_addrframe(cfi, pc, &fr))
			return -EINVAL;
		memset(&in.st, 0, sizeof(in.st));
		in.bad = false;
		ra = dwarf_frame_info(fr, &start, &end, &in.signal);
		if (dwarf_frame_cfa(fr, &ops, &nops) || !nops) {
			in.bad = true;
		} else if (nops == 1 && ops[0].atom == DW_OP_bregx) {
			in.st.cfa.reg = ops[0].number;
			in.st.cfa.off = (int64_t)ops[0].number2;
		} else {
			in.st.cfa.is_expr = true;
			in.st.cfa.expr = cfa_buf;
			in.st.cfa.expr_len = encode_ops(ops, nops, cfa_buf, sizeof(cfa_buf));
		}
		if (ra < 0 || dwarf_frame_register(fr, ra, ops_mem, &ops, &nops))
			in.bad = true;
		else
			libdw_rule(ops_mem, ops, nops, &in.st.ra, ra_buf, sizeof(ra_buf));
		if (dwarf_frame_register(fr, REG_RBP, ops_mem, &ops, &nops))
			in.bad = true;
		else
			libdw_rule(ops_mem, ops, nops, &in.st.rbp, rbp_buf, sizeof(rbp_buf));
		free(fr);
		if (!emit(&in, pc))
			return -ENOMEM;
		if (end <= pc)
			return -EINVAL;
		pc = end;
	}
	return 0;
}

struct unwind_table *unwind_table__from_elf_libdw(Elf *elf, int *err)
{
	struct unwind_table *t = NULL;
	struct builder b = { .ranges_only = true };
	Dwarf_CFI *cfi = NULL;
	struct cfi_sec sec;
	size_t i;
	int ret;

	ret = load_segs(elf, &b);
	if (ret)
		goto cleanup;
	if (!find_sec(elf, ".eh_frame", true, &sec)) {
		ret = -ENOENT;
		goto cleanup;
	}
	/* the FDE ranges come from our parser; every state inside them from libdw */
	ret = parse_section(&b, &sec);
	if (ret)
		goto cleanup;
	b.stats.source = UNWIND_SRC_EH_FRAME;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		ret = -ENOENT;
		goto cleanup;
	}
	for (i = 0; i < b.nr_fdes; i++) {
		b.fdes[i].first = b.nr_rows;
		ret = libdw_fde(&b, cfi, &b.fdes[i]);
		if (ret)
			goto cleanup;
		b.fdes[i].nr = b.nr_rows - b.fdes[i].first;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = finish(&b, t);
	if (ret) {
		free(t);
		t = NULL;
	}
cleanup:
	if (cfi)
		dwarf_cfi_end(cfi);
	builder_free(&b);
	if (ret)
		*err = ret;
	return t;
}
