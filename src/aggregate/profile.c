// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interning tables for the profile model. Strings, mappings and frames each live in a growable
 * array plus an open-addressing hash index of ids, so interning is O(1) and ids stay stable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "aggregate/profile.h"
#include "base/util.h"
#include "../../bpf/profile.h"

const char *const profile_lost_names[LOST_MAX] = {
	[LOST_COUNTS_FULL] = "counts_map_full",
	[LOST_USTACK] = "user_stack",
	[LOST_KSTACK] = "kernel_stack",
	[LOST_DRAIN] = "drain",
	[LOST_AGGREGATE_FULL] = "aggregate_full",
};

/* An open-addressing index of ids (0 = empty slot); the caller compares keys. */
struct idx {
	uint32_t *slots;
	size_t cap;	/* power of two */
	size_t used;
};

struct strent {
	size_t off;
	size_t len;
	uint64_t hash;
};

struct profile {
	char *pool;
	size_t pool_len, pool_cap;
	struct strent *strs;
	size_t nr_strs, cap_strs;
	struct idx str_idx;

	struct profile_mapping *maps;
	size_t nr_maps, cap_maps;
	struct idx map_idx;

	struct profile_frame *frames;
	size_t nr_frames, cap_frames;
	struct idx frame_idx;

	uint32_t *ids;
	size_t nr_ids, cap_ids;
	struct profile_sample *samples;
	size_t nr_samples, cap_samples;
	struct idx sample_idx;	/* ids are sample index + 1; used once combining */
	bool combine;

	struct profile_attrib *attribs;	/* [0] unused */
	size_t nr_attribs, cap_attribs;

	struct profile_meta meta;
};

/* Grows the index when 3/4 full; rehash needs each id's hash, hence the callback. */
typedef uint64_t (*idx_hash_fn)(const struct profile *p, uint32_t id);

static int idx_grow(const struct profile *p, struct idx *ix, idx_hash_fn hash)
{
	size_t ncap = ix->cap ? ix->cap * 2 : 64, i;
	uint32_t *ns;

	if ((ix->used + 1) * 4 < ix->cap * 3)
		return 0;
	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < ix->cap; i++) {
		uint32_t id = ix->slots[i];
		size_t j;

		if (!id)
			continue;
		j = hash(p, id) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = id;
	}
	free(ix->slots);
	ix->slots = ns;
	ix->cap = ncap;
	return 0;
}

static uint64_t str_hash_id(const struct profile *p, uint32_t id)
{
	return p->strs[id].hash;
}

static uint64_t map_hash(const struct profile_mapping *m)
{
	return hash_bytes(m, sizeof(*m), 0x6d6170);
}

static uint64_t map_hash_id(const struct profile *p, uint32_t id)
{
	return map_hash(&p->maps[id]);
}

static uint64_t frame_hash(const struct profile_frame *f)
{
	return hash_bytes(f, sizeof(*f), 0x6672);
}

static uint64_t frame_hash_id(const struct profile *p, uint32_t id)
{
	return frame_hash(&p->frames[id]);
}

struct profile *profile__new(void)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* Slot 0 of each table is the "none" entry, so real ids start at 1 (string 0 is ""). */
	if (grow_array((void **)&p->strs, &p->cap_strs, 1, sizeof(*p->strs)) ||
	    grow_array((void **)&p->pool, &p->pool_cap, 1, 1) ||
	    grow_array((void **)&p->maps, &p->cap_maps, 1, sizeof(*p->maps)) ||
	    grow_array((void **)&p->frames, &p->cap_frames, 1, sizeof(*p->frames))) {
		profile__free(p);
		return NULL;
	}
	p->pool[0] = '\0';
	p->pool_len = 1;
	p->strs[0] = (struct strent){ 0, 0, hash_bytes("", 0, 0) };
	p->nr_strs = 1;
	memset(&p->maps[0], 0, sizeof(p->maps[0]));
	p->nr_maps = 1;
	memset(&p->frames[0], 0, sizeof(p->frames[0]));
	p->nr_frames = 1;
	return p;
}

void profile__free(struct profile *p)
{
	if (!p)
		return;
	free(p->pool);
	free(p->attribs);
	free(p->strs);
	free(p->str_idx.slots);
	free(p->maps);
	free(p->map_idx.slots);
	free(p->frames);
	free(p->frame_idx.slots);
	free(p->ids);
	free(p->samples);
	free(p->sample_idx.slots);
	free(p);
}

