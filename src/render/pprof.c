// SPDX-License-Identifier: GPL-2.0-only
/*
 * pprof writer and reader. The writer turns the interned profile into protobuf-c messages that
 * point into the profile's own string pool (nothing is copied but the ids), then packs them
 * through a small buffer straight into deflate and the FILE, so the serialized profile never sits
 * in memory whole. The reader inflates under a size cap, unpacks with an allocator that has a
 * budget, and checks every index before it follows it. See pprof.h for the mapping of concepts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "render/pprof.h"
#include "base/seqmap.h"
#include "pprof.pb-c.h"
#include "aggregate/describe.h"
#include "aggregate/profile.h"
#include "base/util.h"

#define KERNEL_MAPPING "[kernel.kallsyms]"
#define JIT_MAPPING "[jit]"
#define PYTHON_MAPPING "[python]"
#define PHP_MAPPING "[php]"
#define V8_MAPPING "[v8]"
#define RUBY_MAPPING "[ruby]"
#define PERL_MAPPING "[perl]"
#define UNKNOWN_NAME "[unknown]"
#define NSEC_PER_SEC 1000000000ULL

/* Parsed messages take about 5-8 times their wire size; hostile ones up to about 40. */
#define PARSE_MEM_BASE (64ULL << 20)
#define PARSE_MEM_FACTOR 16
#define PARSE_MEM_MAX (8ULL << 30)

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int64_t sat_mul_i64(uint64_t a, uint64_t b)
{
	if (b && a > (uint64_t)INT64_MAX / b)
		return INT64_MAX;
	return (int64_t)(a * b);
}

/* ---- writing ---- */

/* A merged sample's key: pid, comm, thread, attribution, then the location indices. */
#define KEY_HDR 4
/* process, pid, thread, cgroup, systemd_unit, container_id, pod_uid */
#define MAX_LABELS 7

struct wmap {
	uint32_t prof_id; /* profile mapping id, 0 = made up for kind */
	uint32_t kind;
	bool has_functions, has_inline;
};

/* Every lookup returns 0 on ENOMEM and records it in err, checked once before packing. */
struct writer {
	const struct profile *p;
	int err;

	ProtobufCBinaryData *strs;
	size_t nr_strs, cap_strs;
	uint32_t *str_of; /* profile string id -> table index, 0 = not in the table yet */
	char **owned;	  /* our own strings (units, label keys, comments) */
	size_t nr_owned, cap_owned;

	struct seqmap funcs, locs, samples;
	struct seqmap pids;	/* pids of the labels: index -> pid_str */
	int64_t *pid_str;
	size_t cap_pid_str;
	uint32_t *single; /* frame id -> index + 1 of its location when it has it alone */
	uint64_t *counts; /* per merged sample */
	uint64_t time_scale; /* != 0: counts are microseconds, values this many ns each */
	size_t cap_counts;
	uint32_t *key;	  /* scratch: a sample's key */
	size_t nr_frames; /* in the profile, plus the "none" frame 0 */
	size_t cap_key;

	uint32_t *map_of;  /* profile mapping id -> pprof mapping id, 0 = not yet */
	struct wmap *maps; /* pprof mapping id - 1 -> what it stands for */
	size_t nr_maps, cap_maps;
	uint32_t made_up[FRAME_KIND_MAX]; /* pprof ids of made-up kernel and JIT mappings */
};

static int64_t w_str(struct writer *w, uint32_t id)
{
	ProtobufCBinaryData *s;

	if (!id || id >= profile__nr_strs(w->p))
		return 0;
	if (w->str_of[id])
		return w->str_of[id];
	if (grow_array((void **)&w->strs, &w->cap_strs, w->nr_strs + 1, sizeof(*w->strs))) {
		w->err = -ENOMEM;
		return 0;
	}
	s = &w->strs[w->nr_strs];
	/* Packing only reads the data, so it may point into the const profile. */
	s->data = (uint8_t *)profile__str(w->p, id);
	s->len = profile__str_len(w->p, id);
	w->str_of[id] = w->nr_strs;
	return w->nr_strs++;
}

/*
 * A string of our own (units, label keys, comments), each asked for once; that one may equal a
 * profile string is harmless, string tables may hold duplicates.
 */
static int64_t w_cstr(struct writer *w, const char *str)
{
	char *copy;

	if (!*str)
		return 0;
	copy = strdup(str);
	if (!copy || grow_array((void **)&w->owned, &w->cap_owned, w->nr_owned + 1, sizeof(char *)) ||
	    grow_array((void **)&w->strs, &w->cap_strs, w->nr_strs + 1, sizeof(*w->strs))) {
		free(copy);
		w->err = -ENOMEM;
		return 0;
	}
	w->owned[w->nr_owned++] = copy;
	w->strs[w->nr_strs] = (ProtobufCBinaryData){strlen(copy), (uint8_t *)copy};
	return w->nr_strs++;
}

static uint32_t w_add_map(struct writer *w, uint32_t prof_id, uint32_t kind)
{
	if (grow_array((void **)&w->maps, &w->cap_maps, w->nr_maps + 1, sizeof(*w->maps))) {
		w->err = -ENOMEM;
		return 0;
	}
	w->maps[w->nr_maps] = (struct wmap){.prof_id = prof_id, .kind = kind};
	return ++w->nr_maps;
}

/*
 * The pprof mapping of a location whose physical frame is f; 0 = none. Kernel, JIT and Python
 * frames without one get a made-up mapping, which is how a reader tells their kind.
 */
static uint32_t w_map(struct writer *w, const struct profile_frame *f)
{
	if (f->mapping && profile__mapping(w->p, f->mapping)) {
		if (!w->map_of[f->mapping])
			w->map_of[f->mapping] = w_add_map(w, f->mapping, FRAME_USER);
		return w->map_of[f->mapping];
	}
	if (f->kind == FRAME_KERNEL || f->kind == FRAME_JIT || frame_kind_is_runtime(f->kind)) {
		if (!w->made_up[f->kind])
			w->made_up[f->kind] = w_add_map(w, 0, f->kind);
		return w->made_up[f->kind];
	}
	return 0;
}

/*
 * Functions by (plain name, kind, source file, first line). A runtime's frame is read back as
 * "function (file)": without a file, its function is the name it was shown under ("sub (?)"),
 * or reading the profile back named it otherwise.
 */
static uint64_t w_func(struct writer *w, const struct profile_frame *f)
{
	bool plain = f->func && (f->file || !frame_kind_is_runtime(f->kind));
	uint32_t key[4] = {plain ? f->func : f->name, f->kind, f->file, f->start_line};
	bool added;
	long i = seqmap__get(&w->funcs, key, 4, &added);

	if (i < 0) {
		w->err = (int)i;
		return 0;
	}
	return (uint64_t)i + 1;
}

