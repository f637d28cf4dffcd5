/* SPDX-License-Identifier: GPL-2.0-only */
/* Types shared by bpf/profile.bpf.c and the loader: fixed-size fields only. */
#ifndef FLAMED_BPF_PROFILE_H
#define FLAMED_BPF_PROFILE_H

#define TASK_COMM_LEN 16
#define MAX_STACK_DEPTH 127

/* One counted stack: what the in-kernel counts map is keyed by. */
struct sample_key {
	__u32 tgid;
	__s32 user_stack_id;	/* < 0: none (kernel thread) or failed, see stats */
	__s32 kern_stack_id;	/* < 0: none (sample in user mode) or failed */
	__u32 pad;
	__u64 ustack_hash;	/* != 0: user stack unwound in BPF, in the ustacks map */
	char comm[TASK_COMM_LEN];	/* thread name */
	char pcomm[TASK_COMM_LEN];	/* process (group leader) name */
	__u64 cgroup_id;	/* cgroup v2 id of the thread when record_cgroup is set, else 0 */
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
	STAT_DWARF_TRUNC,	/* DWARF unwinds that stopped on a bad read or a loop */
	STAT_USTACKS_FULL,	/* lost: ustacks map full */
	STAT_MAX,
};

#endif
