/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HotSpot frames in the BPF unwinder (bpf/hotspot.h says what they are), included by
 * profile.bpf.c after the unwinder's state and helpers.
 */
#ifndef FLAMED_BPF_HOTSPOT_UNWIND_H
#define FLAMED_BPF_HOTSPOT_UNWIND_H

/* Processes with a JVM (src/runtime/hotspot.c): their code heaps and CodeBlob layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct hotspot_proc);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} hotspot_procs SEC(".maps");

/*
 * The interpreter's bytecode pointer register (r13 on x86_64: templateTable's rbcp) of the
 * sampled instruction at (ip, sp), when the registers are that instruction's (not a switch's
 * saved ones); 0 otherwise.
 */
static __always_inline __u64 hotspot_leaf_bcp(__u64 ip, __u64 sp)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	if (BPF_CORE_READ(regs, ip) != ip || BPF_CORE_READ(regs, sp) != sp)
		return 0;
	return BPF_CORE_READ(regs, r13);
}

/*
 * The stack bytes of the frame running pc in the code cache, when its blob has a frame size
 * (compiled code, runtime stubs): the CFA is rsp plus that. 0 when the blob keeps a frame
 * pointer (the interpreter, the call stub) or pc is not found in a blob (frame pointers then).
 */
static __always_inline int hotspot_frame_size(struct uw_state *st, __u64 pc)
{
	struct hotspot_heap h = {};
	__u64 idx, block;
	__u32 i, k, log2;
	__s32 v[2];
	__u8 b;

	if (!st)
		return 0;
	log2 = st->hs.log2_seg;
	if (log2 < 4 || log2 > 16)
		return 0;
	for (i = 0; i < HOTSPOT_MAX_HEAPS; i++) {
		if (i >= st->hs.nr_heaps)
			return 0;
		if (pc >= st->hs.heaps[i].low && pc < st->hs.heaps[i].high) {
			h = st->hs.heaps[i];
			break;
		}
	}
	if (!h.high)
		return 0;
	idx = (pc - h.low) >> log2;
	for (k = 0; k < HOTSPOT_MAX_HOPS; k++) {
		if (bpf_probe_read_user(&b, 1, (void *)(h.segmap + idx)) || b == 0xff)
			return 0;
		if (!b)
			break;
		if (b > idx)
			return 0;
		idx -= b;
	}
	if (k == HOTSPOT_MAX_HOPS)
		return 0;
	block = h.low + (idx << log2) + st->hs.block_hdr;
	/* _size then _frame_size would do two reads; both ints, read one at a time. */
	if (bpf_probe_read_user(&v[0], 4, (void *)(block + st->hs.off_size)) ||
	    bpf_probe_read_user(&v[1], 4, (void *)(block + st->hs.off_frame_size)))
		return 0;
	if (v[0] <= 0 || pc >= block + v[0])
		return 0;
	if (v[1] <= 0 || v[1] > 8192)
		return 0;
	return v[1] * 8;
}

/*
 * Steps from the frame running pc in the code cache to its caller when its blob has a frame
 * size: 1 when done (st->ip 0 and truncated set when a read failed or the frame does not
 * grow upwards: the loop stops there), 0 to unwind it by frame pointers. A global function:
 * verified once, out of the unwinding loop's states (inlined there it cost 14k instructions).
 */
__noinline int hotspot_step(struct uw_state *st, __u64 pc)
{
	__u64 cfa, bp, ra;
	int fs;

	if (!st || !st->hs.code_end || pc < st->hs.code_start || pc >= st->hs.code_end)
		return 0;
	fs = hotspot_frame_size(st, pc);
	if (fs <= 0)
		return 0;
	cfa = st->sp + fs;
	if (stack_word(st, cfa - 16, &bp) || stack_word(st, cfa - 8, &ra) || cfa <= st->sp) {
		st->truncated = 1;
		st->ip = 0;
		return 1;
	}
	st->hs_frames++;
	st->sp = cfa;
	st->bp = bp;
	st->ip = ra;
	return 1;
}

#endif