static bool is_inline(const struct writer *w, uint32_t frame)
{
	return profile__frame(w->p, frame)->kind == FRAME_INLINE;
}

/* Splits a stack into locations and merges it into the sample with the same key. */
static int w_add_sample(struct writer *w, const struct profile_sample *s)
{
	const uint32_t *f = profile__sample_frames(w->p, s);
	uint32_t n = s->nframes, i, j, nl = 0, *locs;
	bool added;
	long idx;

	if (!s->count)
		return 0;
	if (grow_array((void **)&w->key, &w->cap_key, (size_t)n + KEY_HDR, sizeof(*w->key)))
		return -ENOMEM;
	locs = w->key + KEY_HDR;
	for (i = 0; i < n; i = j) {
		j = i + 1;
		/* A physical frame takes the inlined callees that follow it toward the leaf. */
		if (!is_inline(w, f[i]))
			while (j < n && is_inline(w, f[j]))
				j++;
		/* Most locations are a lone frame: skip the hashing for those. */
		if (j == i + 1 && f[i] < w->nr_frames && w->single[f[i]]) {
			locs[nl++] = w->single[f[i]] - 1;
			continue;
		}
		idx = seqmap__get(&w->locs, f + i, j - i, &added);
		if (idx < 0)
			return (int)idx;
		if (j == i + 1 && f[i] < w->nr_frames)
			w->single[f[i]] = idx + 1;
		locs[nl++] = idx;
	}
	/* pprof lists locations leaf first. */
	for (i = 0; i < nl / 2; i++) {
		uint32_t t = locs[i];

		locs[i] = locs[nl - 1 - i];
		locs[nl - 1 - i] = t;
	}
	w->key[0] = s->pid;
	w->key[1] = s->comm;
	w->key[2] = s->thread;
	w->key[3] = s->attrib;
	idx = seqmap__get(&w->samples, w->key, nl + KEY_HDR, &added);
	if (idx < 0)
		return (int)idx;
	if (added) {
		if (grow_array((void **)&w->counts, &w->cap_counts, idx + 1, sizeof(*w->counts)))
			return -ENOMEM;
		w->counts[idx] = 0;
	}
	w->counts[idx] = sat_add(w->counts[idx], s->count);
	return 0;
}

/* A ProtobufCBuffer that deflates into a FILE through a staging buffer. */
struct gzsink {
	ProtobufCBuffer base; /* first: protobuf-c hands back this pointer */
	z_stream zs;
	FILE *f;
	int err;
	size_t in_len;
	unsigned char in[1 << 16];
	unsigned char out[1 << 16];
};

static void gzsink_deflate(struct gzsink *s, int flush)
{
	int ret;

	s->zs.next_in = s->in;
	s->zs.avail_in = s->in_len;
	do {
		size_t have;

		s->zs.next_out = s->out;
		s->zs.avail_out = sizeof(s->out);
		ret = deflate(&s->zs, flush);
		if (ret == Z_STREAM_ERROR) {
			s->err = -EINVAL;
			return;
		}
		have = sizeof(s->out) - s->zs.avail_out;
		if (have && fwrite(s->out, 1, have, s->f) != have) {
			s->err = errno ? -errno : -EIO;
			return;
		}
	} while (s->zs.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
	s->in_len = 0;
}

static void gzsink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct gzsink *s = (struct gzsink *)b;

	while (len && !s->err) {
		size_t n = MIN(len, sizeof(s->in) - s->in_len);

		memcpy(s->in + s->in_len, data, n);
		s->in_len += n;
		data += n;
		len -= n;
		if (s->in_len == sizeof(s->in))
			gzsink_deflate(s, Z_NO_FLUSH);
	}
}

/* The protobuf-c messages of one profile, in flat arrays freed together. */
struct wmsgs {
	Pprof__ValueType types[2], *type_ptrs[2], period_type;
	Pprof__Sample *samples, **sample_ptrs;
	uint64_t *loc_ids;
	int64_t *values;
	Pprof__Label *labels, **label_ptrs;
	Pprof__Location *locs, **loc_ptrs;
	Pprof__Line *lines, **line_ptrs;
	Pprof__Function *funcs, **func_ptrs;
	Pprof__Mapping *maps, **map_ptrs;
	int64_t comments[2 + LOST_MAX + FACT_MAX];
};

static void wmsgs_free(struct wmsgs *m)
{
	free(m->samples);
	free(m->sample_ptrs);
	free(m->loc_ids);
	free(m->values);
	free(m->labels);
	free(m->label_ptrs);
	free(m->locs);
	free(m->loc_ptrs);
	free(m->lines);
	free(m->line_ptrs);
	free(m->funcs);
	free(m->func_ptrs);
	free(m->maps);
	free(m->map_ptrs);
}

static void w_locations(struct writer *w, struct wmsgs *m, Pprof__Profile *pb)
{
	size_t i, nline = 0;

	for (i = 0; i < w->locs.nr; i++) {
		const uint32_t *ids = seqmap__ids(&w->locs, i);
		uint32_t len = w->locs.seqs[i].len, k;
		const struct profile_frame *phys = profile__frame(w->p, ids[0]);
		Pprof__Location *l = &m->locs[i];

		pprof__location__init(l);
		l->id = i + 1;
		l->mapping_id = w_map(w, phys);
		l->address = phys->addr;
		l->line = &m->line_ptrs[nline];
		/* Innermost inlined callee first, the physical function last. */
		for (k = len; k-- > 0;) {
			const struct profile_frame *f = profile__frame(w->p, ids[k]);
			Pprof__Line *ln = &m->lines[nline];

			if (!f->name)
				continue;
			pprof__line__init(ln);
			ln->function_id = w_func(w, f);
			ln->line = f->line;
			m->line_ptrs[nline++] = ln;
			l->n_line++;
		}
		if (l->mapping_id && !w->err) {
			w->maps[l->mapping_id - 1].has_functions |= l->n_line > 0;
			w->maps[l->mapping_id - 1].has_inline |= l->n_line > 1;
		}
		m->loc_ptrs[i] = l;
	}
	pb->n_location = w->locs.nr;
	pb->location = m->loc_ptrs;
}

static void w_functions(struct writer *w, struct wmsgs *m, Pprof__Profile *pb)
{
	size_t i;

	for (i = 0; i < w->funcs.nr; i++) {
		Pprof__Function *fn = &m->funcs[i];

		pprof__function__init(fn);
		fn->id = i + 1;
		fn->name = w_str(w, seqmap__ids(&w->funcs, i)[0]);
		fn->system_name = fn->name;
		fn->filename = w_str(w, seqmap__ids(&w->funcs, i)[2]);
		fn->start_line = seqmap__ids(&w->funcs, i)[3];
		m->func_ptrs[i] = fn;
	}
	pb->n_function = w->funcs.nr;
	pb->function = m->func_ptrs;
}

