/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compact unwind rows shared by the table builder (src/unwind/unwind_table.c) and the BPF unwinder.
 * x86_64 only: the return address is always at CFA-8, so a row only says how to find the CFA
 * and where the caller's rbp was saved.
 *
 * A table is an array of rows sorted by pc (ELF virtual address, as in st_value, of the object).
 * A row applies from its pc up to the next row's pc. Address ranges without CFI get a
 * CFA_NONE row, so the unwinder falls back to frame pointers there.
 */
#ifndef FLAMED_BPF_UNWIND_H
#define FLAMED_BPF_UNWIND_H

enum unwind_cfa_type {
	CFA_NONE = 0,	/* no CFI covers this pc: fall back to frame pointers */
	CFA_RSP = 1,	/* CFA = rsp + cfa_off */
	CFA_RBP = 2,	/* CFA = rbp + cfa_off */
	CFA_PLT = 3,	/* PLT stub: CFA = rsp + cfa_off, + 8 more when (pc & 15) >= rbp_off8 */
	CFA_END = 4,	/* outermost frame (return address undefined): stop here */
	CFA_DEREF_RBP = 5, /* realigned stack (DW_OP_breg6 off; DW_OP_deref): CFA = *(rbp + cfa_off) */
	CFA_SIGNAL = 6,	/* sigreturn trampoline ('S' CIE): registers from the signal frame at rsp */
	CFA_UNSUPPORTED = 7, /* an expression we cannot evaluate: fall back to frame pointers */
};

enum unwind_rbp_type {
	RBP_SAME = 0,	/* rbp still holds the caller's value */
	RBP_AT_CFA = 1,	/* caller's rbp saved at CFA + rbp_off8 * 8 */
	RBP_UNDEFINED = 2,
};

#define UNWIND_TYPE(cfa, rbp) ((cfa) | ((rbp) << 4))
#define UNWIND_CFA_TYPE(t) ((t) & 0xf)
#define UNWIND_RBP_TYPE(t) ((t) >> 4)

/* Entries of a chunk of the rows and of the page index (1 MiB of either): a power of two. */
#define UNWIND_CHUNK (1U << 17)

struct unwind_row {
	__u32 pc;		/* ELF vaddr where this row starts (objects above 4 GiB are refused) */
	__s16 cfa_off;		/* CFA offset from the base register */
	__s8 rbp_off8;		/* with RBP_AT_CFA: offset of the saved rbp from the CFA, / 8 */
	__u8 type;		/* UNWIND_TYPE(cfa type, rbp type) */
};

/* Executable mappings per process the BPF unwinder can see; more fall back to frame pointers. */
#define UNWIND_MAX_MAPS 128

/* One executable mapping of a process, as the BPF unwinder sees it. */
struct unwind_map {
	__u64 start, end;	/* [start, end) in the process */
	__u64 bias;		/* ELF vaddr = address - bias */
	__u32 row_start;	/* first row of its table in the global rows array */
	__u32 row_count;	/* 0: no table, unwind this mapping with frame pointers */
	/*
	 * Page index of the table, so a lookup binary-searches a handful of rows instead of
	 * the whole table (whose misses dominate at sampling rates, caches being cold):
	 * pages[page_start + i] is the first row at or after page first_page + i, i up to and
	 * including nr_pages (then row_count). nr_pages == 0: search the whole table.
	 */
	__u32 page_start;
	__u32 nr_pages;
	__u32 first_page;	/* vaddr >> 12 of the table's first row */
	__u32 pad;
};

/* The per-process index: mappings sorted by start. */
struct unwind_proc {
	__u32 nr;
	__u32 pad;
	struct unwind_map maps[UNWIND_MAX_MAPS];
};

/* Entries per CPU of the BPF unwinder's row cache (a power of two; 16 bytes each). */
#define ROW_CACHE_SIZE 2048

/*
 * flags of a ustack_val: set when the BPF unwinder built it, so its runtime frames
 * (bpf/runtime.h) are its own. A stack bpf_get_stack() read through frame pointers has none:
 * a value there that is not a user address is garbage read as a return address, and user
 * space cuts the stack at it rather than take it for an interpreter's frame.
 */
#define USTACK_UNWOUND 1

/* User addresses are below 2^47 (2^56 with five-level page tables): a larger value is not one. */
#define USER_ADDR_BITS 56

/* A stack stored under flamed's own 64-bit stack id (a hash of it). */
struct ustack_val {
	__u32 n;
	__u32 flags;
	__u64 ips[127];
};

#endif
