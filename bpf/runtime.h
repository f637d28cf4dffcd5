/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Language runtime frames in a user stack (bpf/python.h, bpf/php.h, bpf/v8.h, bpf/ruby.h,
 * bpf/perl.h, bpf/hotspot.h): a word the BPF unwinder stores among native return addresses in place of an
 * interpreter loop's activation.
 *
 * Top nibble: the runtime's tag, 2 to 7; then the runtime's object (a code object, a function)
 * address / 8 (44 bits: user addresses are below 2^47); then 16 bits the runtime fills (an
 * instruction index, a line; 0: unknown).
 *
 * Why 3 to 7: a tagged word must never be a canonical user or kernel address. User addresses
 * are below 2^56 even with five-level page tables (sampler__user_frames and USER_ADDR_BITS cut
 * frame-pointer stacks there), kernel ones have the top bits all set: any top nibble from 1 to
 * 7 is neither. 4 to 7 (bit 62 set) came first; Perl, the fifth runtime, takes 3 rather than 8
 * so that bit 63 stays clear in every tagged word: symbolize.c's address cache keeps its leaf
 * flag there, and a word with bit 63 set reads as a (sign-extended) kernel-half value.
 * HotSpot's interpreted Java frames, the sixth, take 2 for the same reason.
 */
#ifndef FLAMED_BPF_RUNTIME_H
#define FLAMED_BPF_RUNTIME_H

enum runtime_tag {
	RUNTIME_TAG_HOTSPOT = 2,
	RUNTIME_TAG_PERL = 3,
	RUNTIME_TAG_RUBY = 4,
	RUNTIME_TAG_PYTHON = 5,
	RUNTIME_TAG_PHP = 6,
	RUNTIME_TAG_V8 = 7,
};

#define RUNTIME_FRAME_T(tag, obj, low) \
	((__u64)(tag) << 60 | ((obj) >> 3 & 0xfffffffffffULL) << 16 | ((low) & 0xffff))
/* Tags 2 to 7: the subtraction wraps below 2. */
#define RUNTIME_FRAME_IS(v) (((__u64)(v) >> 60) - 2 < 6)
#define RUNTIME_FRAME_TAG_OF(v) ((__u64)(v) >> 60)
#define RUNTIME_FRAME_CODE(v) (((__u64)(v) >> 16 & 0xfffffffffffULL) << 3)
#define RUNTIME_FRAME_INSTR(v) ((v) & 0xffff)

#endif