static void w_mappings(struct writer *w, struct wmsgs *m, Pprof__Profile *pb)
{
	size_t i;

	for (i = 0; i < w->nr_maps; i++) {
		const struct profile_mapping *pm = profile__mapping(w->p, w->maps[i].prof_id);
		Pprof__Mapping *mp = &m->maps[i];

		pprof__mapping__init(mp);
		mp->id = i + 1;
		if (pm) {
			mp->memory_start = pm->start;
			mp->memory_limit = pm->limit;
			mp->file_offset = pm->offset;
			mp->filename = w_str(w, pm->file);
			mp->build_id = w_str(w, pm->build_id);
		} else {
			mp->filename = w_cstr(w, w->maps[i].kind == FRAME_JIT      ? JIT_MAPPING
						 : w->maps[i].kind == FRAME_PYTHON ? PYTHON_MAPPING
						 : w->maps[i].kind == FRAME_PHP	   ? PHP_MAPPING
						 : w->maps[i].kind == FRAME_V8	   ? V8_MAPPING
						 : w->maps[i].kind == FRAME_RUBY   ? RUBY_MAPPING
						 : w->maps[i].kind == FRAME_PERL   ? PERL_MAPPING
										   : KERNEL_MAPPING);
		}
		mp->has_functions = w->maps[i].has_functions;
		mp->has_inline_frames = w->maps[i].has_inline;
		m->map_ptrs[i] = mp;
	}
	pb->n_mapping = w->nr_maps;
	pb->mapping = m->map_ptrs;
}

/*
 * A pid as a string label: Pyroscope keeps only string labels (a numeric one is dropped), and
 * Parca and go tool pprof show either alike. Each pid's string is made once.
 */
static int64_t w_pid(struct writer *w, uint32_t pid)
{
	char buf[16];
	bool added;
	long i = seqmap__get(&w->pids, &pid, 1, &added);

	if (i < 0 || grow_array((void **)&w->pid_str, &w->cap_pid_str, i + 1,
				sizeof(*w->pid_str))) {
		w->err = -ENOMEM;
		return 0;
	}
	if (added) {
		snprintf(buf, sizeof(buf), "%u", pid);
		w->pid_str[i] = w_cstr(w, buf);
	}
	return w->pid_str[i];
}

static void w_samples(struct writer *w, struct wmsgs *m, Pprof__Profile *pb, uint64_t period)
{
	int64_t k_process = w_cstr(w, "process"), k_pid = w_cstr(w, "pid");
	int64_t k_thread = w_cstr(w, "thread");
	int64_t k_attr[4] = { w_cstr(w, "cgroup"), w_cstr(w, "systemd_unit"),
			      w_cstr(w, "container_id"), w_cstr(w, "pod_uid") };
	size_t i, nids = 0, nlabels = 0;

	for (i = 0; i < w->samples.nr; i++) {
		const uint32_t *key = seqmap__ids(&w->samples, i);
		const struct profile_attrib *attr;
		uint32_t len = w->samples.seqs[i].len, k;
		Pprof__Sample *s = &m->samples[i];

		pprof__sample__init(s);
		s->location_id = &m->loc_ids[nids];
		for (k = KEY_HDR; k < len; k++)
			m->loc_ids[nids++] = (uint64_t)key[k] + 1;
		s->n_location_id = len - KEY_HDR;
		s->value = &m->values[i * pb->n_sample_type];
		s->n_value = pb->n_sample_type;
		if (w->time_scale)
			s->value[0] = sat_mul_i64(w->counts[i], w->time_scale);
		else
			s->value[0] = w->counts[i] > INT64_MAX ? INT64_MAX : (int64_t)w->counts[i];
		if (period)
			s->value[1] = sat_mul_i64(w->counts[i], period);
		s->label = &m->label_ptrs[nlabels];
		attr = profile__attrib(w->p, key[3]);
		if (key[1]) {
			Pprof__Label *lb = &m->labels[nlabels];

			pprof__label__init(lb);
			lb->key = k_process;
			lb->str = w_str(w, key[1]);
			m->label_ptrs[nlabels++] = lb;
			s->n_label++;
		}
		if (key[0]) {
			Pprof__Label *lb = &m->labels[nlabels];

			pprof__label__init(lb);
			lb->key = k_pid;
			lb->str = w_pid(w, key[0]);
			m->label_ptrs[nlabels++] = lb;
			s->n_label++;
		}
		if (key[2]) {
			Pprof__Label *lb = &m->labels[nlabels];

			pprof__label__init(lb);
			lb->key = k_thread;
			lb->str = w_str(w, key[2]);
			m->label_ptrs[nlabels++] = lb;
			s->n_label++;
		}
		if (attr) {
			const uint32_t v[4] = { attr->cgroup, attr->unit, attr->container, attr->pod };

			for (k = 0; k < 4; k++) {
				Pprof__Label *lb = &m->labels[nlabels];

				if (!v[k])
					continue;
				pprof__label__init(lb);
				lb->key = k_attr[k];
				lb->str = w_str(w, v[k]);
				m->label_ptrs[nlabels++] = lb;
				s->n_label++;
			}
		}
		m->sample_ptrs[i] = s;
	}
	pb->n_sample = w->samples.nr;
	pb->sample = m->sample_ptrs;
}

/*
 * Comments: host, target and losses as "key: value" lines (r_meta reads them back), then the
 * description's facts that pprof has no field for (CPUs, unwinding, symbols), as the SVG
 * subtitle words them.
 */
static void w_comments(struct writer *w, struct wmsgs *m, Pprof__Profile *pb)
{
	static const enum profile_fact prose[] = { FACT_CPUS, FACT_UNWIND, FACT_SYMBOLS };
	const struct profile_meta *meta = profile__meta_const(w->p);
	struct profile_desc d;
	char buf[512];
	size_t i;

	pb->comment = m->comments;
	if (meta->host[0]) {
		snprintf(buf, sizeof(buf), "host: %.*s", (int)sizeof(meta->host), meta->host);
		m->comments[pb->n_comment++] = w_cstr(w, buf);
	}
	if (meta->mode[0]) {
		snprintf(buf, sizeof(buf), "mode: %.*s", (int)sizeof(meta->mode), meta->mode);
		m->comments[pb->n_comment++] = w_cstr(w, buf);
	}
	for (i = 0; i < LOST_MAX; i++) {
		snprintf(buf, sizeof(buf), "lost samples (%s): %" PRIu64, profile_lost_names[i],
			 meta->lost[i]);
		m->comments[pb->n_comment++] = w_cstr(w, buf);
	}
	profile_meta__describe(meta, 0, NULL, &d);
	for (i = 0; i < ARRAY_SIZE(prose); i++)
		if (d.fact[prose[i]][0])
			m->comments[pb->n_comment++] = w_cstr(w, d.fact[prose[i]]);
}

