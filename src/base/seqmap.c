// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/seqmap.h"
#include "base/util.h"

void seqmap__free(struct seqmap *m)
{
	free(m->pool);
	free(m->seqs);
	free(m->slots);
	*m = (struct seqmap){};
}

const uint32_t *seqmap__ids(const struct seqmap *m, size_t i)
{
	return m->pool + m->seqs[i].off;
}

static int rehash(struct seqmap *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 1024, i;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < m->nr; i++) {
		size_t j = m->seqs[i].hash & (n - 1);

		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return 0;
}

long seqmap__get(struct seqmap *m, const uint32_t *ids, uint32_t len, bool *added)
{
	uint64_t h = hash_bytes(ids, (size_t)len * sizeof(*ids), 0x5e9);
	uint32_t v;
	size_t j;

	*added = false;
	if ((m->nr + 1) * 4 > m->nslots * 3 && rehash(m))
		return -ENOMEM;
	j = h & (m->nslots - 1);
	while ((v = m->slots[j])) {
		const struct seq *s = &m->seqs[v - 1];

		if (s->hash == h && s->len == len &&
		    !memcmp(m->pool + s->off, ids, (size_t)len * sizeof(*ids)))
			return v - 1;
		j = (j + 1) & (m->nslots - 1);
	}
	if (m->nr >= UINT32_MAX - 1 ||
	    grow_array((void **)&m->seqs, &m->cap, m->nr + 1, sizeof(*m->seqs)) ||
	    grow_array((void **)&m->pool, &m->pool_cap, m->pool_len + len, sizeof(*m->pool)))
		return -ENOMEM;
	if (len)
		memcpy(m->pool + m->pool_len, ids, (size_t)len * sizeof(*ids));
	m->seqs[m->nr] = (struct seq){m->pool_len, len, h};
	m->pool_len += len;
	m->slots[j] = m->nr + 1;
	*added = true;
	return m->nr++;
}
