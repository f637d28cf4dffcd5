/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1, sample: loads bpf/profile.bpf.c, opens one sampling perf event per online CPU,
 * keeps the set of profiled processes, and drains the in-kernel counts generation by
 * generation. The only file that includes the BPF skeleton.
 */
#ifndef FLAMED_SAMPLER_H
#define FLAMED_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/profile.h"

struct sampler_opts {
	uint32_t freq_hz;
	bool filter_pids;	/* only processes added with sampler__add_pid (and their children) */
	bool filter_tids;	/* and only threads added with sampler__add_tid */
	bool follow_forks;	/* children of profiled processes are profiled too */
	bool include_idle;
	uint32_t max_stacks;	/* entries of the counts and stack maps, per generation; 0:
				 * sampler__stacks_for_rate() */
	uint64_t drain_ns;	/* how often the caller drains (for the derived max_stacks) */
	const char *event;	/* "cpu-clock" (default) or "cycles" */
	const char *cpus;	/* CPU list sampled ("0-3,8"), NULL = every online CPU */
	bool dwarf;		/* unwind user stacks with tables where processes have an index */
	uint32_t unwind_rows;	/* capacity of the shared unwind-row array */
	uint32_t unwind_procs;	/* processes that can have an unwind index */
	bool filter_cgroups;	/* only tasks in cgroups added with sampler__add_cgroup, and below */
	uint32_t cgroup_max_level;	/* deepest level of those cgroups (root = 0) */
	bool record_cgroup;	/* keys carry the task's cgroup v2 id */
	bool oncpu;		/* sample on-CPU stacks (perf events at freq_hz) */
	bool offcpu;		/* count off-CPU time at scheduler switches (bpf/offcpu.h) */
	uint64_t offcpu_min_ns;	/* shorter intervals are only summed (STAT_OFFCPU_SHORT_NS) */
	uint32_t offcpu_sample;	/* record 1 switch in N, counted N times; 0 or 1 = all */
	bool announce_new_stacks;	/* with dwarf: sampler__new_stacks sees new runtime stacks */
};

struct sampler;

typedef int (*sampler_sample_fn)(void *ctx, const struct sample_key *key, uint64_t count,
				 const uint64_t *ustack, int nu, const uint64_t *kstack, int nk);

/*
 * Distinct stacks a generation must hold when none is asked for: every sample of four drain
 * periods (a drain late on a busy machine) at freq_hz on nr_cpus CPUs, a power of two from
 * 4,096 to 1,048,576; with off-CPU time at least 16,384 (switches are not bounded by the
 * rate).
 */
uint32_t sampler__stacks_for_rate(uint32_t freq_hz, int nr_cpus, uint64_t drain_ns, bool offcpu);

/* Opens and loads the BPF object; NULL with *err = -errno and a message logged. */
struct sampler *sampler__new(const struct sampler_opts *o, int *err);
int sampler__add_pid(struct sampler *s, uint32_t tgid);
/* Profiles one more thread (with filter_tids; its process must be added too); -E2BIG past 64. */
int sampler__add_tid(struct sampler *s, uint32_t tid);
/* Profiles the tasks of a cgroup v2 (by id) and of its descendants; -E2BIG past 64. */
int sampler__add_cgroup(struct sampler *s, uint64_t cgroup_id);
/* Attaches the fork/exit tracepoints and opens the sampling events on every online CPU. */
int sampler__attach(struct sampler *s);
/*
 * Switches generation and hands every counted key of the old one to fn, with its stacks
 * (leaf first). Keys whose stacks vanished are counted in *lost_drain. With off-CPU time,
 * threads still switched out are counted up to now first; an off-CPU key's count is in
 * nanoseconds and its kernel stack's leaf is OFFCPU_STATE_ADDR(key->state).
 */
int sampler__drain(struct sampler *s, sampler_sample_fn fn, void *ctx, uint64_t *lost_drain);
/* The next drain is the last: it does not wait for programs still running (a grace period). */
void sampler__end(struct sampler *s);
/* A user stack with language runtime frames, leaf first, as first met in a generation. */
typedef void (*sampler_new_stack_fn)(void *ctx, uint32_t tgid, const uint64_t *ustack, int n);
/*
 * With announce_new_stacks: an fd (epoll) readable when stacks with runtime frames were new
 * in the generation; -1 without. Such a stack is announced once a generation, at its first
 * sample, so that its code objects can be named while the process lives: a process gone
 * before the next drain keeps its names.
 */
