/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PHP frames: what the loader (src/runtime/php.c) tells the BPF unwinder about a PHP process
 * (Zend VM), and how a PHP frame is stored among the native return addresses of a user stack.
 *
 * The BPF unwinder (bpf/php_unwind.h) walks native frames; when one is inside execute_ex (the
 * Zend VM's loop) it emits, in place of that activation, the PHP functions it runs (leaf
 * first), found from executor_globals.current_execute_data. User-to-user calls stay in one
 * activation of execute_ex; a frame flagged ZEND_CALL_TOP is the first of its activation (the
 * script, or a function called from C: a callback of array_map, a destructor).
 */
#ifndef FLAMED_BPF_PHP_H
#define FLAMED_BPF_PHP_H

#include "runtime.h"

/* A PHP frame: the zend_function's address and the line running (0: unknown, or > 65535). */
#define PHP_FRAME(func, line) RUNTIME_FRAME_T(RUNTIME_TAG_PHP, func, line)
#define PHP_FRAME_IS(v) (RUNTIME_FRAME_TAG_OF(v) == RUNTIME_TAG_PHP)

/* Zend/zend_compile.h (PHP 7.0 to 8.4): call_info flags in Z_TYPE_INFO(EX(This)), func types. */
#define PHP_ZEND_CALL_TOP (1U << 17)
#define PHP_ZEND_INTERNAL_FUNCTION 1
#define PHP_ZEND_USER_FUNCTION 2
#define PHP_ZEND_EVAL_CODE 4

/* Offsets (bytes) for one PHP version; src/runtime/php.c cites them. */
struct php_offsets {
	__u16 eg_current;	/* zend_executor_globals.current_execute_data */
	__u16 ed_opline;	/* zend_execute_data.opline */
	__u16 ed_func;		/* .func */
	__u16 ed_call_info;	/* .This.u1.type_info (ZEND_CALL_INFO) */
	__u16 ed_prev;		/* .prev_execute_data */
	__u16 fn_type;		/* zend_function.type, a byte */
	__u16 op_lineno;	/* zend_op.lineno, a u32 */
	__u16 pad;
};

/* One PHP process (non-ZTS), keyed by tgid in the php_procs map. */
struct php_proc {
	__u64 eg;		/* address of executor_globals */
	__u64 exec_start, exec_end;	/* execute_ex in the process */
	struct php_offsets off;
};

#endif
