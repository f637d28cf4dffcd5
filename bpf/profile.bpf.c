// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sampling half of flamed: a perf_event program run by every CPU's sampling timer. It
 * filters by process in the kernel, takes kernel and user stack ids and counts each
 * (process, thread name, user stack, kernel stack) key in a hash map.
 *
 * Maps come in two generations (counts0/stacks0, counts1/stacks1). The loader flips `gen`,
 * waits for running programs to finish (an ARRAY_OF_MAPS update makes the kernel wait for an
 * RCU grace period) and then drains the idle generation at leisure: no sample taken while it
 * reads is lost or counted twice.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "profile.h"

#define PF_KTHREAD 0x00200000
#define EEXIST 17

const volatile bool filter_pids = false;
const volatile bool include_idle = false;
const volatile bool follow_forks = false;

/* Which generation of maps the programs write; flipped by the loader. */
__u32 gen = 0;

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sample_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
};

struct stacks_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, 16384);
};

struct counts_map counts0 SEC(".maps");
struct counts_map counts1 SEC(".maps");
struct stacks_map stacks0 SEC(".maps");
struct stacks_map stacks1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, STAT_MAX);
} stats SEC(".maps");

/* Processes (tgids) being profiled when filter_pids is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 65536);
} targets SEC(".maps");

/* Only here so the loader can update it: that update waits for running BPF programs. */
struct barrier_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} barrier_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1);
	__array(values, struct barrier_inner);
} barrier SEC(".maps") = {
	.values = { &barrier_inner },
};

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline void count_key(void *counts, struct sample_key *key)
{
	__u64 one = 1, *v;
	long err;

	v = bpf_map_lookup_elem(counts, key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	err = bpf_map_update_elem(counts, key, &one, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* Another CPU inserted the same key between our lookup and update. */
		v = bpf_map_lookup_elem(counts, key);
		if (v) {
			__sync_fetch_and_add(v, 1);
			return;
		}
	}
	if (err)
		stat_inc(STAT_COUNTS_FULL);
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, pid = (__u32)id;
	struct task_struct *task;
	struct sample_key key = {};
	bool in_kernel, kthread;
	void *counts, *stacks;

	if (pid == 0 && !include_idle) {
		stat_inc(STAT_IDLE);
		return 0;
	}
	if (filter_pids && !bpf_map_lookup_elem(&targets, &tgid)) {
		stat_inc(STAT_FILTERED);
		return 0;
	}
	stat_inc(STAT_SAMPLES);

	if (*(volatile __u32 *)&gen) {
		counts = &counts1;
		stacks = &stacks1;
	} else {
		counts = &counts0;
		stacks = &stacks0;
	}

	task = (struct task_struct *)bpf_get_current_task();
	kthread = BPF_CORE_READ(task, flags) & PF_KTHREAD;
	/* The context only allows 8-byte reads; cs sits in the low bits of its word. */
	in_kernel = !(*(volatile __u64 *)((void *)&ctx->regs + offsetof(struct pt_regs, cs)) & 3);

	key.tgid = tgid;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	bpf_probe_read_kernel_str(key.pcomm, sizeof(key.pcomm), BPF_CORE_READ(task, group_leader, comm));

	key.kern_stack_id = -1;
	if (in_kernel) {
		key.kern_stack_id = bpf_get_stackid(ctx, stacks, 0);
		if (key.kern_stack_id < 0)
			stat_inc(STAT_KSTACK_LOST);
	}
	key.user_stack_id = -1;
	if (!kthread) {
		key.user_stack_id = bpf_get_stackid(ctx, stacks, BPF_F_USER_STACK);
		if (key.user_stack_id < 0)
			stat_inc(STAT_USTACK_LOST);
	}
	count_key(counts, &key);
	return 0;
}

/* Children of profiled processes are profiled too (command mode follows forks). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;

	if (!follow_forks || ptgid == ctgid)
		return 0;
	if (bpf_map_lookup_elem(&targets, &ptgid))
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	return 0;
}

/* Forget a process when its leader exits, so a reused pid is not profiled by mistake. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (filter_pids && task->pid == tgid)
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