static int w_alloc(struct writer *w, struct wmsgs *m)
{
	size_t ns = w->samples.nr, nl = w->locs.nr, nids = w->samples.pool_len - KEY_HDR * ns;

	/* Functions and mappings are at most one per location frame and location. */
	m->samples = calloc_n(ns, sizeof(*m->samples));
	m->sample_ptrs = calloc_n(ns, sizeof(*m->sample_ptrs));
	m->loc_ids = calloc_n(nids, sizeof(*m->loc_ids));
	m->values = calloc_n(ns * 2, sizeof(*m->values));
	m->labels = calloc_n(ns * MAX_LABELS, sizeof(*m->labels));
	m->label_ptrs = calloc_n(ns * MAX_LABELS, sizeof(*m->label_ptrs));
	m->locs = calloc_n(nl, sizeof(*m->locs));
	m->loc_ptrs = calloc_n(nl, sizeof(*m->loc_ptrs));
	m->lines = calloc_n(w->locs.pool_len, sizeof(*m->lines));
	m->line_ptrs = calloc_n(w->locs.pool_len, sizeof(*m->line_ptrs));
	if (!m->samples || !m->sample_ptrs || !m->loc_ids || !m->values || !m->labels ||
	    !m->label_ptrs || !m->locs || !m->loc_ptrs || !m->lines || !m->line_ptrs)
		return -ENOMEM;
	return 0;
}

/* Functions and mappings are known only once the locations are built. */
static int w_alloc_late(struct writer *w, struct wmsgs *m)
{
	m->funcs = calloc_n(w->funcs.nr, sizeof(*m->funcs));
	m->func_ptrs = calloc_n(w->funcs.nr, sizeof(*m->func_ptrs));
	m->maps = calloc_n(w->nr_maps, sizeof(*m->maps));
	m->map_ptrs = calloc_n(w->nr_maps, sizeof(*m->map_ptrs));
	if (!m->funcs || !m->func_ptrs || !m->maps || !m->map_ptrs)
		return -ENOMEM;
	return 0;
}

static int w_pack(const Pprof__Profile *pb, FILE *f)
{
	struct gzsink *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->base.append = gzsink_append;
	s->f = f;
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
	if (deflateInit2(&s->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(s);
		return -ENOMEM;
	}
	errno = 0;
	protobuf_c_message_pack_to_buffer(&pb->base, &s->base);
	if (!s->err)
		gzsink_deflate(s, Z_FINISH);
	ret = s->err;
	if (!ret && fflush(f))
		ret = errno ? -errno : -EIO;
	if (!ret && ferror(f))
		ret = -EIO;
	deflateEnd(&s->zs);
	free(s);
	return ret;
}

int pprof__write(const struct profile *p, FILE *f)
{
	const struct profile_meta *meta = profile__meta_const(p);
	uint64_t period = meta->freq_hz ? NSEC_PER_SEC / meta->freq_hz : 0;
	struct writer w = {.p = p};
	struct wmsgs m = {};
	Pprof__Profile pb;
	size_t i;
	int ret;

	pprof__profile__init(&pb);
	w.str_of = calloc(profile__nr_strs(p), sizeof(*w.str_of));
	w.map_of = calloc(profile__nr_mappings(p) + 1, sizeof(*w.map_of));
	w.nr_frames = profile__nr_frames(p) + 1;
	w.single = calloc(w.nr_frames, sizeof(*w.single));
	if (!w.str_of || !w.map_of || !w.single ||
	    grow_array((void **)&w.strs, &w.cap_strs, 1, sizeof(*w.strs))) {
		ret = -ENOMEM;
		goto cleanup;
	}
	w.strs[w.nr_strs++] = (ProtobufCBinaryData){0, NULL};

	for (i = 0; i < profile__nr_samples(p); i++) {
		ret = w_add_sample(&w, profile__sample(p, i));
		if (ret)
			goto cleanup;
	}

	if (meta->profile_mode != PROFILE_CPU) {
		/*
		 * Off-CPU and wall-clock time: one value in nanoseconds (the counts are
		 * microseconds), named as the OpenTelemetry profiler and Pyroscope name them.
		 */
		pprof__value_type__init(&m.types[0]);
		m.types[0].type = w_cstr(&w, profile_mode__pprof_type(meta->profile_mode));
		m.types[0].unit = w_cstr(&w, "nanoseconds");
		m.type_ptrs[0] = &m.types[0];
		pb.n_sample_type = 1;
		m.period_type = m.types[0];
		pb.period_type = &m.period_type;
		pb.period = meta->profile_mode == PROFILE_WALL ? (int64_t)period : 0;
		w.time_scale = 1000;
		period = 0;
	} else {
		/* Go's CPU profiles: samples/count, then cpu/nanoseconds when the period is known. */
		pprof__value_type__init(&m.types[0]);
		m.types[0].type = w_cstr(&w, "samples");
		m.types[0].unit = w_cstr(&w, "count");
		m.type_ptrs[0] = &m.types[0];
		pb.n_sample_type = 1;
		if (period) {
			pprof__value_type__init(&m.types[1]);
			m.types[1].type = w_cstr(&w, "cpu");
			m.types[1].unit = w_cstr(&w, "nanoseconds");
			m.type_ptrs[1] = &m.types[1];
			pb.n_sample_type = 2;
			m.period_type = m.types[1];
			pb.period_type = &m.period_type;
			pb.period = period;
		}
	}
	pb.sample_type = m.type_ptrs;

	ret = w_alloc(&w, &m);
	if (ret)
		goto cleanup;
	w_samples(&w, &m, &pb, period);
	w_locations(&w, &m, &pb);
	ret = w.err ? w.err : w_alloc_late(&w, &m);
	if (ret)
		goto cleanup;
	w_functions(&w, &m, &pb);
	w_mappings(&w, &m, &pb);
	w_comments(&w, &m, &pb);
	if (w.err) {
		ret = w.err;
		goto cleanup;
	}
	pb.time_nanos = meta->start_ns <= INT64_MAX ? (int64_t)meta->start_ns : 0;
	pb.duration_nanos = meta->duration_ns <= INT64_MAX ? (int64_t)meta->duration_ns : 0;
	pb.n_string_table = w.nr_strs;
	pb.string_table = w.strs;

	ret = w_pack(&pb, f);
cleanup:
	wmsgs_free(&m);
	for (i = 0; i < w.nr_owned; i++)
		free(w.owned[i]);
	free(w.owned);
	free(w.strs);
	free(w.str_of);
	free(w.map_of);
	free(w.single);
	free(w.maps);
	free(w.key);
	free(w.counts);
	seqmap__free(&w.funcs);
	seqmap__free(&w.locs);
	seqmap__free(&w.samples);
	seqmap__free(&w.pids);
	free(w.pid_str);
	return ret;
}

/* ---- reading ---- */

/* Inflates one or more concatenated gzip members, never past max bytes. */
static int gunzip(const unsigned char *in, size_t len, size_t max, unsigned char **ret_buf,
		  size_t *ret_len)
{
	size_t cap = 0, out_len = 0, in_left = len;
	unsigned char *out = NULL;
	z_stream zs = {};
	int ret, zr;

	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	zs.next_in = (unsigned char *)in;
	for (;;) {
		if (!zs.avail_in && in_left) {
			zs.avail_in = MIN(in_left, (size_t)UINT32_MAX);
			in_left -= zs.avail_in;
		}
		if (out_len == cap) {
			size_t ncap =
				cap ? cap * 2 : MAX((size_t)1 << 16, MIN(len, SIZE_MAX / 8) * 4);
			unsigned char *n;

			if (cap >= max) {
				ret = -EFBIG;
				goto cleanup;
			}
			ncap = MIN(ncap, max);
			n = realloc(out, ncap);
			if (!n) {
				ret = -ENOMEM;
				goto cleanup;
			}
			out = n;
			cap = ncap;
		}
		zs.next_out = out + out_len;
		zs.avail_out = cap - out_len;
		zr = inflate(&zs, Z_NO_FLUSH);
		out_len = cap - zs.avail_out;
		if (zr == Z_STREAM_END) {
			if (!zs.avail_in && in_left) {
				zs.avail_in = MIN(in_left, (size_t)UINT32_MAX);
				in_left -= zs.avail_in;
			}
			if (!zs.avail_in)
				break;
			/* Another member may follow (as with `cat a.gz b.gz`); nothing else may. */
			if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) {
				ret = -EINVAL;
				goto cleanup;
			}
			if (inflateReset(&zs) != Z_OK) {
				ret = -EINVAL;
				goto cleanup;
			}
			continue;
		}
		if (zr == Z_MEM_ERROR) {
			ret = -ENOMEM;
			goto cleanup;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			ret = -EINVAL;
			goto cleanup;
		}
		/* No progress possible with output room left: the input is cut short. */
		if (zr == Z_BUF_ERROR && zs.avail_out && !zs.avail_in && !in_left) {
			ret = -EINVAL;
			goto cleanup;
		}
	}
	*ret_buf = out;
	*ret_len = out_len;
	out = NULL;
	ret = 0;
cleanup:
	inflateEnd(&zs);
	free(out);
	return ret;
}

