/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Off-CPU time, included by bpf/profile.bpf.c after its maps: where profiled threads wait.
 *
 * At a scheduler switch the task going out is still `current`: its kernel stack, its user
 * stack (the same DWARF unwinder as the sampler, from the user registers saved at kernel
 * entry), its name and how it left (blocked, uninterruptible, preempted, stopped) are kept in
 * its task storage with the time. When it comes back in, the time it was out is added to the
 * counts of the generation current then, under a key whose stacks are stored by content hash
 * in that generation's ustacks map: an interval may span any number of drains and still lands
 * whole in one. Threads still out when a window closes are counted up to then by offcpu_flush
 * (a task iterator the loader runs before each drain), so a thread blocked for the whole
 * profile still shows.
 *
 * Cost: a recorded switch unwinds a stack, like a sample. offcpu_sample = N records one
 * switch in N (at random) and counts it N times; intervals shorter than offcpu_min_ns are not
 * counted by stack, only summed into STAT_OFFCPU_SHORT_NS.
 *
 * A thread that comes back in while the iterator flushes it may have a few microseconds of
 * that interval counted twice: without BPF atomics (the object is built for BPF v1) the two
 * cannot be ordered, and the race needs the wake-up to hit the microsecond of the flush.
 */
#ifndef FLAMED_BPF_OFFCPU_H
#define FLAMED_BPF_OFFCPU_H

#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define __TASK_STOPPED 0x0004
#define __TASK_TRACED 0x0008

const volatile __u64 offcpu_min_ns = 0;
const volatile __u32 offcpu_sample = 1;	/* record 1 switch in N, counted N times */

/* A switched-out task: what its time is counted under when it comes back. */
struct offcpu_task {
	__u64 ts;		/* switch-out time (CLOCK_MONOTONIC ns); 0 = not recorded */
	__u64 khash, uhash;	/* stack ids in ustacks; 0 = none */
	__u32 state;		/* enum offcpu_state */
	__u32 tgid;
	char comm[TASK_COMM_LEN];
	char pcomm[TASK_COMM_LEN];
	struct ustack_val kst;
	struct ustack_val ust;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct offcpu_task);
} offcpu_tasks SEC(".maps");

static __always_inline __u32 offcpu_state_of(bool preempt, unsigned int prev_state)
{
	if (preempt || (prev_state & 0xff) == TASK_RUNNING)
		return OFFCPU_PREEMPTED;
	if (prev_state & TASK_UNINTERRUPTIBLE)
		return OFFCPU_UNINTERRUPTIBLE;
	if (prev_state & (__TASK_STOPPED | __TASK_TRACED))
		return OFFCPU_STOPPED;
	return OFFCPU_BLOCKED;
}

