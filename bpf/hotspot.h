/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HotSpot (OpenJDK's JVM): what the loader (src/runtime/hotspot.c) tells the BPF unwinder about
 * a process that maps libjvm.so, read from the JVM's own self-description (gHotSpotVMStructs,
 * gHotSpotVMTypes), never assumed.
 *
 * JIT code (compiled methods, the interpreter, stubs) lives in the code cache: CodeHeaps, each
 * a reserved range cut into segments of 2^log2_seg bytes, with a segment map of one byte per
 * segment: 0xff free, 0 the first segment of a block, n > 0 "go back n segments" (hops, as
 * CodeHeap::find_block_for walks it). A block is a HeapBlock header then its CodeBlob, whose
 * _frame_size (words) is what a compiled frame takes on the stack: such a frame's CFA is
 * rsp + frame_size * 8, the return address at CFA - 8 and the caller's rbp at CFA - 16
 * (frame_x86.hpp: sender_sp_offset 2, link_offset 0 from the sender's sp - 2). Blobs with no
 * frame size (the interpreter, the call stub) keep rbp as a frame pointer: frame pointers.
 * Compiled frames are emitted as their native address: user space names it (the blob it falls
 * in). An interpreted frame (pc in the interpreter's code) keeps its Method* at rbp +
 * interp_method (frame_x86.hpp: interpreter_frame_method_offset, -3 words): the frame is
 * emitted as RUNTIME_FRAME_T(RUNTIME_TAG_HOTSPOT, Method*, bcp & 0xffff), named in user space
 * as compiled methods are. The bytecode pointer's low 16 bits give the bci exactly (a method
 * has at most 65535 bytes of bytecode, which follow its ConstMethod): a caller's is the one
 * saved in its frame at the call (interpreter_frame_bcp_offset, -8 words), the leaf's the
 * interpreter's register for it (r13) when it lies within 64 KiB of the saved one.
 */
#ifndef FLAMED_BPF_HOTSPOT_H
#define FLAMED_BPF_HOTSPOT_H

#include "runtime.h"

#define HOTSPOT_FRAME_IS(v) (RUNTIME_FRAME_TAG_OF(v) == RUNTIME_TAG_HOTSPOT)

/* The low 16 bits of a HotSpot frame: its bytecode pointer's. */
#define HOTSPOT_FRAME_BCP16(v) ((__u16)(v))

/* CodeHeaps kept (JDK 9+ has up to three: non-nmethods, profiled, non-profiled). */
#define HOTSPOT_MAX_HEAPS 4
/* Segment map hops followed before giving up (frame pointers then). */
#define HOTSPOT_MAX_HOPS 32

struct hotspot_heap {
	__u64 low, high;	/* the heap's reserved range: _memory's low and high boundaries */
	__u64 segmap;		/* its segment map: _segmap's low */
};

/* One HotSpot process, keyed by tgid in the hotspot_procs map. */
struct hotspot_proc {
	__u64 code_start, code_end;	/* CodeCache::_low_bound, _high_bound */
	struct hotspot_heap heaps[HOTSPOT_MAX_HEAPS];
	__u32 nr_heaps;
	__u16 log2_seg;		/* CodeHeap::_log2_segment_size */
	__u16 block_hdr;	/* sizeof(HeapBlock): the blob follows it */
	__u16 off_size;		/* CodeBlob::_size (int, bytes) */
	__u16 off_frame_size;	/* CodeBlob::_frame_size (int, words) */
	__s16 interp_method;	/* Method* of an interpreted frame: at rbp + this; 0: not named */
	__s16 interp_bcp;	/* its bytecode pointer as last saved: at rbp + this; 0: none */
	__u64 interp_start, interp_end;	/* the interpreter's code (AbstractInterpreter::_code) */
};

#endif
