/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * V8 frames in the BPF unwinder (bpf/v8.h says what they are), included by profile.bpf.c after
 * the unwinder's state and helpers. The OpenTelemetry eBPF profiler's V8 support does the same
 * (support/ebpf/v8_tracer.ebpf.c: "all the generated code uses frame pointers, and all the
 * interesting data is directly accessible via FP").
 */
#ifndef FLAMED_BPF_V8_UNWIND_H
#define FLAMED_BPF_V8_UNWIND_H

/* Processes with V8 (src/runtime/v8.c): where its builtins are and its frame layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct v8_proc);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} v8_procs SEC(".maps");

/* V8's tags (v8dbg_HeapObjectTag, v8dbg_HeapObjectTagMask; src/runtime/v8.c checks them). */
#define V8_HEAP_TAG 1
#define V8_HEAP_TAG_MASK 3

/*
 * Emits the frame running ip (pc: the address looked up), whose frame pointer is st->bp: when
 * pc is HotSpot's interpreter, the Java method it runs (bpf/hotspot.h); when pc is V8 code (the embedded builtins, or a mapping without unwind table, as JIT code is) and
 * the frame is a JavaScript one, its function's SharedFunctionInfo; else the native address.
 * A global function that emits in both cases (its result is not branched on): verified once,
 * and the unwinding loop's states do not double.
 */
__noinline int v8_emit(struct uw_state *st, __u64 ip, __u64 pc)
{
	__u64 fp, marker = 0, fn = 0, sfi = 0, p, method = 0;
	__u32 n, kind = 0;

	if (!st)
		return 0;
	fp = st->bp;
	n = st->stack.n;
	if (n >= MAX_STACK_DEPTH)
		return 0;
	p = ip;
	if ((pc >= st->v8.code_start && pc < st->v8.code_end) ||
	    (pc >= st->v8.remap_start && pc < st->v8.remap_end))
		kind = V8_KIND_BUILTIN;
	else if (st->v8.code_end &&
		 (pc < st->last.start || pc >= st->last.end || !st->last.row_count))
		kind = V8_KIND_JIT;	/* st->last: the mapping of pc when there is one */
	if (st->hs.interp_method && pc >= st->hs.interp_start && pc < st->hs.interp_end && fp &&
	    !stack_word(st, fp + st->hs.interp_method, &method) && method && !(method & 7) &&
	    !(method >> USER_ADDR_BITS)) {
		__u64 bcp = 0;

		/* The saved bcp, or the leaf's live one when both are in one method's code. */
		if (st->hs.interp_bcp && !stack_word(st, fp + st->hs.interp_bcp, &bcp) && !n &&
		    st->hs_leaf_bcp && st->hs_leaf_bcp - bcp + 0xffff < 0x1ffff)
			bcp = st->hs_leaf_bcp;
		p = RUNTIME_FRAME_T(RUNTIME_TAG_HOTSPOT, method, bcp & 0xffff);
		st->hs_frames++;
	} else if (kind && fp && !stack_word(st, fp + st->v8.fp_marker, &marker) &&
		   !stack_word(st, fp + st->v8.fp_function, &fn) &&
		   (marker & V8_HEAP_TAG_MASK) == V8_HEAP_TAG &&
		   (fn & V8_HEAP_TAG_MASK) == V8_HEAP_TAG) {
		/* A type marker is a Smi (low bit 0): not a JavaScript frame. */
		if (bpf_probe_read_user(&sfi, sizeof(sfi),
					(void *)(fn - V8_HEAP_TAG + st->v8.fn_shared)))
			stat_inc(STAT_V8_READ);
		else if ((sfi & V8_HEAP_TAG_MASK) == V8_HEAP_TAG) {
			p = RUNTIME_FRAME_T(RUNTIME_TAG_V8, sfi - V8_HEAP_TAG, kind);
			st->v8_frames++;
		}
	}
	st->stack.ips[n & 127] = p;
	st->stack.n = n + 1;
	st->hash = (st->hash ^ p) * 0x100000001b3ULL;
	st->hash ^= st->hash >> 29;
	return 0;
}

#endif
