/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Python frames: what the loader (src/runtime/python.c) tells the BPF unwinder about a CPython
 * process, and how a Python frame is stored among the native return addresses of a user stack.
 *
 * The BPF unwinder walks native frames; when one is inside _PyEval_EvalFrameDefault it emits,
 * in place of that activation, the Python frames it runs (leaf first), found from the thread's
 * PyThreadState. Offsets are facts from CPython's headers for each version (python.c cites
 * them), so one program serves every interpreter.
 */
#ifndef FLAMED_BPF_PYTHON_H
#define FLAMED_BPF_PYTHON_H

#include "runtime.h"

/* A Python frame: the code object and its instruction index + 1 (0: unknown). */
#define RUNTIME_FRAME_TAG RUNTIME_TAG_PYTHON
#define RUNTIME_FRAME(code, instr) RUNTIME_FRAME_T(RUNTIME_TAG_PYTHON, code, instr)
#define PY_FRAME_IS(v) (RUNTIME_FRAME_TAG_OF(v) == RUNTIME_TAG_PYTHON)

/* How frames of one _PyEval_EvalFrameDefault activation are found. */
enum py_frame_model {
	PY_MODEL_NONE = 0,
	PY_MODEL_FRAMEOBJ = 1,	/* 3.6-3.10: one PyFrameObject per activation, f_lasti an int */
	PY_MODEL_ENTRY = 2,	/* 3.11: _PyInterpreterFrame, the activation's first has is_entry */
	PY_MODEL_SHIM = 3,	/* 3.12+: an activation starts after a frame owned by the C stack */
};

#define PY_OWNED_BY_CSTACK 3	/* _PyInterpreterFrame.owner of 3.12+'s entry shim frames */

/* Offsets (bytes) for one interpreter; PY_NO_OFF where a version has no such field. */
#define PY_NO_OFF 0xffff

struct py_offsets {
	__u16 rt_interp_head;	/* _PyRuntimeState.interpreters.head */
	__u16 interp_threads;	/* PyInterpreterState.tstate_head / threads.head */
	__u16 ts_next;		/* PyThreadState.next */
	__u16 ts_thread_id;	/* PyThreadState.thread_id (pthread_self) */
	__u16 ts_frame;		/* PyThreadState.frame / cframe / current_frame */
	__u16 cframe_current;	/* _PyCFrame.current_frame (3.11, 3.12), else PY_NO_OFF */
	__u16 fr_code;		/* f_code / f_executable */
	__u16 fr_previous;	/* f_back / previous */
	__u16 fr_instr;		/* f_lasti (int) / prev_instr / instr_ptr (pointers) */
	__u16 fr_entry;		/* is_entry (3.11) / owner (3.12+), a byte */
	__u16 co_code;		/* PyCodeObject.co_code_adaptive (3.11+) */
	__u16 model;		/* enum py_frame_model */
	/*
	 * PyThreadState.interp where the runtime address is 3.6's _PyThreadState_Current (the
	 * thread state holding the GIL; 3.6 exports no interpreter list), 0 where it is
	 * _PyRuntime (3.7+).
	 */
	__u16 ts_interp;
};

/* One CPython process, keyed by tgid in the py_procs map. */
struct py_proc {
	__u64 runtime;		/* address of _PyRuntime (3.6: of _PyThreadState_Current) */
	__u64 eval_start, eval_end; /* _PyEval_EvalFrameDefault in the process */
	struct py_offsets off;
};

/* A thread's PyThreadState, found once and checked again at every use. */
struct py_thread {
	__u64 tstate;		/* 0: not found at time `when` (not looked for again for a while) */
	__u64 fsbase;
	__u64 when;
	__u64 head;		/* when not found: the interpreter's thread list then (its first) */
};

/* Threads walked in the interpreter's list to find the sampled one (newest first). */
#define PY_MAX_THREADS 256
/* A thread not found in the list is looked for again after this long. */
#define PY_RETRY_NS 200000000ULL

#endif