uint32_t profile__intern(struct profile *p, const char *s, size_t len)
{
	uint64_t h;
	size_t j;
	uint32_t id;

	if (!len)
		return 0;
	h = hash_bytes(s, len, 0);
	if (idx_grow(p, &p->str_idx, str_hash_id))
		return 0;
	j = h & (p->str_idx.cap - 1);
	while ((id = p->str_idx.slots[j])) {
		const struct strent *e = &p->strs[id];

		if (e->hash == h && e->len == len && !memcmp(p->pool + e->off, s, len))
			return id;
		j = (j + 1) & (p->str_idx.cap - 1);
	}
	if (p->nr_strs >= UINT32_MAX ||
	    grow_array((void **)&p->strs, &p->cap_strs, p->nr_strs + 1, sizeof(*p->strs)) ||
	    grow_array((void **)&p->pool, &p->pool_cap, p->pool_len + len + 1, 1))
		return 0;
	memcpy(p->pool + p->pool_len, s, len);
	p->pool[p->pool_len + len] = '\0';
	id = p->nr_strs++;
	p->strs[id] = (struct strent){ p->pool_len, len, h };
	p->pool_len += len + 1;
	p->str_idx.slots[j] = id;
	p->str_idx.used++;
	return id;
}

uint32_t profile__intern_str(struct profile *p, const char *s)
{
	return profile__intern(p, s, strlen(s));
}

const char *profile__str(const struct profile *p, uint32_t id)
{
	return id < p->nr_strs ? p->pool + p->strs[id].off : "";
}

size_t profile__str_len(const struct profile *p, uint32_t id)
{
	return id < p->nr_strs ? p->strs[id].len : 0;
}

size_t profile__nr_strs(const struct profile *p)
{
	return p->nr_strs;
}

uint32_t profile__add_mapping(struct profile *p, const struct profile_mapping *m)
{
	uint64_t h = map_hash(m);
	uint32_t id;
	size_t j;

	if (idx_grow(p, &p->map_idx, map_hash_id))
		return 0;
	j = h & (p->map_idx.cap - 1);
	while ((id = p->map_idx.slots[j])) {
		if (!memcmp(&p->maps[id], m, sizeof(*m)))
			return id;
		j = (j + 1) & (p->map_idx.cap - 1);
	}
	if (grow_array((void **)&p->maps, &p->cap_maps, p->nr_maps + 1, sizeof(*p->maps)))
		return 0;
	id = p->nr_maps++;
	p->maps[id] = *m;
	p->map_idx.slots[j] = id;
	p->map_idx.used++;
	return id;
}

const struct profile_mapping *profile__mapping(const struct profile *p, uint32_t id)
{
	return id && id < p->nr_maps ? &p->maps[id] : NULL;
}

size_t profile__nr_mappings(const struct profile *p)
{
	return p->nr_maps - 1;
}

uint32_t profile__add_frame(struct profile *p, const struct profile_frame *f)
{
	struct profile_frame key;
	uint64_t h;
	uint32_t id;
	size_t j;

	/* Copy field by field so padding is zero and the byte hash is stable. */
	memset(&key, 0, sizeof(key));
	key.name = f->name;
	key.mapping = f->mapping;
	key.addr = f->addr;
	key.kind = f->kind;
	key.func = f->func;
	key.file = f->file;
	key.line = f->line;
	key.start_line = f->start_line;
	h = frame_hash(&key);
	if (idx_grow(p, &p->frame_idx, frame_hash_id))
		return 0;
	j = h & (p->frame_idx.cap - 1);
	while ((id = p->frame_idx.slots[j])) {
		if (!memcmp(&p->frames[id], &key, sizeof(key)))
			return id;
		j = (j + 1) & (p->frame_idx.cap - 1);
	}
	if (grow_array((void **)&p->frames, &p->cap_frames, p->nr_frames + 1, sizeof(*p->frames)))
		return 0;
	id = p->nr_frames++;
	p->frames[id] = key;
	p->frame_idx.slots[j] = id;
	p->frame_idx.used++;
	return id;
}

const struct profile_frame *profile__frame(const struct profile *p, uint32_t id)
{
	return id < p->nr_frames ? &p->frames[id] : &p->frames[0];
}

size_t profile__nr_frames(const struct profile *p)
{
	return p->nr_frames - 1;
}

static uint64_t sample_hash(const uint32_t *frames, size_t nframes, uint32_t pid, uint32_t comm,
			    uint32_t thread)
{
	uint32_t who[3] = { pid, comm, thread };

	return hash_bytes(frames, nframes * sizeof(*frames), hash_bytes(who, sizeof(who), 0x736d));
}

static uint64_t sample_hash_id(const struct profile *p, uint32_t id)
{
	const struct profile_sample *s = &p->samples[id - 1];

	return sample_hash(p->ids + s->first, s->nframes, s->pid, s->comm, s->thread);
}

