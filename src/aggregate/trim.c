// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trimming a profile to a number of rows (trim.h). Rows are found with one hash table over the
 * samples, sorted by weight, and the cut is the largest number of kept rows that leaves room for
 * one remainder row per group of the rest: with rows sorted heaviest first, kept + groups(rest)
 * only grows with kept, so the first fit scanning down from max - 1 is the best one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/profile.h"
#include "aggregate/trim.h"
#include "base/util.h"

struct row {
	uint32_t sample;	/* the first sample with this key: its frames and labels */
	uint32_t group;
	uint64_t count;
};

struct group {
	uint32_t sample;	/* a sample of the group: its labels and root frame */
	uint32_t root;		/* root frame id kept in the remainder, 0 = none */
	uint32_t folded;	/* rows folded into this group's remainder */
	uint64_t count;
};

/* A group's root frame: the process (or group) frame when no process label says whose. */
static uint64_t sat_add_u64(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint32_t root_of(const struct profile *p, const struct profile_sample *s)
{
	return !s->comm && s->nframes ? profile__sample_frames(p, s)[0] : 0;
}

static uint64_t row_hash(const struct profile *p, const struct profile_sample *s)
{
	uint64_t h = hash_bytes(profile__sample_frames(p, s), (size_t)s->nframes * 4, 0x7121);

	return hash_mix(h ^ hash_mix(((uint64_t)s->pid << 32 | s->comm) ^
				     ((uint64_t)s->thread << 32 | s->attrib) * 0x9e3779b97f4a7c15ULL));
}

static bool same_labels(const struct profile_sample *a, const struct profile_sample *b)
{
	return a->pid == b->pid && a->comm == b->comm && a->thread == b->thread &&
	       a->attrib == b->attrib;
}

static bool same_row(const struct profile *p, const struct profile_sample *a,
		     const struct profile_sample *b)
{
	return same_labels(a, b) && a->nframes == b->nframes &&
	       !memcmp(profile__sample_frames(p, a), profile__sample_frames(p, b),
		       (size_t)a->nframes * 4);
}

static size_t pow2_above(size_t n)
{
	size_t c = 16;

	while (c < n * 2)
		c *= 2;
	return c;
}

/* Merges the samples into rows; the row count, or -ENOMEM. */
static long find_rows(const struct profile *p, struct row **ret)
{
	size_t n = profile__nr_samples(p), cap = pow2_above(n), nr = 0, i;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));

	if (!slots || !rows) {
		free(slots);
		free(rows);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct profile_sample *s = profile__sample(p, i);
		size_t j;

		if (!s->count)
			continue;
		for (j = row_hash(p, s) & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			if (same_row(p, profile__sample(p, rows[slots[j] - 1].sample), s))
				break;
		if (!slots[j]) {
			rows[nr] = (struct row){ .sample = i };
			slots[j] = ++nr;
		}
		rows[slots[j] - 1].count = sat_add_u64(rows[slots[j] - 1].count, s->count);
	}
	free(slots);
	*ret = rows;
	return nr;
}

/* Gives each row its group id; the number of groups, or -ENOMEM. */
static long find_groups(const struct profile *p, struct row *rows, size_t nr, struct group **ret)
{
	size_t cap = pow2_above(nr), ng = 0, i;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	struct group *g = calloc(nr ? nr : 1, sizeof(*g));

	if (!slots || !g) {
		free(slots);
		free(g);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		const struct profile_sample *s = profile__sample(p, rows[i].sample);
		uint32_t root = root_of(p, s);
		uint64_t h = hash_mix(((uint64_t)s->pid << 32 | s->comm) ^
				      hash_mix((uint64_t)s->thread << 32 | s->attrib) ^
				      hash_mix(root + 0x51ULL));
		size_t j;

		for (j = h & (cap - 1); slots[j]; j = (j + 1) & (cap - 1)) {
			const struct group *o = &g[slots[j] - 1];

			if (o->root == root && same_labels(profile__sample(p, o->sample), s))
				break;
		}
		if (!slots[j]) {
			g[ng] = (struct group){ .sample = rows[i].sample, .root = root };
			slots[j] = ++ng;
		}
		rows[i].group = slots[j] - 1;
	}
	free(slots);
	*ret = g;
	return ng;
}

/* Heaviest first; equal weights in the order of the samples, so a trim is reproducible. */
static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->sample < y->sample ? -1 : x->sample > y->sample;
}

static uint32_t copy_str(struct profile *q, const struct profile *p, uint32_t id)
{
	return id ? profile__intern(q, profile__str(p, id), profile__str_len(p, id)) : 0;
}

/* q gets p's meta, mappings, frames and attributions; fid and aid map p's ids to q's. */
static int copy_tables(struct profile *q, const struct profile *p, uint32_t *fid, uint32_t *aid)
{
	size_t nm = profile__nr_mappings(p), i;
	uint32_t *mid = calloc(nm + 1, sizeof(*mid));
	int err = -ENOMEM;

	if (!mid)
		return -ENOMEM;
	*profile__meta(q) = *profile__meta_const(p);
	for (i = 1; i <= nm; i++) {
		struct profile_mapping m = *profile__mapping(p, i);

		m.file = copy_str(q, p, m.file);
		m.build_id = copy_str(q, p, m.build_id);
		if (!(mid[i] = profile__add_mapping(q, &m)))
			goto cleanup;
	}
	for (i = 1; i <= profile__nr_frames(p); i++) {
		struct profile_frame f = *profile__frame(p, i);

		f.name = copy_str(q, p, f.name);
		f.func = copy_str(q, p, f.func);
		f.file = copy_str(q, p, f.file);
		f.mapping = f.mapping && f.mapping <= nm ? mid[f.mapping] : 0;
		if (!(fid[i] = profile__add_frame(q, &f)))
			goto cleanup;
	}
	for (i = 1; i <= profile__nr_attribs(p); i++) {
		struct profile_attrib a = *profile__attrib(p, i);

		a.cgroup = copy_str(q, p, a.cgroup);
		a.unit = copy_str(q, p, a.unit);
		a.container = copy_str(q, p, a.container);
		a.pod = copy_str(q, p, a.pod);
		if (!(aid[i] = profile__add_attrib(q, &a)))
			goto cleanup;
	}
	err = 0;
cleanup:
	free(mid);
	return err;
}

