/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interned sequences of 32-bit ids: the pprof writer keys locations by their frame ids,
 * functions by (name, kind, file, line), merged samples by labels and location indices; the
 * OTLP encoder its stacks, attributes and resources. Index i of a sequence is stable, and the
 * fields may be read: seqs[i].len ids at pool + seqs[i].off (seqmap__ids), nr sequences.
 * A zeroed struct is an empty map.
 */
#ifndef FLAMED_SEQMAP_H
#define FLAMED_SEQMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct seq {
	size_t off;
	uint32_t len;
	uint64_t hash;
};

struct seqmap {
	uint32_t *pool;
	size_t pool_len, pool_cap;
	struct seq *seqs;
	size_t nr, cap;
	uint32_t *slots; /* sequence index + 1, 0 = empty */
	size_t nslots;	 /* power of two */
};

/* Frees what the map holds (not m itself); the map is empty again. */
void seqmap__free(struct seqmap *m);
const uint32_t *seqmap__ids(const struct seqmap *m, size_t i);
/* Finds or adds a sequence: its index, or -ENOMEM. *added tells whether it is new. */
long seqmap__get(struct seqmap *m, const uint32_t *ids, uint32_t len, bool *added);

#endif