static __always_inline void offcpu_out(void *ctx, struct task_struct *prev, __u32 state)
{
	__u32 tgid = prev->tgid, pid = prev->pid;
	struct offcpu_task *v;
	struct uw_state *st;
	struct pt_regs *regs;
	long n;

	if (!pid)
		return;
	if ((prev->flags & PF_KTHREAD) && !include_idle)
		return;
	if (filter_pids && !bpf_map_lookup_elem(&targets, &tgid))
		return;
	if (filter_tids && !bpf_map_lookup_elem(&tid_targets, &pid))
		return;
	if (offcpu_sample > 1 && bpf_get_prandom_u32() % offcpu_sample) {
		stat_inc(STAT_OFFCPU_SKIPPED);
		v = bpf_task_storage_get(&offcpu_tasks, prev, NULL, 0);
		if (v)
			v->ts = 0;
		return;
	}
	v = bpf_task_storage_get(&offcpu_tasks, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return;
	stat_inc(STAT_OFFCPU_SWITCHES);
	v->state = state;
	v->tgid = tgid;
	bpf_get_current_comm(v->comm, sizeof(v->comm));
	*(__u64 *)&v->pcomm[0] = *(__u64 *)&prev->group_leader->comm[0];
	*(__u64 *)&v->pcomm[8] = *(__u64 *)&prev->group_leader->comm[8];

	/* Its leaf frames are this program's and the tracepoint's: the symbolizer drops them. */
	n = bpf_get_stack(ctx, v->kst.ips, sizeof(v->kst.ips), 0);
	v->kst.n = n > 0 ? (__u64)n / 8 : 0;
	v->khash = stack_hash(&v->kst, KSTACK_SEED);

	v->ust.n = 0;
	v->uhash = 0;
	if (!(prev->flags & PF_KTHREAD)) {
		st = NULL;
		if (dwarf_unwind) {
			regs = (struct pt_regs *)bpf_task_pt_regs(prev);
			st = unwind_user(tgid, BPF_CORE_READ(regs, ip), BPF_CORE_READ(regs, sp),
					 BPF_CORE_READ(regs, bp), UW_SLOT_SWITCH);
		}
		if (st) {
			if (!bpf_probe_read_kernel(&v->ust, sizeof(v->ust), &st->stack))
				v->uhash = st->hash;
		} else {
			n = bpf_get_stack(ctx, v->ust.ips, sizeof(v->ust.ips), BPF_F_USER_STACK);
			v->ust.n = n > 0 ? (__u64)n / 8 : 0;
			v->ust.flags = 0;
			v->uhash = stack_hash(&v->ust, USTACK_SEED);
		}
	}
	v->ts = bpf_ktime_get_ns();
}

/* Stores a stack of v under its id in this generation's ustacks; false when it is full. */
static __always_inline bool offcpu_store(void *ustacks, __u64 *id, struct ustack_val *st)
{
	long err;

	if (!*id || bpf_map_lookup_elem(ustacks, id))
		return true;
	err = bpf_map_update_elem(ustacks, id, st, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		stat_inc(STAT_USTACKS_FULL);
		return false;
	}
	return true;
}

/* Counts the time v was out, from its switch-out ts to now. */
static __always_inline void offcpu_count(struct offcpu_task *v, __u64 ts, __u64 now)
{
	struct sample_key key = {};
	void *counts, *ustacks;
	__u64 delta;

	if (!ts || now <= ts)
		return;
	delta = now - ts;
	if (offcpu_sample > 1)
		delta *= offcpu_sample;
	if (delta < offcpu_min_ns * (offcpu_sample > 1 ? offcpu_sample : 1)) {
		stat_inc(STAT_OFFCPU_SHORT);
		stat_add(STAT_OFFCPU_SHORT_NS, delta);
		return;
	}
	if (*(volatile __u32 *)&gen) {
		counts = &counts1;
		ustacks = &ustacks1;
	} else {
		counts = &counts0;
		ustacks = &ustacks0;
	}
	key.tgid = v->tgid;
	key.state = v->state;
	__builtin_memcpy(key.comm, v->comm, sizeof(key.comm));
	__builtin_memcpy(key.pcomm, v->pcomm, sizeof(key.pcomm));
	if (offcpu_store(ustacks, &v->khash, &v->kst))
		key.kstack_hash = v->khash;
	else
		stat_inc(STAT_KSTACK_LOST);
	if (offcpu_store(ustacks, &v->uhash, &v->ust))
		key.ustack_hash = v->uhash;
	else
		stat_inc(STAT_USTACK_LOST);
	stat_add(STAT_OFFCPU_NS, delta);
	count_key_n(counts, &key, delta);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct offcpu_task *v;
	__u64 ts;

	offcpu_out(ctx, prev, offcpu_state_of(preempt, prev_state));
	v = bpf_task_storage_get(&offcpu_tasks, next, NULL, 0);
	if (v && v->ts) {
		ts = v->ts;
		v->ts = 0;
		offcpu_count(v, ts, bpf_ktime_get_ns());
	}
	return 0;
}

/* Counts every thread still out up to now, and restarts its interval there. */
SEC("iter/task")
int offcpu_flush(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct offcpu_task *v;
	__u64 ts, now;

	if (!task)
		return 0;
	v = bpf_task_storage_get(&offcpu_tasks, task, NULL, 0);
	if (!v || !v->ts)
		return 0;
	ts = v->ts;
	now = bpf_ktime_get_ns();
	v->ts = now;
	offcpu_count(v, ts, now);
	return 0;
}

#endif
