/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ruby frames: what the loader (src/runtime/ruby.c) tells the BPF unwinder about a Ruby process
 * (YARV, CRuby 3.1), and how a Ruby frame is stored among the native return addresses.
 *
 * The BPF unwinder (bpf/ruby_unwind.h) walks native frames; when one is inside rb_vm_exec (every
 * entry into the VM loop goes through it: the script, a method or a block called from C) it
 * emits, in place of that activation, the Ruby frames it runs (leaf first): the control frames of
 * the running execution context from its cfp up (vm_core.h: RUBY_VM_PREVIOUS_CONTROL_FRAME is
 * cfp + 1), C frames left out (their native frames are in the stack already), up to and
 * including the frame flagged VM_FRAME_FLAG_FINISH, the first of that activation; the next
 * rb_vm_exec further up goes on from the frame after it.
 */
#ifndef FLAMED_BPF_RUBY_H
#define FLAMED_BPF_RUBY_H

#include "runtime.h"

/* A Ruby frame: the rb_iseq_t's address and the pc's instruction index (0: unknown). */
#define RUBY_FRAME(iseq, idx) RUNTIME_FRAME_T(RUNTIME_TAG_RUBY, iseq, idx)
#define RUBY_FRAME_IS(v) (RUNTIME_FRAME_TAG_OF(v) == RUNTIME_TAG_RUBY)

/* vm_core.h (3.1): ep[VM_ENV_DATA_INDEX_FLAGS] of a control frame. */
#define RUBY_FRAME_MAGIC_MASK 0x7fff0001U
#define RUBY_FRAME_MAGIC_METHOD 0x11110001U
#define RUBY_FRAME_MAGIC_DUMMY 0x79990001U
#define RUBY_FRAME_FLAG_FINISH 0x0020U
#define RUBY_FRAME_FLAG_CFRAME 0x0080U

/* Offsets (bytes) for one Ruby version; src/runtime/ruby.c cites them. */
struct ruby_offsets {
	__u16 ractor_running_ec;	/* rb_ractor_t.threads.running_ec */
	__u16 ec_thread;		/* rb_execution_context_t.thread_ptr */
	__u16 th_tid;			/* rb_thread_t.tid (Linux thread id, an int) */
	__u16 cfp_size;			/* sizeof(rb_control_frame_t) */
	__u16 cfp_pc, cfp_iseq, cfp_ep;	/* rb_control_frame_t.pc, .iseq, .ep */
	__u16 iseq_body;		/* rb_iseq_t.body */
	__u16 body_encoded;		/* rb_iseq_constant_body.iseq_encoded */
	__u16 th_ec;			/* rb_thread_t.ec (its current ec; < th_tid) */
	__u16 ractor_threads;		/* rb_ractor_t.threads.set: rb_thread_t.lt_node at 0 */
	__u16 pad;
};

/*
 * A method's iseq in one process, key of ruby_methods: its value is what a control frame running
 * it held at ep[VM_ENV_DATA_INDEX_ME_CREF] (-2), the callable method entry (or an imemo_svar
 * holding it), from which src/runtime/ruby.c reads the method's owner: "Outer#mid".
 */
struct ruby_method_key {
	__u32 tgid;
	__u32 pad;
	__u64 iseq;
};

/* One Ruby process, keyed by tgid in the ruby_procs map. */
struct ruby_proc {
	__u64 main_ractor;	/* address of ruby_single_main_ractor (a pointer) */
	__u64 exec_start, exec_end;	/* rb_vm_exec in the process */
	struct ruby_offsets off;
};

#endif