/* protobuf-c allocations count against a budget, so an amplifying input fails early. */
struct budget {
	size_t used, limit;
	bool exceeded;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;

	if (size > b->limit - b->used) {
		b->exceeded = true;
		return NULL;
	}
	b->used += size;
	return malloc(size);
}

static void budget_free(void *data, void *ptr)
{
	free(ptr);
}

/* Ids of mappings, locations or functions, checked unique and non-zero, and how to find them. */
struct idref {
	uint64_t id;
	uint32_t idx;
};

struct idtab {
	struct idref *refs; /* sorted by id; NULL when dense */
	size_t n;
	bool dense; /* ids are exactly 1..n in order */
};

static int idref_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct idref *)a)->id, y = ((const struct idref *)b)->id;

	return (x > y) - (x < y);
}

static int idtab_build(struct idtab *t, const uint64_t *ids, size_t n)
{
	size_t i;

	t->n = n;
	t->dense = true;
	for (i = 0; i < n && t->dense; i++)
		t->dense = ids[i] == i + 1;
	if (t->dense)
		return 0;
	t->refs = calloc_n(n, sizeof(*t->refs));
	if (!t->refs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		t->refs[i] = (struct idref){ids[i], i};
	qsort(t->refs, n, sizeof(*t->refs), idref_cmp);
	for (i = 0; i < n; i++)
		if (!t->refs[i].id || (i && t->refs[i].id == t->refs[i - 1].id))
			return -EINVAL;
	return 0;
}

/* The index of id, or -1. */
static long idtab_find(const struct idtab *t, uint64_t id)
{
	size_t lo = 0, hi = t->n;

	if (t->dense)
		return id && id <= t->n ? (long)(id - 1) : -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->refs[mid].id == id)
			return t->refs[mid].idx;
		if (t->refs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct reader {
	const Pprof__Profile *m;
	struct profile *p;
	uint32_t *str_ids; /* string index -> profile string id + 1, 0 = not interned yet */
	struct idtab maps, fns, locs;
	uint32_t *map_ids;	       /* mapping index -> profile mapping id */
	uint8_t *map_kinds;	       /* mapping index -> the kind of its frames */
	uint32_t *fn_names;	       /* function index -> profile string id */
	uint8_t *fn_kinds;	       /* kind forced by a name suffix, FRAME_KIND_MAX = none */
	uint32_t *fn_pynames;	       /* "name (file base)" of a Python function; 0 = not yet */
	uint32_t *loc_first, *loc_len; /* location index -> its frames in loc_frames */
	uint32_t *loc_frames;
	size_t nr_loc_frames, cap_loc_frames;
	uint32_t *stack;
	size_t cap_stack;
};

/* The bytes of string idx, cut at a NUL (profile strings hold none); -EINVAL if out of range. */
static int r_bytes(const struct reader *r, int64_t idx, const char **ret, size_t *ret_len)
{
	const ProtobufCBinaryData *s;
	const char *nul;

	if (idx < 0 || (uint64_t)idx >= r->m->n_string_table)
		return -EINVAL;
	s = &r->m->string_table[idx];
	*ret = s->len ? (const char *)s->data : "";
	nul = s->len ? memchr(*ret, '\0', s->len) : NULL;
	*ret_len = nul ? (size_t)(nul - *ret) : s->len;
	return 0;
}

static bool r_is(const struct reader *r, int64_t idx, const char *want)
{
	const char *s;
	size_t len;

	return !r_bytes(r, idx, &s, &len) && len == strlen(want) && !memcmp(s, want, len);
}

static int r_intern(struct reader *r, int64_t idx, uint32_t *ret)
{
	const char *s;
	size_t len;
	uint32_t id;

	if (r_bytes(r, idx, &s, &len))
		return -EINVAL;
	if (r->str_ids[idx]) {
		*ret = r->str_ids[idx] - 1;
		return 0;
	}
	id = profile__intern(r->p, s, len);
	if (len && !id)
		return -ENOMEM;
	r->str_ids[idx] = id + 1;
	*ret = id;
	return 0;
}

static bool has_suffix(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len >= n && !memcmp(s + len - n, suf, n);
}

/* The kind of frames a mapping file holds: the kernel or a module, JIT code, or user code. */
static uint8_t file_kind(const char *s, size_t len)
{
	static const char *const mods[] = {".ko", ".ko.gz", ".ko.xz", ".ko.zst"};
	const char *base = s + len;
	size_t i;

	if (len >= 7 && !memcmp(s, "[kernel", 7))
		return FRAME_KERNEL;
	for (i = 0; i < ARRAY_SIZE(mods); i++)
		if (has_suffix(s, len, mods[i]))
			return FRAME_KERNEL;
	if (len == strlen(JIT_MAPPING) && !memcmp(s, JIT_MAPPING, len))
		return FRAME_JIT;
	if (len == strlen(PYTHON_MAPPING) && !memcmp(s, PYTHON_MAPPING, len))
		return FRAME_PYTHON;
	if (len == strlen(PHP_MAPPING) && !memcmp(s, PHP_MAPPING, len))
		return FRAME_PHP;
	if (len == strlen(V8_MAPPING) && !memcmp(s, V8_MAPPING, len))
		return FRAME_V8;
	if (len == strlen(RUBY_MAPPING) && !memcmp(s, RUBY_MAPPING, len))
		return FRAME_RUBY;
	if (len == strlen(PERL_MAPPING) && !memcmp(s, PERL_MAPPING, len))
		return FRAME_PERL;
	/* perf's symbol maps for JIT code, /tmp/perf-PID.map */
	while (base > s && base[-1] != '/')
		base--;
	len -= base - s;
	if (len <= 9 || memcmp(base, "perf-", 5) || !has_suffix(base, len, ".map"))
		return FRAME_USER;
	for (i = 5; i < len - 4; i++)
		if (base[i] < '0' || base[i] > '9')
			return FRAME_USER;
	return FRAME_JIT;
}

static int r_mappings(struct reader *r)
{
	const Pprof__Profile *m = r->m;
	uint64_t *ids = calloc_n(m->n_mapping, sizeof(*ids));
	size_t i;
	int ret;

	r->map_ids = calloc_n(m->n_mapping, sizeof(*r->map_ids));
	r->map_kinds = calloc_n(m->n_mapping, sizeof(*r->map_kinds));
	if (!ids || !r->map_ids || !r->map_kinds) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < m->n_mapping; i++)
		ids[i] = m->mapping[i]->id;
	ret = idtab_build(&r->maps, ids, m->n_mapping);
	if (ret)
		goto cleanup;
	for (i = 0; i < m->n_mapping; i++) {
		const Pprof__Mapping *mp = m->mapping[i];
		struct profile_mapping pm = {
			.start = mp->memory_start,
			.limit = mp->memory_limit,
			.offset = mp->file_offset,
		};
		const char *file;
		size_t len;

		ret = r_intern(r, mp->filename, &pm.file);
		if (!ret)
			ret = r_intern(r, mp->build_id, &pm.build_id);
		if (ret)
			goto cleanup;
		r_bytes(r, mp->filename, &file, &len);
		r->map_kinds[i] = file_kind(file, len);
		r->map_ids[i] = profile__add_mapping(r->p, &pm);
		if (!r->map_ids[i]) {
			ret = -ENOMEM;
			goto cleanup;
		}
	}
cleanup:
	free(ids);
	return ret;
}

static int r_functions(struct reader *r)
{
	static const struct {
		const char *suffix;
		uint8_t kind;
	} suffixes[] = {
		{"_[k]", FRAME_KERNEL},
		{"_[j]", FRAME_JIT},
		{"_[i]", FRAME_INLINE},
		{"_[p]", FRAME_PYTHON},
		{"_[z]", FRAME_PHP},
		{"_[v]", FRAME_V8},
		{"_[r]", FRAME_RUBY},
		{"_[l]", FRAME_PERL},
	};
	const Pprof__Profile *m = r->m;
	uint64_t *ids = calloc_n(m->n_function, sizeof(*ids));
	size_t i, k;
	int ret;

	r->fn_names = calloc_n(m->n_function, sizeof(*r->fn_names));
	r->fn_kinds = calloc_n(m->n_function, sizeof(*r->fn_kinds));
	r->fn_pynames = calloc_n(m->n_function, sizeof(*r->fn_pynames));
	if (!ids || !r->fn_names || !r->fn_kinds || !r->fn_pynames) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < m->n_function; i++)
		ids[i] = m->function[i]->id;
	ret = idtab_build(&r->fns, ids, m->n_function);
	if (ret)
		goto cleanup;
	for (i = 0; i < m->n_function; i++) {
		const Pprof__Function *fn = m->function[i];
		const char *name, *unused;
		size_t len, unused_len;

		ret = -EINVAL;
		if (r_bytes(r, fn->name, &name, &len) ||
		    r_bytes(r, fn->filename, &unused, &unused_len) ||
		    r_bytes(r, fn->system_name, &unused, &unused_len))
			goto cleanup;
		if (!len)
			r_bytes(r, fn->system_name, &name, &len);
		if (!len) {
			name = UNKNOWN_NAME;
			len = strlen(name);
		}
		r->fn_kinds[i] = FRAME_KIND_MAX;
		for (k = 0; k < ARRAY_SIZE(suffixes); k++) {
			if (len > strlen(suffixes[k].suffix) &&
			    has_suffix(name, len, suffixes[k].suffix)) {
				r->fn_kinds[i] = suffixes[k].kind;
				len -= strlen(suffixes[k].suffix);
				break;
			}
		}
		r->fn_names[i] = profile__intern(r->p, name, len);
		if (!r->fn_names[i]) {
			ret = -ENOMEM;
			goto cleanup;
		}

	}
	ret = 0;
cleanup:
	free(ids);
	return ret;
}

