/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Perl frames: what the loader (src/runtime/perl.c) tells the BPF unwinder about a Perl process
 * (perl 5.36, threaded: useithreads, MULTIPLICITY), and how a Perl frame is stored among the
 * native return addresses.
 *
 * The BPF unwinder (bpf/perl_unwind.h) walks native frames; when one is inside
 * Perl_runops_standard (the loop every Perl code runs in: the script, a sub called from C
 * through call_sv, a sort block) it emits, in place of that activation, the Perl subs of the
 * context stack it runs, leaf first: PL_curstackinfo->si_cxstack[si_cxix .. 0], then the
 * stackinfo before it (si_prev) when Perl was entered again from C with a stack of its own.
 * An activation ends at a CXt_SUB whose retop is NULL (cop.h: call_sv runs its sub with a
 * myop whose op_next is NULL, which pp_entersub stores as the return op: the first context of
 * a runops loop started from C) or at the bottom of a stackinfo; the next runops activation
 * further up goes on from there. The outermost one ends with the main program.
 */
#ifndef FLAMED_BPF_PERL_H
#define FLAMED_BPF_PERL_H

#include "runtime.h"

/* A Perl frame: the CV's address (PL_main_cv for the main program) and a line (0: unknown). */
#define PERL_FRAME(cv, line) RUNTIME_FRAME_T(RUNTIME_TAG_PERL, cv, line)
#define PERL_FRAME_IS(v) (RUNTIME_FRAME_TAG_OF(v) == RUNTIME_TAG_PERL)

/* cop.h (5.36): cx_type & CXTYPEMASK. */
#define PERL_CXTYPEMASK 0xf
#define PERL_CXT_SUB 9
#define PERL_CXT_FORMAT 10

/* Offsets (bytes) for one Perl version; src/runtime/perl.c cites them. */
struct perl_offsets {
	__u16 i_curcop;		/* PerlInterpreter.Icurcop (intrpvar.h) */
	__u16 i_curstackinfo;	/* PerlInterpreter.Icurstackinfo (i_curcop + 16) */
	__u16 si_cxstack;	/* struct stackinfo.si_cxstack */
	__u16 si_prev;		/* struct stackinfo.si_prev */
	__u16 si_cxix;		/* struct stackinfo.si_cxix (an I32) */
	__u16 cx_size;		/* sizeof(struct context) */
	__u16 cx_oldcop;	/* struct context.blk_oldcop */
	__u16 cx_retop;		/* struct context.blk_sub.retop */
	__u16 cx_cv;		/* struct context.blk_sub.cv */
	__u16 cop_line;		/* COP.cop_line (a line_t, 32 bits) */
	__u16 pad[2];
};

/* One Perl process, keyed by tgid in the perl_procs map. */
struct perl_proc {
	__u64 curinterp;	/* address of PL_curinterp (a pointer to the main interpreter) */
	__u64 main_cv_at;	/* address of the interpreter's Imain_cv, as an offset from it */
	__u64 runops_start, runops_end;	/* Perl_runops_standard in the process */
	struct perl_offsets off;
};

#endif