int sampler__new_stacks_fd(struct sampler *s);
/* Hands the stacks announced since the last call to fn; 0 or -errno. */
int sampler__new_stacks(struct sampler *s, sampler_new_stack_fn fn, void *ctx);
/* Cumulative statistics summed over CPUs, indexed by enum stat_idx. */
int sampler__read_stats(struct sampler *s, uint64_t out[STAT_MAX]);
int sampler__nr_cpus(const struct sampler *s);
/* True when the process is profiled (always true without a pid filter). */
bool sampler__is_target(struct sampler *s, uint32_t tgid);
/* The unwind index map (tgid -> struct unwind_proc); -1 without DWARF unwinding. */
int sampler__unwind_procs_fd(struct sampler *s);
/* The V8 process map (tgid -> struct v8_proc, bpf/v8.h); -1 without DWARF unwinding. */
int sampler__v8_procs_fd(struct sampler *s);
/* The HotSpot process map (tgid -> struct hotspot_proc, bpf/hotspot.h); -1 without DWARF. */
int sampler__hotspot_procs_fd(struct sampler *s);
/* The CPython process map (tgid -> struct py_proc, bpf/python.h); -1 without DWARF unwinding. */
int sampler__python_procs_fd(struct sampler *s);
/* The PHP process map (tgid -> struct php_proc, bpf/php.h); -1 without DWARF unwinding. */
int sampler__php_procs_fd(struct sampler *s);
/* The Ruby process map (tgid -> struct ruby_proc, bpf/ruby.h); -1 without DWARF unwinding. */
int sampler__ruby_procs_fd(struct sampler *s);
/* ruby_methods: a method iseq's method entry, per process (bpf/ruby.h). */
int sampler__ruby_methods_fd(struct sampler *s);
/* The Perl process map (tgid -> struct perl_proc, bpf/perl.h); -1 without DWARF unwinding. */
int sampler__perl_procs_fd(struct sampler *s);
/*
 * The shared unwind-row array, mapped writable: its first *cap entries of *max (the mapping
 * grows with use, so that flamed's RSS does not count the unused part); NULL without DWARF
 * unwinding. Valid until sampler__unwind_reserve maps more.
 */
void *sampler__unwind_rows(struct sampler *s, uint32_t *cap, uint32_t *max);
/* The page index of those tables (u64 entries), mapped writable; NULL without DWARF. */
void *sampler__unwind_pages(struct sampler *s, uint32_t *cap, uint32_t *max);
/*
 * At least rows rows and pages page entries mapped: a mapping that is short is replaced by a
 * bigger one of the same memory (then ask for the mappings again). -ENOSPC past the maximum.
 */
/*
 * Where new chunks of the unwind arrays come from once flamed has no CAP_BPF left
 * (service/mapmaker.c): fn returns a BPF array's fd (value_size bytes, UNWIND_CHUNK entries,
 * mmapable) or -errno. Without one, the sampler makes them itself.
 */
typedef int (*sampler_chunk_fn)(void *ctx, uint32_t value_size);
void sampler__set_chunk_source(struct sampler *s, sampler_chunk_fn fn, void *ctx);
/* The most chunks the arrays can have (what a chunk source must be ready to make). */
uint32_t sampler__max_chunks(const struct sampler *s);
int sampler__unwind_reserve(struct sampler *s, uint32_t rows, uint32_t pages);
void sampler__free(struct sampler *s);

/*
 * How many of a stored user stack's n frames to keep: all when the BPF unwinder built it
 * (flags has USTACK_UNWOUND); otherwise those before the first value that is not a user
 * address, which frame pointers read from garbage and which could pass for a runtime frame.
 */
int sampler__user_frames(const uint64_t *ips, int n, uint32_t flags);

/*
 * The running kernel's name as the Makefile gives the one flamed was built on (min_btf.h):
 * its notes (which hold its build id) in hex, a newline, its BTF's size. 0 or -ENOSPC.
 */
int sampler__kernel_id(const unsigned char *notes, size_t n, long long btf_size, char *out,
		       size_t outlen);

/* Parses a CPU list such as "0-3,8,10-11" into a bitmap of up to max cpus; count or -EINVAL. */
int parse_cpu_list(const char *s, bool *cpus, int max);

#endif