/*
 * A Python function's frame name, "qualname (file.py)" as flamed names it, from its plain name
 * and Function.filename (the name alone without a filename); 0 on ENOMEM.
 */
static uint32_t r_pyname(struct reader *r, long fi)
{
	const char *file, *base, *name = profile__str(r->p, r->fn_names[fi]);
	size_t len;
	char *pn;
	int n;

	if (r->fn_pynames[fi])
		return r->fn_pynames[fi];
	r_bytes(r, r->m->function[fi]->filename, &file, &len);
	if (!len)
		return r->fn_pynames[fi] = r->fn_names[fi];
	for (base = file + len; base > file && base[-1] != '/'; base--)
		;
	n = asprintf(&pn, "%s (%.*s)", name, (int)(len - (base - file)), base);
	if (n < 0)
		return 0;
	r->fn_pynames[fi] = profile__intern(r->p, pn, n);
	free(pn);
	return r->fn_pynames[fi];
}

static int r_add_loc_frame(struct reader *r, const struct profile_frame *f)
{
	uint32_t id = profile__add_frame(r->p, f);

	if (!id || grow_array((void **)&r->loc_frames, &r->cap_loc_frames, r->nr_loc_frames + 1,
			sizeof(*r->loc_frames)))
		return -ENOMEM;
	r->loc_frames[r->nr_loc_frames++] = id;
	return 0;
}

