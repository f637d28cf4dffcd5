/* SPDX-License-Identifier: GPL-2.0-only */
/* Types shared by bpf/profile.bpf.c and the loader: fixed-size fields only. */
#ifndef FLAMED_BPF_PROFILE_H
#define FLAMED_BPF_PROFILE_H

#include "unwind.h"

#define TASK_COMM_LEN 16
#define MAX_STACK_DEPTH 127

/* One counted stack: what the in-kernel counts map is keyed by. */
struct sample_key {
	__u32 tgid;
	__u32 state;		/* enum offcpu_state: 0 on-CPU sample, else off-CPU time in ns */
	/*
	 * Stacks are stored by content hash in the generation's ustacks map; 0 = none (a kernel
	 * thread's user stack, a sample in user mode's kernel stack) or lost (see stats).
	 */
	__u64 ustack_hash;
	__u64 kstack_hash;
	char comm[TASK_COMM_LEN];	/* thread name */
	char pcomm[TASK_COMM_LEN];	/* process (group leader) name */
	__u64 cgroup_id;	/* cgroup v2 id of the thread when record_cgroup is set, else 0 */
};

/* A new user stack with language runtime frames (the new_stacks ring buffer). */
struct new_stack {
	__u32 tgid;
	__u32 pad;
	struct ustack_val stack;
};

/* Depth of the cgroup v2 hierarchy searched for a --cgroup target (level 0 is the root). */
#define MAX_CGROUP_LEVEL 32

/* Indexes of the per-CPU statistics array. */
enum stat_idx {
	STAT_SAMPLES = 0,	/* samples taken for profiled tasks */
	STAT_IDLE,		/* samples of the idle task, not counted */
	STAT_FILTERED,		/* samples of tasks outside the profiled set */
	STAT_COUNTS_FULL,	/* lost: counts map full */
	STAT_USTACK_LOST,	/* user stack id failed (bucket collision or fault) */
	STAT_KSTACK_LOST,	/* kernel stack id failed */
	STAT_DWARF,		/* user stacks unwound with unwind tables */
	STAT_DWARF_FP,		/* frames unwound with frame pointers inside a DWARF unwind */
	STAT_DWARF_TRUNC,	/* DWARF unwinds stopped by a bad read, a loop or the depth cap */
	STAT_USTACKS_FULL,	/* lost: ustacks map full */
	STAT_OFFCPU_SWITCHES,	/* switch-outs of profiled tasks recorded (bpf/offcpu.h) */
	STAT_OFFCPU_SKIPPED,	/* switch-outs not recorded by --offcpu-sample */
	STAT_OFFCPU_SHORT,	/* off-CPU intervals below --offcpu-min-us */
	STAT_OFFCPU_SHORT_NS,	/* their total time (scaled like the counted ones) */
	STAT_OFFCPU_NS,		/* off-CPU time counted */
	STAT_PY_STACKS,		/* user stacks with Python frames */
	STAT_PY_NO_THREAD,	/* Python process samples whose thread state was not found */
	STAT_PY_READ,		/* Python frame walks cut by a failed read of the process */
	STAT_PHP_STACKS,	/* user stacks with PHP frames */
	STAT_PHP_READ,		/* PHP frame walks cut by a failed read of the process */
	STAT_V8_STACKS,		/* user stacks with JavaScript (V8) frames */
	STAT_V8_READ,		/* JavaScript frames left native: their JSFunction unreadable */
	STAT_NEW_STACKS_LOST,	/* new runtime stacks not announced: the ring buffer was full */
	STAT_RUBY_STACKS,	/* user stacks with Ruby frames */
	STAT_RUBY_READ,		/* Ruby frame walks cut by a failed read of the process */
	STAT_RUBY_NOT_RUNNING,	/* Ruby samples of a thread not holding the GVL: native only */
	STAT_PERL_STACKS,	/* user stacks with Perl frames */
	STAT_PERL_READ,		/* Perl frame walks cut by a failed read of the process */
	STAT_PERL_OTHER_THREAD,	/* Perl samples of a thread other than the main one: native only */
	STAT_HOTSPOT_STACKS,	/* user stacks with compiled Java frames unwound by frame size */
	STAT_RUBY_METHODS_LOST,	/* Ruby method entries not kept (ruby_methods full, or no memory) */
	STAT_MAX,
};

/*
 * How a task was switched out: a frame above its off-CPU stack, so waiting for a lock or I/O
 * and waiting for a CPU are told apart. 0 is an on-CPU sample.
 */
enum offcpu_state {
	OFFCPU_NONE = 0,
	OFFCPU_BLOCKED,		/* TASK_INTERRUPTIBLE: sleeps, pipes, futexes, poll */
	OFFCPU_UNINTERRUPTIBLE,	/* TASK_UNINTERRUPTIBLE: mostly disk I/O */
	OFFCPU_PREEMPTED,	/* still runnable: waiting for a CPU */
	OFFCPU_STOPPED,		/* stopped or traced */
	OFFCPU_STATE_MAX,
};

/*
 * The state as a frame: the loader puts this address as the leaf of an off-CPU key's kernel
 * stack. The last page of the address space holds no code, so no kernel symbol is confused
 * with it; the symbolizer names it ("[blocked]", ...).
 */
#define OFFCPU_STATE_ADDR(s) (0xffffffffffffff00ULL | (s))
#define OFFCPU_IS_STATE_ADDR(a) (((a) & ~0xffULL) == 0xffffffffffffff00ULL)

#endif
