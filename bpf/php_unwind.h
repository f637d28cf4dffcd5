/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PHP frames in the BPF unwinder: included by profile.bpf.c after struct uw_state (types in
 * bpf/php.h). A zend_execute_data is read at once; its function's type (one byte) and the
 * line of the opline it saved are two more reads a frame.
 *
 * The line of the innermost frame: Debian's execute_ex is the hybrid VM with its globals in
 * registers (r14 execute_data, r15 opline; `mov (%rdi),%r15` then `jmp *(%r15)` at its
 * start), and EX(opline) is only stored before calls (SAVE_OPLINE). So when the sample's own
 * instruction is in execute_ex and r14 is the frame, r15 is the opline running.
 */

/* PHP processes (src/runtime/php.c): where executor_globals is and its layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct php_proc);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} php_procs SEC(".maps");

#define PHP_ED_READ 56	/* zend_execute_data up to prev_execute_data (8.2: 48 + 8) */
#define PHP_BUF_U64(st, off) (*(__u64 *)((st)->php_buf + ((off) & 63)))

/* Sets up the PHP part of st for a process's stack whose sample is at (ip, sp). */
static __always_inline void php_begin(struct uw_state *st, __u32 tgid, __u64 ip, __u64 sp)
{
	struct php_proc *php = bpf_map_lookup_elem(&php_procs, &tgid);
	struct pt_regs *regs;
	__u64 ed;

	st->php_active = 0;
	st->php_next = 0;
	st->php_frames = 0;
	st->php_exec_start = 0;
	st->php_exec_end = 0;
	st->php_leaf_ed = 0;
	st->php_leaf_opline = 0;
	if (!php)
		return;
	ed = user_u64(php->eg + php->off.eg_current);
	st->php_next = ed;
	st->php_exec_start = php->exec_start;
	st->php_exec_end = php->exec_end;
	st->php_off = php->off;
	if (!ed || ip < php->exec_start || ip >= php->exec_end)
		return;
	/* The registers of the sampled user instruction itself (not a switch's saved ones). */
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (BPF_CORE_READ(regs, ip) == ip && BPF_CORE_READ(regs, sp) == sp &&
	    BPF_CORE_READ(regs, r14) == ed) {
		st->php_leaf_ed = ed;
		st->php_leaf_opline = BPF_CORE_READ(regs, r15);
	}
}

/*
 * 1 when pc is in execute_ex: its PHP frames are emitted from the next step on. A global
 * function: its caller's verifier states do not multiply with its comparisons.
 */
__noinline int php_enter(struct uw_state *st, __u64 pc)
{
	if (!st || pc < st->php_exec_start || pc >= st->php_exec_end)
		return 0;
	st->py_cur = st->php_next;
	st->php_next = 0;
	st->php_active = 1;
	st->rb_active = 0;
	st->pl_active = 0;
	return 1;
}

/*
 * Emits the PHP frame st->py_cur (the interpreters' shared cursor) when it runs PHP code, and
 * moves to its caller: in the same activation of execute_ex (py_cur), or, past a ZEND_CALL_TOP frame, the next one (php_next).
 * Internal functions' frames are left out: their native frames are in the stack already.
 */
__noinline int php_step(struct uw_state *st)
{
	struct php_offsets *off;
	__u64 ed, func, opline, prev, p;
	__u32 n, info, line = 0;
	__u8 type = 0;

	if (!st)
		return 0;
	ed = st->py_cur;
	n = st->stack.n;
	st->py_cur = 0;
	off = &st->php_off;
	if (n >= MAX_STACK_DEPTH)
		return 0;
	if (bpf_probe_read_user(st->php_buf, PHP_ED_READ, (void *)ed)) {
		stat_inc(STAT_PHP_READ);
		st->php_next = 0;
		return 0;
	}
	opline = PHP_BUF_U64(st, off->ed_opline);
	func = PHP_BUF_U64(st, off->ed_func);
	info = *(__u32 *)(st->php_buf + (off->ed_call_info & 63));
	prev = PHP_BUF_U64(st, off->ed_prev);
	if (func && bpf_probe_read_user(&type, 1, (void *)(func + off->fn_type))) {
		stat_inc(STAT_PHP_READ);
		st->php_next = 0;
		return 0;
	}
	if (type != PHP_ZEND_USER_FUNCTION && type != PHP_ZEND_EVAL_CODE) {
		/* An internal function's frame (or none): its caller, in this activation. */
		st->py_cur = prev;
		return 0;
	}
	if (ed == st->php_leaf_ed && st->php_leaf_opline) {
		opline = st->php_leaf_opline;
		st->php_leaf_ed = 0;
	}
	if (opline && bpf_probe_read_user(&line, 4, (void *)(opline + off->op_lineno)))
		line = 0;
	if (line > 0xffff)
		line = 0;
	p = PHP_FRAME(func, line);
	st->stack.ips[n & 127] = p;
	st->stack.n = n + 1;
	st->hash = (st->hash ^ p) * 0x100000001b3ULL;
	st->hash ^= st->hash >> 29;
	st->php_frames++;
	if (info & PHP_ZEND_CALL_TOP)
		st->php_next = prev;	/* the first frame of this activation of execute_ex */
	else
		st->py_cur = prev;
	return 0;
}