/* Each location's frames, root first: the physical function, then its inlined callees. */
static int r_locations(struct reader *r)
{
	const Pprof__Profile *m = r->m;
	uint64_t *ids = calloc_n(m->n_location, sizeof(*ids));
	size_t i, k;
	int ret;

	r->loc_first = calloc_n(m->n_location, sizeof(*r->loc_first));
	r->loc_len = calloc_n(m->n_location, sizeof(*r->loc_len));
	if (!ids || !r->loc_first || !r->loc_len) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < m->n_location; i++)
		ids[i] = m->location[i]->id;
	ret = idtab_build(&r->locs, ids, m->n_location);
	if (ret)
		goto cleanup;
	for (i = 0; i < m->n_location; i++) {
		const Pprof__Location *l = m->location[i];
		struct profile_frame f = {.addr = l->address};
		uint8_t kind = FRAME_USER;
		long mi = -1;

		ret = -EINVAL;
		if (l->mapping_id) {
			mi = idtab_find(&r->maps, l->mapping_id);
			if (mi < 0)
				goto cleanup;
			f.mapping = r->map_ids[mi];
			kind = r->map_kinds[mi];
		}
		if (r->nr_loc_frames + MAX(l->n_line, 1) > UINT32_MAX) {
			ret = -EFBIG;
			goto cleanup;
		}
		r->loc_first[i] = r->nr_loc_frames;
		if (!l->n_line) {
			char buf[32];

			if (l->address)
				snprintf(buf, sizeof(buf), "0x%" PRIx64, l->address);
			else
				snprintf(buf, sizeof(buf), "%s", UNKNOWN_NAME);
			f.name = profile__intern_str(r->p, buf);
			f.kind = kind;
			ret = f.name ? r_add_loc_frame(r, &f) : -ENOMEM;
			if (ret)
				goto cleanup;
		}
		for (k = l->n_line; k-- > 0;) {
			long fi = idtab_find(&r->fns, l->line[k]->function_id);

			if (fi < 0) {
				ret = -EINVAL;
				goto cleanup;
			}
			f.name = r->fn_names[fi];
			if (k + 1 < l->n_line)
				f.kind = FRAME_INLINE;
			else if (r->fn_kinds[fi] != FRAME_KIND_MAX)
				f.kind = r->fn_kinds[fi];
			else
				f.kind = kind;
			/* PHP, JavaScript, Ruby and Perl functions: "name (file)" the same way. */
			if (frame_kind_is_runtime(f.kind) && !(f.name = r_pyname(r, fi))) {
				ret = -ENOMEM;
				goto cleanup;
			}
			ret = r_add_loc_frame(r, &f);
			if (ret)
				goto cleanup;
		}
		r->loc_len[i] = r->nr_loc_frames - r->loc_first[i];
	}
	ret = 0;
cleanup:
	free(ids);
	return ret;
}

