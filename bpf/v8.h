/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * V8 (Node.js) frames: what the loader (src/runtime/v8.c) tells the BPF unwinder about a process
 * whose binary carries V8's post-mortem metadata (the v8dbg_* symbols), and how a JavaScript
 * frame is stored among the native return addresses of a user stack.
 *
 * V8's generated code (the interpreter and other builtins embedded in the binary, and the JIT
 * code in anonymous executable memory) keeps a frame-pointer chain, so the native unwinder goes
 * through it. At such a frame the word at fp + fp_marker tells its kind: a Smi-tagged type marker
 * (entry, exit, stub frames) or, in a JavaScript frame, its context, a tagged heap pointer; the
 * JavaScript frame's JSFunction is at fp + fp_function. The unwinder emits, in place of the
 * native address, RUNTIME_FRAME_T(RUNTIME_TAG_V8, the function's SharedFunctionInfo, kind):
 * the SharedFunctionInfo is named in user space (its name and its script's).
 * The offsets are read from the binary's v8dbg_* symbols, never assumed.
 */
#ifndef FLAMED_BPF_V8_H
#define FLAMED_BPF_V8_H

#include "runtime.h"

#define V8_FRAME_IS(v) (RUNTIME_FRAME_TAG_OF(v) == RUNTIME_TAG_V8)

/* The low 16 bits of a V8 frame: where its code was. */
enum v8_frame_kind {
	V8_KIND_BUILTIN = 1,	/* embedded builtins: interpreted (Ignition) or a JS builtin */
	V8_KIND_JIT = 2,	/* anonymous executable memory: Sparkplug, Maglev, TurboFan code */
};

/* One V8 process, keyed by tgid in the v8_procs map. */
struct v8_proc {
	__u64 code_start, code_end;	/* the embedded builtins' code in the process */
	/*
	 * Their copy remapped near the JIT code (V8's short builtin calls: node 20 maps its
	 * own file's builtins again beside the code range and runs them there); 0, 0: none.
	 */
	__u64 remap_start, remap_end;
	__s16 fp_marker;	/* v8dbg_off_fp_context_or_frame_type */
	__s16 fp_function;	/* v8dbg_off_fp_function */
	__u16 fn_shared;	/* v8dbg_class_JSFunction__shared__SharedFunctionInfo */
	__u16 pad;
};

#endif
