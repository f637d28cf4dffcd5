/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compiles an object's DWARF call frame information (.eh_frame, plus .debug_frame where
 * .eh_frame has no FDE) into the compact rows of bpf/unwind.h, which the BPF unwinder
 * binary-searches to walk user stacks that have no frame pointers. x86_64 only.
 *
 * Rows are sorted by pc (ELF vaddr), adjacent equal rows are merged, and the ranges between
 * FDEs get a CFA_NONE row, so a lookup outside any FDE finds CFA_NONE (or nothing, below the
 * first FDE). One exception saves ~10% of the rows: a gap that is only alignment padding (it
 * starts unaligned and ends at the next 16-byte boundary) keeps the previous row, since no code
 * runs there. Rules a row cannot express become CFA_UNSUPPORTED; the reason is counted.
 *
 * CFA_PLT rows carry the whole PLT expression: CFA = rsp + cfa_off + ((pc & 15) >= rbp_off8 ?
 * 8 : 0); ld's 16-byte .plt entries give cfa_off 8 and rbp_off8 11 (rbp is untouched there).
 *
 * unwind_table__step() is a userspace reference unwinder over the same rows, for tests.
 */
#ifndef FLAMED_UNWIND_TABLE_H
#define FLAMED_UNWIND_TABLE_H

#include <libelf.h>
#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/unwind.h"

struct unwind_table;

/* Why a row became CFA_UNSUPPORTED. */
enum unwind_unsup {
	UNSUP_CFA_REG = 0,	/* CFA based on a register other than rsp/rbp (e.g. r10 in DRAP) */
	UNSUP_CFA_EXPR,		/* a CFA expression other than the PLT and realigned-stack forms */
	UNSUP_CFA_RANGE,	/* CFA offset does not fit s16 */
	UNSUP_RBP_RULE,		/* rbp saved by expression, in a register, or as a value */
	UNSUP_RBP_RANGE,	/* rbp not at CFA + a multiple of 8 that fits s8 */
	UNSUP_RA_RULE,		/* return address not at CFA-8 (signal frames, odd asm) */
	UNSUP_BAD_CFI,		/* unknown opcode, truncated data, state stack overflow */
	UNSUP__MAX,
};

extern const char *const unwind_unsup_names[UNSUP__MAX];

/* Which sections the rows came from (flags). */
enum unwind_source {
	UNWIND_SRC_EH_FRAME = 1,
	UNWIND_SRC_DEBUG_FRAME = 2,
};

struct unwind_table_stats {
	size_t nr_rows;
	size_t bytes;			/* nr_rows * sizeof(struct unwind_row) */
	size_t nr_fdes;			/* FDEs that produced rows */
	size_t nr_cies;
	size_t fdes_skipped;		/* empty, outside executable segments, or above 4 GiB */
	size_t fdes_overlapping;	/* starting inside the previous FDE (it was cut short) */
	size_t gaps_padding;		/* gaps between FDEs left to the previous row: padding */
	size_t rows_by_cfa[8];		/* final rows per enum unwind_cfa_type */
	size_t unsup_rows[UNSUP__MAX];	/* CFA_UNSUPPORTED rows by reason (sum = rows_by_cfa[7]) */
	uint64_t code_bytes_by_cfa[8];	/* bytes of code covered per CFA type, gaps in CFA_NONE */
	unsigned int source;		/* enum unwind_source flags */
};

/*
 * Builds the table of an ET_EXEC or ET_DYN x86_64 object from its .eh_frame, and its
 * .debug_frame for code .eh_frame does not cover (all of it when .eh_frame is missing). FDEs
 * outside executable PT_LOADs (discarded code) are dropped. NULL on failure with *err: -ENOENT
 * (no CFI), -E2BIG (an executable segment ends above 4 GiB), -ENOTSUP (not x86_64, not EXEC or
 * DYN), -EINVAL (not ELF, or CFI malformed before its first FDE), -ENOMEM.
 */
struct unwind_table *unwind_table__from_elf(Elf *elf, int *err);

/*
 * The same, with a separate debug file (e.g. from .gnu_debuglink or /usr/lib/debug/.build-id).
 * Rows come from .eh_frame (of @elf, else of @debug), and from .debug_frame (of @elf, else of
 * @debug) for the ranges .eh_frame does not cover. @debug may be NULL. Segments (for the 4 GiB
 * check and to drop FDEs of discarded code) come from @elf.
 */
struct unwind_table *unwind_table__from_elf2(Elf *elf, Elf *debug, int *err);

/* Opens @fd with libelf (the fd stays the caller's). */
struct unwind_table *unwind_table__from_fd(int fd, int *err);

/* From a path, for tests and tools. */
struct unwind_table *unwind_table__from_path(const char *path, int *err);

/*
 * A slow reference builder over elfutils libdw (dwarf_cfi_addrframe for each state), same
 * output format. Used by tests as an independent interpreter and by bench/unwind/unwind_tables.sh to
 * justify the hand-written one. .eh_frame only.
 */
struct unwind_table *unwind_table__from_elf_libdw(Elf *elf, int *err);

void unwind_table__free(struct unwind_table *t);

size_t unwind_table__nr_rows(const struct unwind_table *t);
const struct unwind_row *unwind_table__rows(const struct unwind_table *t);
const struct unwind_table_stats *unwind_table__stats(const struct unwind_table *t);

/* The row covering @pc (ELF vaddr), or NULL when @pc is below the first row or t is empty. */
const struct unwind_row *unwind_table__find(const struct unwind_table *t, uint64_t pc);

/* Registers a reference unwinder needs; ip/sp/bp are run-time values. */
struct unwind_regs {
	uint64_t ip, sp, bp;
};

/* Reads @len bytes at run-time address @addr; 0 or a negative errno. */
typedef int (*unwind_read_mem_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Applies the row of @pc (the ELF vaddr to look up: ip - load bias, minus 1 for frames other
 * than the innermost, so a call at the end of a function finds its own row) to @regs, which then
 * hold the caller's ip, sp (= CFA) and bp. Returns 0 on success, 1 at the outermost frame
 * (CFA_END), -ENOENT without CFI (CFA_NONE or no row), -ENOTSUP for CFA_UNSUPPORTED, or the
 * error of @read_mem; @regs is left untouched on failure.
 */
int unwind_table__step(const struct unwind_table *t, uint64_t pc, struct unwind_regs *regs,
		       unwind_read_mem_fn read_mem, void *ctx);

#endif