/* Checks a sample's labels and picks out the process, pid and thread. */
static int r_labels(struct reader *r, const Pprof__Sample *s, uint32_t *pid, uint32_t *comm,
		    uint32_t *thread)
{
	size_t i;
	int ret;

	*pid = *comm = *thread = 0;
	for (i = 0; i < s->n_label; i++) {
		const Pprof__Label *lb = s->label[i];
		const char *str;
		size_t len;

		if (r_bytes(r, lb->key, &str, &len) || r_bytes(r, lb->num_unit, &str, &len) ||
		    r_bytes(r, lb->str, &str, &len))
			return -EINVAL;
		if (lb->str && (r_is(r, lb->key, "process") || r_is(r, lb->key, "comm"))) {
			ret = r_intern(r, lb->str, comm);
		} else if (lb->str && r_is(r, lb->key, "thread")) {
			ret = r_intern(r, lb->str, thread);
		} else if (r_is(r, lb->key, "pid")) {
			uint64_t v = lb->num > 0 ? (uint64_t)lb->num : 0;
			char buf[24];

			if (lb->str && len < sizeof(buf)) {
				memcpy(buf, str, len);
				buf[len] = '\0';
				if (parse_u64(buf, UINT32_MAX, &v))
					v = 0;
			}
			*pid = v <= UINT32_MAX ? v : 0;
			ret = 0;
		} else {
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int r_samples(struct reader *r)
{
	const Pprof__Profile *m = r->m;
	uint64_t total_frames = 0, total = 0, v;
	enum profile_mode mode = PROFILE_CPU;
	size_t vi = 0, i, k;
	int ret;

	if (!m->n_sample_type && m->n_sample)
		return -EINVAL;
	for (i = 0; i < m->n_sample_type; i++) {
		const Pprof__ValueType *vt = m->sample_type[i];
		const char *s;
		size_t len;

		if (r_bytes(r, vt->type, &s, &len) || r_bytes(r, vt->unit, &s, &len))
			return -EINVAL;
	}
	for (i = 0; i < m->n_sample_type; i++) {
		if (r_is(r, m->sample_type[i]->type, "samples") &&
		    r_is(r, m->sample_type[i]->unit, "count")) {
			vi = i;
			break;
		}
	}
	/* Off-CPU or wall-clock time alone: nanoseconds, counted in microseconds. */
	if (m->n_sample_type == 1 && r_is(r, m->sample_type[0]->unit, "nanoseconds")) {
		if (r_is(r, m->sample_type[0]->type, "off_cpu"))
			mode = PROFILE_OFFCPU;
		else if (r_is(r, m->sample_type[0]->type, "wall"))
			mode = PROFILE_WALL;
	}
	profile__meta(r->p)->profile_mode = mode;
	for (i = 0; i < m->n_sample; i++) {
		const Pprof__Sample *s = m->sample[i];
		uint32_t pid, comm, thread, depth = 0;

		if (s->n_value != m->n_sample_type)
			return -EINVAL;
		ret = r_labels(r, s, &pid, &comm, &thread);
		if (ret)
			return ret;
		/* pprof lists locations leaf first; the profile wants the root first. */
		for (k = s->n_location_id; k-- > 0;) {
			long li = idtab_find(&r->locs, s->location_id[k]);

			if (li < 0)
				return -EINVAL;
			if ((size_t)depth + r->loc_len[li] > PPROF_MAX_DEPTH)
				return -EFBIG;
			if (grow_array((void **)&r->stack, &r->cap_stack, depth + r->loc_len[li],
				 sizeof(*r->stack)))
				return -ENOMEM;
			memcpy(r->stack + depth, r->loc_frames + r->loc_first[li],
			       r->loc_len[li] * sizeof(*r->stack));
			depth += r->loc_len[li];
		}
		if (s->value[vi] <= 0)
			continue;
		v = mode == PROFILE_CPU ? (uint64_t)s->value[vi] : ((uint64_t)s->value[vi] + 500) / 1000;
		if (!v)
			continue;
		/* Bounded, so no sum a renderer makes of these counts can wrap around. */
		if (v > PROFILE_MAX_TOTAL - total)
			return -EOVERFLOW;
		total_frames += depth;
		if (total_frames > PPROF_MAX_FRAMES)
			return -EFBIG;
		ret = profile__add_sample(r->p, r->stack, depth, v, pid, comm, thread);
		if (ret)
			return ret;
		total += v;
	}
	profile__meta(r->p)->samples = total;
	return 0;
}

/* Copies a comment's text after prefix into dst (NUL-terminated); false if it does not match. */
static bool comment_value(const char *s, size_t len, const char *prefix, char *dst, size_t size)
{
	size_t n = strlen(prefix);

	if (len < n || memcmp(s, prefix, n))
		return false;
	len = MIN(len - n, size - 1);
	memcpy(dst, s + n, len);
	dst[len] = '\0';
	return true;
}

/* The meta: times, frequency from the period, and what our own comments say. */
static int r_meta(struct reader *r)
{
	const Pprof__Profile *m = r->m;
	struct profile_meta *meta = profile__meta(r->p);
	const char *s;
	size_t len, i;
	int k;

	if (r_bytes(r, m->drop_frames, &s, &len) || r_bytes(r, m->keep_frames, &s, &len) ||
	    r_bytes(r, m->default_sample_type, &s, &len) || r_bytes(r, m->doc_url, &s, &len))
		return -EINVAL;
	meta->start_ns = m->time_nanos > 0 ? (uint64_t)m->time_nanos : 0;
	meta->duration_ns = m->duration_nanos > 0 ? (uint64_t)m->duration_nanos : 0;
	if (m->period_type) {
		if (r_bytes(r, m->period_type->type, &s, &len) ||
		    r_bytes(r, m->period_type->unit, &s, &len))
			return -EINVAL;
		/* Wall-clock profiles sample on-CPU stacks at the rate too (their period). */
		if ((r_is(r, m->period_type->type, "cpu") || r_is(r, m->period_type->type, "wall")) &&
		    r_is(r, m->period_type->unit, "nanoseconds") && m->period > 0)
			meta->freq_hz =
				(NSEC_PER_SEC + (uint64_t)m->period / 2) / (uint64_t)m->period;
	}
	for (i = 0; i < m->n_comment; i++) {
		char buf[128], *end;

		if (r_bytes(r, m->comment[i], &s, &len))
			return -EINVAL;
		if (comment_value(s, len, "host: ", meta->host, sizeof(meta->host)) ||
		    comment_value(s, len, "mode: ", meta->mode, sizeof(meta->mode)) ||
		    !comment_value(s, len, "lost samples (", buf, sizeof(buf)))
			continue;
		end = strstr(buf, "): ");
		if (!end)
			continue;
		*end = '\0';
		for (k = 0; k < LOST_MAX; k++)
			if (!strcmp(buf, profile_lost_names[k]) &&
			    parse_u64(end + 3, UINT64_MAX, &meta->lost[k]))
				meta->lost[k] = 0;
	}
	return 0;
}

static int r_convert(struct reader *r)
{
	const Pprof__Profile *m = r->m;
	int ret;

	/* Every string index points into the table, whose first entry is "". */
	if (!m->n_string_table || m->string_table[0].len)
		return -EINVAL;
	r->str_ids = calloc(m->n_string_table, sizeof(*r->str_ids));
	if (!r->str_ids)
		return -ENOMEM;
	ret = r_mappings(r);
	if (!ret)
		ret = r_functions(r);
	if (!ret)
		ret = r_locations(r);
	if (!ret)
		ret = r_samples(r);
	if (!ret)
		ret = r_meta(r);
	return ret;
}

static void reader_free(struct reader *r)
{
	free(r->str_ids);
	free(r->maps.refs);
	free(r->fns.refs);
	free(r->locs.refs);
	free(r->map_ids);
	free(r->map_kinds);
	free(r->fn_names);
	free(r->fn_kinds);
	free(r->fn_pynames);
	free(r->loc_first);
	free(r->loc_len);
	free(r->loc_frames);
	free(r->stack);
}

struct Pprof__Profile *pprof__unpack(const void *buf, size_t len, size_t max_raw, int *err)
{
	const unsigned char *in = buf;
	struct budget budget = {};
	ProtobufCAllocator alloc = {budget_alloc, budget_free, &budget};
	Pprof__Profile *m = NULL;
	unsigned char *raw = NULL;
	size_t raw_len = len;
	int ret = 0;

	max_raw = MIN(max_raw, (size_t)PPROF_MAX_RAW);
	if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
		ret = gunzip(in, len, max_raw, &raw, &raw_len);
		if (ret)
			goto cleanup;
		in = raw;
	} else if (len > max_raw) {
		ret = -EFBIG;
		goto cleanup;
	}
	budget.limit = MIN(PARSE_MEM_BASE + PARSE_MEM_FACTOR * (uint64_t)raw_len, PARSE_MEM_MAX);
	m = pprof__profile__unpack(&alloc, raw_len, in);
	if (!m)
		ret = budget.exceeded ? -EFBIG : -EINVAL;
cleanup:
	/* protobuf-c copies what it keeps, so the wire bytes can go now. */
	free(raw);
	if (err)
		*err = ret;
	return m;
}

void pprof__free_unpacked(struct Pprof__Profile *m)
{
	/* budget_free is plain free(): the system allocator frees what the budget gave. */
	if (m)
		pprof__profile__free_unpacked(m, NULL);
}

struct profile *pprof__read_max(const void *buf, size_t len, size_t max_raw, int *err)
{
	struct reader r = {};
	Pprof__Profile *m;
	int ret;

	m = pprof__unpack(buf, len, max_raw, &ret);
	if (!m)
		goto cleanup;
	r.m = m;
	r.p = profile__new();
	if (!r.p) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = r_convert(&r);
cleanup:
	pprof__free_unpacked(m);
	reader_free(&r);
	if (ret) {
		profile__free(r.p);
		r.p = NULL;
	}
	if (err)
		*err = ret;
	return r.p;
}

struct profile *pprof__read(const void *buf, size_t len, int *err)
{
	return pprof__read_max(buf, len, PPROF_MAX_RAW, err);
}
