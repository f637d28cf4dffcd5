/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Language runtime frames in a user stack (bpf/python.h, bpf/php.h, bpf/v8.h, bpf/ruby.h): a
 * word the BPF unwinder stores among native return addresses in place of an interpreter loop's
 * activation.
 *
 * Top nibble: the runtime's tag, 4 to 7 (bit 62 set, bit 63 clear: never a canonical user or
 * kernel address); then the runtime's object (a code object, a function) address / 8 (44
 * bits: user addresses are below 2^47); then 16 bits the runtime fills (an instruction index,
 * a line; 0: unknown).
 */
#ifndef FLAMED_BPF_RUNTIME_H
#define FLAMED_BPF_RUNTIME_H

enum runtime_tag {
	RUNTIME_TAG_RUBY = 4,
	RUNTIME_TAG_PYTHON = 5,
	RUNTIME_TAG_PHP = 6,
	RUNTIME_TAG_V8 = 7,
};

#define RUNTIME_FRAME_T(tag, obj, low) \
	((__u64)(tag) << 60 | ((obj) >> 3 & 0xfffffffffffULL) << 16 | ((low) & 0xffff))
#define RUNTIME_FRAME_IS(v) ((__u64)(v) >> 62 == 1)
#define RUNTIME_FRAME_TAG_OF(v) ((__u64)(v) >> 60)
#define RUNTIME_FRAME_CODE(v) (((__u64)(v) >> 16 & 0xfffffffffffULL) << 3)
#define RUNTIME_FRAME_INSTR(v) ((v) & 0xffff)

#endif