/* Adds a sample with p's labels s (or none), mapped into q. */
static int add(struct profile *q, const struct profile *p, const struct profile_sample *s,
	       const uint32_t *frames, size_t n, uint64_t count, const uint32_t *aid)
{
	uint32_t attrib = s && s->attrib <= profile__nr_attribs(p) ? aid[s->attrib] : 0;
	int err;

	err = profile__add_sample(q, frames, n, count, s ? s->pid : 0,
				  s ? copy_str(q, p, s->comm) : 0, s ? copy_str(q, p, s->thread) : 0);
	if (!err && attrib)
		profile__set_sample_attrib(q, profile__nr_samples(q) - 1, attrib);
	return err;
}

static uint32_t remainder_frame(struct profile *q, uint64_t rows)
{
	struct profile_frame f = { .kind = FRAME_USER };
	char name[64];

	snprintf(name, sizeof(name), TRIM_FRAME_PREFIX "%llu stack%s]", (unsigned long long)rows,
		 rows == 1 ? "" : "s");
	f.name = profile__intern_str(q, name);
	return f.name ? profile__add_frame(q, &f) : 0;
}

int profile__trim(const struct profile *p, size_t max_rows, struct profile **out,
		  struct profile_trim_stats *st)
{
	size_t nf = profile__nr_frames(p), na = profile__nr_attribs(p), nr, ng = 0, keep, i, j;
	struct row *rows = NULL;
	struct group *g = NULL;
	uint32_t *fid = NULL, *aid = NULL, *buf = NULL, *suffix = NULL;
	uint8_t *seen = NULL;
	size_t cap = 0;
	struct profile *q = NULL;
	bool coarse = false;
	long n;
	int err = -ENOMEM;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	if (max_rows < 2)
		return -EINVAL;
	n = find_rows(p, &rows);
	if (n < 0)
		return (int)n;
	nr = n;
	st->rows = nr;
	if (nr <= max_rows) {
		st->kept = nr;
		free(rows);
		return 0;
	}
	qsort(rows, nr, sizeof(*rows), cmp_row);
	n = find_groups(p, rows, nr, &g);
	if (n < 0)
		goto cleanup;
	ng = n;
	/* suffix[k]: the groups among rows k..nr-1, one remainder row each. */
	suffix = calloc(nr + 1, sizeof(*suffix));
	seen = calloc(ng ? ng : 1, 1);
	if (!suffix || !seen)
		goto cleanup;
	for (i = nr; i-- > 0;) {
		suffix[i] = suffix[i + 1] + !seen[rows[i].group];
		seen[rows[i].group] = 1;
	}
	for (keep = max_rows - 1; keep > 0 && keep + suffix[keep] > max_rows; keep--)
		;
	/* So many groups that their remainders would crowd out the stacks: one remainder. */
	if (keep < max_rows / 2) {
		coarse = true;
		keep = max_rows - 1;
	}
	q = profile__new();
	fid = calloc(nf + 1, sizeof(*fid));
	aid = calloc(na + 1, sizeof(*aid));
	if (!q || !fid || !aid || copy_tables(q, p, fid, aid))
		goto cleanup;
	for (i = 0; i < nr; i++) {
		const struct profile_sample *s = profile__sample(p, rows[i].sample);
		const uint32_t *fr = profile__sample_frames(p, s);

		if (i >= keep) {
			g[rows[i].group].folded++;
			g[rows[i].group].count = sat_add_u64(g[rows[i].group].count, rows[i].count);
			st->folded++;
			st->folded_count = sat_add_u64(st->folded_count, rows[i].count);
			continue;
		}
		if (grow_array((void **)&buf, &cap, s->nframes + 2, sizeof(*buf)))
			goto cleanup;
		for (j = 0; j < s->nframes; j++)
			buf[j] = fr[j] && fr[j] <= nf ? fid[fr[j]] : 0;
		if (add(q, p, s, buf, s->nframes, rows[i].count, aid))
			goto cleanup;
		st->kept++;
	}
	if (grow_array((void **)&buf, &cap, 2, sizeof(*buf)))
		goto cleanup;
	if (coarse) {
		buf[0] = remainder_frame(q, st->folded);
		if (!buf[0] || add(q, p, NULL, buf, 1, st->folded_count, aid))
			goto cleanup;
		st->remainders = 1;
	} else {
		for (i = 0; i < ng; i++) {
			size_t k = 0;

			if (!g[i].folded)
				continue;
			if (g[i].root)
				buf[k++] = g[i].root <= nf ? fid[g[i].root] : 0;
			buf[k] = remainder_frame(q, g[i].folded);
			if (!buf[k] ||
			    add(q, p, profile__sample(p, g[i].sample), buf, k + 1, g[i].count, aid))
				goto cleanup;
			st->remainders++;
		}
	}
	*out = q;
	q = NULL;
	err = 0;
cleanup:
	profile__free(q);
	free(rows);
	free(g);
	free(fid);
	free(aid);
	free(buf);
	free(suffix);
	free(seen);
	return err;
}
