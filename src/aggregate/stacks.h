/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 2, aggregate: the drained (key, count, stacks) of every generation summed by content.
 * Stack ids are reused between generations, so raw stacks are interned by their addresses and
 * samples keyed by (process, thread name, user stack, kernel stack).
 */
#ifndef FLAMED_STACKS_H
#define FLAMED_STACKS_H

#include <stddef.h>
#include <stdint.h>

#define STACKS_COMM_LEN 16

struct stacks_sample {
	uint32_t tgid;
	uint32_t ustack;	/* raw stack id, 0 = none */
	uint32_t kstack;	/* raw stack id, 0 = none */
	uint32_t pad;
	char comm[STACKS_COMM_LEN];
	char pcomm[STACKS_COMM_LEN];
	uint64_t cgroup;	/* cgroup v2 id, 0 = not recorded */
	uint64_t count;
};

struct stacks;

/*
 * Default bound on an aggregate's memory (one window's distinct stacks): 64 MiB holds about
 * 200,000 distinct samples of 20-frame stacks. Past it new stacks are refused and counted;
 * those already held still add up.
 */
#define STACKS_MAX_BYTES (64u << 20)

struct stacks *stacks__new(void);
void stacks__free(struct stacks *st);
void stacks__set_max_bytes(struct stacks *st, size_t max_bytes);
/*
 * Adds count samples; stacks leaf first as BPF returns them. 0, -ENOSPC past the memory bound
 * or -ENOMEM; refused samples are counted in stacks__refused.
 */
int stacks__add(struct stacks *st, uint32_t tgid, const char *comm, const char *pcomm,
		const uint64_t *ustack, int nu, const uint64_t *kstack, int nk, uint64_t count);
/* The same, for a thread of cgroup v2 id cgroup (0: not recorded). */
int stacks__add_cgroup(struct stacks *st, uint64_t cgroup, uint32_t tgid, const char *comm,
		       const char *pcomm, const uint64_t *ustack, int nu, const uint64_t *kstack,
		       int nk, uint64_t count);
size_t stacks__nr_samples(const struct stacks *st);
const struct stacks_sample *stacks__sample(const struct stacks *st, size_t i);
/* Frames of raw stack id (leaf first). */
const uint64_t *stacks__raw(const struct stacks *st, uint32_t id, uint32_t *n);
size_t stacks__nr_raw(const struct stacks *st);
uint64_t stacks__total(const struct stacks *st);
/* Samples refused since stacks__new (bound reached, or no memory). */
uint64_t stacks__refused(const struct stacks *st);
/*
 * Empties the aggregate (a new window). Keeps allocated memory for the next window, but
 * frees arrays (of 1 MiB or more) this window used less than a quarter of.
 */
void stacks__reset(struct stacks *st);

#endif
