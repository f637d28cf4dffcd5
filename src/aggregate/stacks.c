// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/stacks.h"
#include "base/util.h"

struct raw {
	uint32_t off;	/* into addrs */
	uint32_t n;
	uint64_t hash;
};

struct stacks {
	uint64_t *addrs;
	size_t nr_addrs, cap_addrs;
	struct raw *raws;	/* raws[0] unused: id 0 = no stack */
	size_t nr_raws, cap_raws;
	uint32_t *raw_idx;
	size_t raw_idx_cap;
	struct stacks_sample *samples;
	size_t nr_samples, cap_samples;
	uint32_t *sample_idx;	/* 1-based sample positions */
	size_t sample_idx_cap;
	uint64_t total;
	size_t max_bytes;	/* bound on what the arrays above hold */
	uint64_t refused;	/* samples not kept: the bound was reached (all windows) */
};

/* What the aggregate's arrays hold now. */
static size_t held_bytes(const struct stacks *st)
{
	return st->cap_addrs * sizeof(*st->addrs) + st->cap_raws * sizeof(*st->raws) +
	       st->raw_idx_cap * sizeof(*st->raw_idx) + st->cap_samples * sizeof(*st->samples) +
	       st->sample_idx_cap * sizeof(*st->sample_idx);
}

/* Rebuilds an index of 1-based ids at twice the size; hash_of gives each id's hash. */
static int rehash(uint32_t **idx, size_t *cap, size_t count,
		  uint64_t (*hash_of)(const struct stacks *, uint32_t), const struct stacks *st)
{
	size_t n = *cap ? *cap * 2 : 1024, i;
	uint32_t *ni;

	if ((count + 1) * 4 < *cap * 3)
		return 0;
	ni = calloc(n, sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	for (i = 0; i < *cap; i++) {
		size_t j;

		if (!(*idx)[i])
			continue;
		j = hash_of(st, (*idx)[i]) & (n - 1);
		while (ni[j])
			j = (j + 1) & (n - 1);
		ni[j] = (*idx)[i];
	}
	free(*idx);
	*idx = ni;
	*cap = n;
	return 0;
}

static uint64_t raw_hash_of(const struct stacks *st, uint32_t id)
{
	return st->raws[id].hash;
}

static uint64_t sample_hash(const struct stacks_sample *s)
{
	return hash_bytes(s, offsetof(struct stacks_sample, count), 0x5a);
}

static uint64_t sample_hash_of(const struct stacks *st, uint32_t id)
{
	return sample_hash(&st->samples[id - 1]);
}

struct stacks *stacks__new(void)
{
	struct stacks *st = calloc(1, sizeof(*st));

	if (!st || grow_array((void **)&st->raws, &st->cap_raws, 1, sizeof(*st->raws))) {
		stacks__free(st);
		return NULL;
	}
	st->nr_raws = 1;
	st->max_bytes = STACKS_MAX_BYTES;
	return st;
}

void stacks__set_max_bytes(struct stacks *st, size_t max_bytes)
{
	st->max_bytes = max_bytes;
}

void stacks__free(struct stacks *st)
{
	if (!st)
		return;
	free(st->addrs);
	free(st->raws);
	free(st->raw_idx);
	free(st->samples);
	free(st->sample_idx);
	free(st);
}

static int intern_raw(struct stacks *st, const uint64_t *a, int n, uint32_t *ret)
{
	uint64_t h;
	uint32_t id;
	size_t j;

	if (n <= 0) {
		*ret = 0;
		return 0;
	}
	h = hash_bytes(a, n * sizeof(*a), 0x7374);
	if (rehash(&st->raw_idx, &st->raw_idx_cap, st->nr_raws, raw_hash_of, st))
		return -ENOMEM;
	j = h & (st->raw_idx_cap - 1);
	while ((id = st->raw_idx[j])) {
		const struct raw *r = &st->raws[id];

		if (r->hash == h && r->n == (uint32_t)n &&
		    !memcmp(st->addrs + r->off, a, n * sizeof(*a))) {
			*ret = id;
			return 0;
		}
		j = (j + 1) & (st->raw_idx_cap - 1);
	}
	/* Growing doubles an array: refuse what would take the aggregate past its bound. */
	if (st->nr_addrs + n > st->cap_addrs &&
	    held_bytes(st) + MAX(st->cap_addrs, (size_t)n) * sizeof(*a) > st->max_bytes)
		return -ENOSPC;
	if (st->nr_raws + 1 > st->cap_raws &&
	    held_bytes(st) + st->cap_raws * sizeof(*st->raws) > st->max_bytes)
		return -ENOSPC;
	if (st->nr_addrs + n > UINT32_MAX ||
	    grow_array((void **)&st->addrs, &st->cap_addrs, st->nr_addrs + n, sizeof(*a)) ||
	    grow_array((void **)&st->raws, &st->cap_raws, st->nr_raws + 1, sizeof(*st->raws)))
		return -ENOMEM;
	memcpy(st->addrs + st->nr_addrs, a, n * sizeof(*a));
	id = st->nr_raws++;
	st->raws[id] = (struct raw){ st->nr_addrs, n, h };
	st->nr_addrs += n;
	st->raw_idx[j] = id;
	*ret = id;
	return 0;
}

int stacks__add(struct stacks *st, uint32_t tgid, const char *comm, const char *pcomm,
		const uint64_t *ustack, int nu, const uint64_t *kstack, int nk, uint64_t count)
{
	return stacks__add_cgroup(st, 0, tgid, comm, pcomm, ustack, nu, kstack, nk, count);
}

int stacks__add_cgroup(struct stacks *st, uint64_t cgroup, uint32_t tgid, const char *comm,
		       const char *pcomm, const uint64_t *ustack, int nu, const uint64_t *kstack,
		       int nk, uint64_t count)
{
	struct stacks_sample key;
	uint64_t h;
	uint32_t id;
	size_t j;

	int err;

	memset(&key, 0, sizeof(key));
	key.tgid = tgid;
	key.cgroup = cgroup;
	strncpy(key.comm, comm, sizeof(key.comm) - 1);
	strncpy(key.pcomm, pcomm, sizeof(key.pcomm) - 1);
	err = intern_raw(st, ustack, nu, &key.ustack);
	if (!err)
		err = intern_raw(st, kstack, nk, &key.kstack);
	if (err)
		goto refused;
	h = sample_hash(&key);
	if (st->nr_samples + 1 > st->cap_samples &&
	    held_bytes(st) + MAX(st->cap_samples, (size_t)16) * sizeof(key) > st->max_bytes) {
		err = -ENOSPC;
		goto refused;
	}
	if (rehash(&st->sample_idx, &st->sample_idx_cap, st->nr_samples, sample_hash_of, st)) {
		err = -ENOMEM;
		goto refused;
	}
	j = h & (st->sample_idx_cap - 1);
	while ((id = st->sample_idx[j])) {
		struct stacks_sample *s = &st->samples[id - 1];

		if (!memcmp(s, &key, offsetof(struct stacks_sample, count))) {
			s->count += count;
			st->total += count;
			return 0;
		}
		j = (j + 1) & (st->sample_idx_cap - 1);
	}
	if (grow_array((void **)&st->samples, &st->cap_samples, st->nr_samples + 1, sizeof(key))) {
		err = -ENOMEM;
		goto refused;
	}
	key.count = count;
	st->samples[st->nr_samples++] = key;
	st->sample_idx[j] = st->nr_samples;
	st->total += count;
	return 0;
refused:
	st->refused += count;
	return err;
}

uint64_t stacks__refused(const struct stacks *st)
{
	return st->refused;
}

size_t stacks__nr_samples(const struct stacks *st)
{
	return st->nr_samples;
}

const struct stacks_sample *stacks__sample(const struct stacks *st, size_t i)
{
	return &st->samples[i];
}

const uint64_t *stacks__raw(const struct stacks *st, uint32_t id, uint32_t *n)
{
	if (!id || id >= st->nr_raws) {
		*n = 0;
		return NULL;
	}
	*n = st->raws[id].n;
	return st->addrs + st->raws[id].off;
}

size_t stacks__nr_raw(const struct stacks *st)
{
	return st->nr_raws - 1;
}

uint64_t stacks__total(const struct stacks *st)
{
	return st->total;
}

/* Frees an array that the last window used less than a quarter of: a burst's memory goes back. */
static void shrink(void **arr, size_t *cap, size_t used, size_t elem)
{
	if (*cap * elem < 1048576 || used * 4 > *cap)
		return;
	free(*arr);
	*arr = NULL;
	*cap = 0;
}

void stacks__reset(struct stacks *st)
{
	shrink((void **)&st->addrs, &st->cap_addrs, st->nr_addrs, sizeof(*st->addrs));
	shrink((void **)&st->samples, &st->cap_samples, st->nr_samples, sizeof(*st->samples));
	if (st->raw_idx_cap * sizeof(*st->raw_idx) >= 1048576 && st->nr_raws * 4 <= st->raw_idx_cap) {
		free(st->raw_idx);
		st->raw_idx = NULL;
		st->raw_idx_cap = 0;
	}
	if (st->sample_idx_cap * sizeof(*st->sample_idx) >= 1048576 &&
	    st->nr_samples * 4 <= st->sample_idx_cap) {
		free(st->sample_idx);
		st->sample_idx = NULL;
		st->sample_idx_cap = 0;
	}
	/* raws[0] stays: id 0 is "no stack". */
	if (st->cap_raws * sizeof(*st->raws) >= 1048576 && st->nr_raws * 4 <= st->cap_raws) {
		struct raw *r = realloc(st->raws, 16 * sizeof(*r));

		if (r) {
			st->raws = r;
			st->cap_raws = 16;
		}
	}
	st->nr_addrs = 0;
	st->nr_raws = 1;
	st->nr_samples = 0;
	st->total = 0;
	if (st->raw_idx)
		memset(st->raw_idx, 0, st->raw_idx_cap * sizeof(*st->raw_idx));
	if (st->sample_idx)
		memset(st->sample_idx, 0, st->sample_idx_cap * sizeof(*st->sample_idx));
}
