/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Perl frames in the BPF unwinder: included by profile.bpf.c after struct uw_state (types in
 * bpf/perl.h). A context is read at once (80 bytes of 104 in 5.36); a sub's a second read,
 * its blk_oldcop's line (the caller's line, given to the next frame emitted).
 *
 * Which thread: the main interpreter (*PL_curinterp) only, and only in the process's main
 * thread, which runs it. A Perl built with ithreads gives each ithread an interpreter of its
 * own, found through pthread_getspecific(PL_thr_key): glibc-internal TLS, not read here. Other
 * threads (ithreads, a library's native threads) keep their native frames;
 * src/runtime/perl.c says once when a Perl process has several ithreads.
 */

/* Perl processes (src/runtime/perl.c): where PL_curinterp is and the layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct perl_proc);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} perl_procs SEC(".maps");

#define PL_CX_READ 80	/* struct context up to blk_sub.cv (72 + 8) */
#define PL_BUF_U64(st, off) (*(__u64 *)((st)->pl_buf + ((off) & 127)))
#define PL_MAX_CXIX (1 << 20)	/* a larger si_cxix is no context stack */

/* Reads stackinfo si into the cursor: its contexts, from the innermost. 0, or -1. */
static __always_inline int perl_load_si(struct uw_state *st, __u64 si)
{
	__s32 ix;

	if (!si || bpf_probe_read_user(st->pl_buf, 40, (void *)si))
		return -1;
	ix = *(__s32 *)(st->pl_buf + (st->pl_off.si_cxix & 63));
	if (ix >= PL_MAX_CXIX)
		return -1;
	st->pl_si = si;
	st->pl_cx = PL_BUF_U64(st, st->pl_off.si_cxstack);
	st->pl_prev = PL_BUF_U64(st, st->pl_off.si_prev);
	st->pl_ix = ix;
	return 0;
}

/*
 * Sets up the Perl part of st for the current task's stack: the innermost context of the
 * running stackinfo and PL_curcop's line, the leaf's.
 */
static __always_inline void perl_begin(struct uw_state *st, __u32 tgid)
{
	struct perl_proc *pl = bpf_map_lookup_elem(&perl_procs, &tgid);
	__u64 interp, w[3], cop;
	__u32 line = 0;

	st->pl_si = 0;
	st->pl_frames = 0;
	st->pl_active = 0;
	st->pl_after_sub = 0;
	st->pl_run_start = 0;
	st->pl_run_end = 0;
	if (!pl)
		return;
	if ((__u32)bpf_get_current_pid_tgid() != tgid) {
		stat_inc(STAT_PERL_OTHER_THREAD);
		return;
	}
	st->pl_off = pl->off;
	interp = user_u64(pl->curinterp);
	/* Icurcop, Icurstack, Icurstackinfo: three words in a row (intrpvar.h). */
	if (!interp || bpf_probe_read_user(w, sizeof(w), (void *)(interp + pl->off.i_curcop))) {
		stat_inc(STAT_PERL_READ);
		return;
	}
	cop = w[0];
	if (cop)
		bpf_probe_read_user(&line, 4, (void *)(cop + pl->off.cop_line));
	if (perl_load_si(st, w[2])) {
		stat_inc(STAT_PERL_READ);
		return;
	}
	st->pl_line = line;
	st->pl_main_cv = user_u64(interp + pl->main_cv_at);
	st->pl_run_start = pl->runops_start;
	st->pl_run_end = pl->runops_end;
}

/* 1 when pc is in Perl_runops_standard: its Perl frames are emitted from the next step on. */
__noinline int perl_enter(struct uw_state *st, __u64 pc)
{
	if (!st || !st->pl_si || pc < st->pl_run_start || pc >= st->pl_run_end)
		return 0;
	st->py_cur = 1;		/* a marker: the cursor is pl_si, pl_ix */
	st->php_active = 0;
	st->rb_active = 0;
	st->pl_active = 1;
	return 1;
}

static __always_inline void perl_emit(struct uw_state *st, __u64 cv, __u32 n)
{
	__u64 p = PERL_FRAME(cv, st->pl_line > 0xffff ? 0 : st->pl_line);

	st->stack.ips[n & 127] = p;
	st->stack.n = n + 1;
	st->hash = (st->hash ^ p) * 0x100000001b3ULL;
	st->hash ^= st->hash >> 29;
	st->pl_frames++;
}

/*
 * One context of the activation being emitted, leaf first: a sub (or format) is emitted with
 * the line its callee left (blk_oldcop of the context above it, PL_curcop's for the leaf);
 * other contexts (loops, blocks, evals) are stepped over. The activation ends (py_cur 0) past
 * a sub called from C (retop NULL), or at the bottom of a stackinfo, whose si_prev the next
 * activation goes on with; at the bottom of the first stackinfo, the main program ends it.
 */
__noinline int perl_step(struct uw_state *st)
{
	struct perl_offsets *off;
	__u64 cx, cv, retop, oldcop;
	__u32 n, line = 0;
	__u8 type;

	if (!st)
		return 0;
	n = st->stack.n;
	st->py_cur = 0;
	off = &st->pl_off;
	if (n >= MAX_STACK_DEPTH || !st->pl_si)
		return 0;
	if (st->pl_ix < 0) {
		if (!st->pl_prev) {
			if (st->pl_main_cv)
				perl_emit(st, st->pl_main_cv, n);
			st->pl_si = 0;
			return 0;
		}
		if (perl_load_si(st, st->pl_prev)) {
			stat_inc(STAT_PERL_READ);
			st->pl_si = 0;
			return 0;
		}
		/*
		 * A stackinfo's bottom ends a runops activation (a sort block's), but not right
		 * after a sub called from C on a stackinfo pushed for it (a MULTICALL block such
		 * as List::Util::first's, a sort sub, an overload handler: PUSHSTACKi, then the
		 * sub with a NULL retop): that sub's activation was the one that ended, and this
		 * one goes on with the stackinfo before.
		 */
		if (st->pl_after_sub)
			st->py_cur = 1;
		st->pl_after_sub = 0;
		return 0;
	}
	cx = st->pl_cx + (__u64)st->pl_ix * off->cx_size;
	st->pl_ix--;
	if (bpf_probe_read_user(st->pl_buf, PL_CX_READ, (void *)cx)) {
		stat_inc(STAT_PERL_READ);
		st->pl_si = 0;
		return 0;
	}
	type = st->pl_buf[0] & PERL_CXTYPEMASK;
	st->py_cur = 1;
	if (type != PERL_CXT_SUB && type != PERL_CXT_FORMAT)
		return 0;
	cv = PL_BUF_U64(st, off->cx_cv);
	retop = PL_BUF_U64(st, off->cx_retop);
	oldcop = PL_BUF_U64(st, off->cx_oldcop);
	perl_emit(st, cv, n);
	st->pl_after_sub = 0;
	if (oldcop)
		bpf_probe_read_user(&line, 4, (void *)(oldcop + off->cop_line));
	st->pl_line = line;
	if (type == PERL_CXT_SUB && !retop) {
		st->py_cur = 0;	/* the first context of this runops activation */
		st->pl_after_sub = 1;
	}
	return 0;
}