/* Indexes sample i (combining); 0 or -ENOMEM. */
static int sample_index(struct profile *p, size_t i)
{
	size_t j;

	if (idx_grow(p, &p->sample_idx, sample_hash_id))
		return -ENOMEM;
	j = sample_hash_id(p, i + 1) & (p->sample_idx.cap - 1);
	while (p->sample_idx.slots[j])
		j = (j + 1) & (p->sample_idx.cap - 1);
	p->sample_idx.slots[j] = i + 1;
	p->sample_idx.used++;
	return 0;
}

int profile__combine_samples(struct profile *p)
{
	if (p->combine)
		return 0;
	for (size_t i = 0; i < p->nr_samples; i++)
		if (sample_index(p, i))
			return -ENOMEM;
	p->combine = true;
	return 0;
}

/* The equal sample already added (combining), or NULL. */
static struct profile_sample *find_sample(struct profile *p, const uint32_t *frames,
					  size_t nframes, uint32_t pid, uint32_t comm,
					  uint32_t thread)
{
	size_t j;

	if (!p->sample_idx.cap)
		return NULL;
	j = sample_hash(frames, nframes, pid, comm, thread) & (p->sample_idx.cap - 1);
	for (; p->sample_idx.slots[j]; j = (j + 1) & (p->sample_idx.cap - 1)) {
		struct profile_sample *s = &p->samples[p->sample_idx.slots[j] - 1];

		if (s->nframes == nframes && s->pid == pid && s->comm == comm &&
		    s->thread == thread && !s->attrib &&
		    !memcmp(p->ids + s->first, frames, nframes * sizeof(*frames)))
			return s;
	}
	return NULL;
}

int profile__add_sample(struct profile *p, const uint32_t *frames, size_t nframes, uint64_t count,
			uint32_t pid, uint32_t comm, uint32_t thread)
{
	struct profile_sample *s;

	if (p->combine) {
		s = find_sample(p, frames, nframes, pid, comm, thread);
		/* Counts are bounded by the readers' PROFILE_MAX_TOTAL (INT64_MAX): no wrap. */
		if (s) {
			s->count += count;
			return 0;
		}
	}
	if (p->nr_ids + nframes > UINT32_MAX)
		return -ENOMEM;
	if (grow_array((void **)&p->ids, &p->cap_ids, p->nr_ids + nframes, sizeof(*p->ids)) ||
	    grow_array((void **)&p->samples, &p->cap_samples, p->nr_samples + 1, sizeof(*p->samples)))
		return -ENOMEM;
	if (nframes)
		memcpy(p->ids + p->nr_ids, frames, nframes * sizeof(*frames));
	s = &p->samples[p->nr_samples++];
	s->first = p->nr_ids;
	s->nframes = nframes;
	s->count = count;
	s->pid = pid;
	s->comm = comm;
	s->thread = thread;
	s->attrib = 0;
	p->nr_ids += nframes;
	if (p->combine && sample_index(p, p->nr_samples - 1)) {
		/* Not findable, so not combined with later equals: undo, report. */
		p->nr_samples--;
		p->nr_ids -= nframes;
		return -ENOMEM;
	}
	return 0;
}

uint32_t profile__add_attrib(struct profile *p, const struct profile_attrib *a)
{
	size_t n = p->nr_attribs ? p->nr_attribs : 1;

	if (n >= UINT32_MAX ||
	    grow_array((void **)&p->attribs, &p->cap_attribs, n + 1, sizeof(*p->attribs)))
		return 0;
	p->attribs[n] = *a;
	p->nr_attribs = n + 1;
	return n;
}

const struct profile_attrib *profile__attrib(const struct profile *p, uint32_t id)
{
	return id && id < p->nr_attribs ? &p->attribs[id] : NULL;
}

size_t profile__nr_attribs(const struct profile *p)
{
	return p->nr_attribs ? p->nr_attribs - 1 : 0;
}

void profile__set_sample_attrib(struct profile *p, size_t i, uint32_t attrib)
{
	if (i < p->nr_samples && attrib < p->nr_attribs)
		p->samples[i].attrib = attrib;
}

size_t profile__nr_samples(const struct profile *p)
{
	return p->nr_samples;
}

const struct profile_sample *profile__sample(const struct profile *p, size_t i)
{
	return &p->samples[i];
}

const uint32_t *profile__sample_frames(const struct profile *p, const struct profile_sample *s)
{
	static const uint32_t none[1];

	/* Only samples without frames were added: no pool to point into (NULL + 0 is UB). */
	return p->ids ? p->ids + s->first : none;
}

struct profile_meta *profile__meta(struct profile *p)
{
	return &p->meta;
}

const struct profile_meta *profile__meta_const(const struct profile *p)
{
	return &p->meta;
}

uint64_t profile__total(const struct profile *p)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < p->nr_samples; i++)
		t += p->samples[i].count;
	return t;
}

static const char *const mode_names[PROFILE_MODE_MAX] = {
	[PROFILE_CPU] = "cpu",
	[PROFILE_OFFCPU] = "offcpu",
	[PROFILE_WALL] = "wall",
};

int profile_mode__parse(const char *s, enum profile_mode *ret)
{
	int i;

	for (i = 0; i < PROFILE_MODE_MAX; i++) {
		if (!strcmp(s, mode_names[i])) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *profile_mode__name(enum profile_mode m)
{
	return m < PROFILE_MODE_MAX ? mode_names[m] : "cpu";
}

const char *profile_mode__pprof_type(enum profile_mode m)
{
	return m == PROFILE_OFFCPU ? "off_cpu" : m == PROFILE_WALL ? "wall" : "samples";
}

const char *profile_mode__what(enum profile_mode m)
{
	return m == PROFILE_OFFCPU ? "off-CPU time" : m == PROFILE_WALL ? "wall-clock time" :
								       "samples";
}

const char *profile__offcpu_state_name(uint32_t state)
{
	static const char *const names[OFFCPU_STATE_MAX] = {
		[OFFCPU_BLOCKED] = "[blocked]",
		[OFFCPU_UNINTERRUPTIBLE] = "[uninterruptible]",
		[OFFCPU_PREEMPTED] = "[preempted]",
		[OFFCPU_STOPPED] = "[stopped]",
	};

	return state && state < OFFCPU_STATE_MAX ? names[state] : "[off-cpu]";
}

bool profile__is_offcpu_state(const char *s, size_t n)
{
	uint32_t i;

	if (!n || s[0] != '[')
		return false;
	for (i = 0; i < OFFCPU_STATE_MAX; i++) {
		const char *name = profile__offcpu_state_name(i);

		if (strlen(name) == n && !memcmp(name, s, n))
			return true;
	}
	return false;
}

/* Whether src's counts added to dst would take dst past PROFILE_MAX_TOTAL. */
bool profile__merge_overflows(struct profile *dst, const struct profile *src)
{
	uint64_t have = profile__meta(dst)->samples;

	return have > PROFILE_MAX_TOTAL || profile__total(src) > PROFILE_MAX_TOTAL - have;
}

/*
 * Copies every sample of src into dst (frames and names re-interned). -EOVERFLOW, with dst
 * untouched, when the counts together would pass PROFILE_MAX_TOTAL (dst's total is the samples
 * of its meta, as the readers keep it).
 */
int profile__merge(struct profile *dst, const struct profile *src)
{
	size_t nf = profile__nr_frames(src), i;
	uint64_t add = profile__total(src);
	uint32_t *fmap, *ids = NULL;
	size_t cap_ids = 0;
	int err = -ENOMEM;

	if (profile__merge_overflows(dst, src))
		return -EOVERFLOW;
	fmap = calloc(nf + 1, sizeof(*fmap));
	if (!fmap)
		return -ENOMEM;
	for (i = 1; i <= nf; i++) {
		const struct profile_frame *f = profile__frame(src, i);
		struct profile_frame nf2 = *f;

		nf2.name = profile__intern(dst, profile__str(src, f->name),
					   profile__str_len(src, f->name));
		/* Mappings are not carried over: renderers do not draw them. */
		nf2.mapping = 0;
		nf2.func = nf2.file = nf2.line = nf2.start_line = 0;
		fmap[i] = profile__add_frame(dst, &nf2);
		if (!fmap[i])
			goto cleanup;
	}
	for (i = 0; i < profile__nr_samples(src); i++) {
		const struct profile_sample *s = profile__sample(src, i);
		const uint32_t *fr = profile__sample_frames(src, s);
		uint32_t comm = profile__intern(dst, profile__str(src, s->comm),
						profile__str_len(src, s->comm));
		uint32_t thread = profile__intern(dst, profile__str(src, s->thread),
						  profile__str_len(src, s->thread));

		if (s->nframes > cap_ids) {
			uint32_t *n = realloc(ids, s->nframes * sizeof(*ids));

			if (!n)
				goto cleanup;
			ids = n;
			cap_ids = s->nframes;
		}
		for (uint32_t k = 0; k < s->nframes; k++)
			ids[k] = fr[k] <= nf ? fmap[fr[k]] : 0;
		if (profile__add_sample(dst, ids, s->nframes, s->count, s->pid, comm, thread))
			goto cleanup;
	}
	profile__meta(dst)->samples += add;
	err = 0;
cleanup:
	free(fmap);
	free(ids);
	return err;
}
