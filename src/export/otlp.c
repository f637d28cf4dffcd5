// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/seqmap.h"
#include "base/util.h"
#include "export/otlp.h"
#include "render/pprof.h"
#include "otlp.pb-c.h"
#include "pprof.pb-c.h"

/* The generated names spell out the whole package. */
#define OT(name) Opentelemetry__Proto__Collector__Profiles__V1development__##name
#define OT_FN(name) opentelemetry__proto__collector__profiles__v1development__##name
#define OT_STRING OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__ANY_VALUE__VALUE_STRING_VALUE
#define OT_INT OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__ANY_VALUE__VALUE_INT_VALUE

/* Attribute keys of the semantic conventions, added to the string table when used. */
enum key {
	KEY_BUILD_ID,
	KEY_EXE_NAME,
	KEY_PID,
	KEY_THREAD,
	KEY_MAX,
};

static const char *const key_names[KEY_MAX] = {
	[KEY_BUILD_ID] = "process.executable.build_id.gnu",
	[KEY_EXE_NAME] = "process.executable.name",
	[KEY_PID] = "process.pid",
	[KEY_THREAD] = "thread.name",
};

/* A resource's key: container, pod and process name (string indexes), whether a pid, the pid. */
enum { RK_CONTAINER, RK_POD, RK_COMM, RK_HAS_PID, RK_PID, RK_LEN };
/* An attribute's key: its key (string index), the value's kind and 64 bits, its unit. */
enum { AK_KEY, AK_KIND, AK_LO, AK_HI, AK_UNIT, AK_LEN };
enum { VAL_STR, VAL_INT };

/* Resource attributes besides the user's: host, service, container, pod, pid, process name. */
#define RES_ATTRS 6

struct enc {
	const Pprof__Profile *m;
	const struct otlp_opts *o;
	char **strs;		/* pprof's strings as valid UTF-8, then the keys used */
	size_t nstrs;
	char *strbuf;
	int32_t key_idx[KEY_MAX];
	struct seqmap attrs, stacks, res;
	uint32_t *ids;		/* one stack's location ids */
	size_t ids_cap;
	/* The messages, each table's index 0 its zero value. */
	OT(Mapping) *maps, **map_ptrs;
	int32_t *map_attrs;
	OT(Function) *fns, **fn_ptrs;
	OT(Location) *locs, **loc_ptrs;
	OT(Line) *lines, **line_ptrs;
	OT(Stack) *stacks_msg, **stack_ptrs;
	int32_t *stack_locs;
	OT(KeyValueAndUnit) *kvus, **kvu_ptrs;
	OT(AnyValue) *kvu_vals;
	OT(Link) link0, *link_ptrs[1];
	OT(Sample) *smp, **smp_ptrs;
	int64_t *vals;
	int32_t *apool;
	uint32_t *smp_res;
	OT(ResourceProfiles) *rps, **rp_ptrs;
	OT(Resource) *resources;
	OT(KeyValue) *rkv, **rkv_ptrs;
	OT(AnyValue) *rkv_vals;
	OT(ScopeProfiles) *sps, **sp_ptrs;
	OT(Profile) *profiles, **profile_ptrs;
	uint8_t *profile_ids;
	OT(InstrumentationScope) scope;
	OT(ValueType) sample_type, period_type;
	OT(ProfilesDictionary) dict;
	OT(ExportProfilesServiceRequest) req;
};

/*
 * s as valid UTF-8 without NUL bytes (protobuf's strings must be UTF-8, C's end at NUL): each
 * byte that does not start a valid character becomes U+FFFD. Writes to out unless NULL; the
 * length either way.
 */
static size_t utf8_clean(const uint8_t *s, size_t n, char *out)
{
	size_t i = 0, len = 0, l;
	uint32_t cp;

	while (i < n) {
		l = s[i] ? utf8_decode(s + i, n - i, &cp) : 0;
		if (!l) {
			if (out)
				memcpy(out + len, "\xef\xbf\xbd", 3);
			len += 3;
			i++;
			continue;
		}
		if (out)
			memcpy(out + len, s + i, l);
		len += l;
		i += l;
	}
	return len;
}

static int w_strings(struct enc *e)
{
	const Pprof__Profile *m = e->m;
	size_t total = 0, i, off = 0;

	if (!m->n_string_table || m->string_table[0].len)
		return -EINVAL;
	for (i = 0; i < m->n_string_table; i++)
		total += utf8_clean(m->string_table[i].data, m->string_table[i].len, NULL) + 1;
	e->strbuf = malloc(total);
	e->strs = calloc(m->n_string_table + KEY_MAX, sizeof(*e->strs));
	if (!e->strbuf || !e->strs)
		return -ENOMEM;
	for (i = 0; i < m->n_string_table; i++) {
		e->strs[i] = e->strbuf + off;
		off += utf8_clean(m->string_table[i].data, m->string_table[i].len, e->strbuf + off);
		e->strbuf[off++] = '\0';
	}
	e->nstrs = m->n_string_table;
	return 0;
}

static bool str_ok(const struct enc *e, int64_t i)
{
	return i >= 0 && (uint64_t)i < e->m->n_string_table;
}

static bool str_is(const struct enc *e, int64_t i, const char *want)
{
	return !strcmp(e->strs[i], want);
}

static int32_t key_str(struct enc *e, enum key k)
{
	if (!e->key_idx[k]) {
		e->key_idx[k] = e->nstrs;
		e->strs[e->nstrs++] = (char *)key_names[k];
	}
	return e->key_idx[k];
}

/* The attribute table's index of (key, value, unit), added when new; or -ENOMEM. */
static long attr(struct enc *e, int32_t key, uint32_t kind, int64_t v, int64_t unit)
{
	uint32_t k[AK_LEN] = { key, kind, (uint32_t)v, (uint32_t)((uint64_t)v >> 32), unit };
	bool added;
	long i = seqmap__get(&e->attrs, k, AK_LEN, &added);

	return i < 0 ? i : i + 1;
}

static int w_mappings(struct enc *e)
{
	const Pprof__Profile *m = e->m;
	size_t n = m->n_mapping + 1, i;

	e->maps = calloc_n(n, sizeof(*e->maps));
	e->map_ptrs = calloc_n(n, sizeof(*e->map_ptrs));
	e->map_attrs = calloc_n(n, sizeof(*e->map_attrs));
	if (!e->maps || !e->map_ptrs || !e->map_attrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		OT(Mapping) *o = &e->maps[i];
		const Pprof__Mapping *mp = i ? m->mapping[i - 1] : NULL;
		long a;

		OT_FN(mapping__init)(o);
		e->map_ptrs[i] = o;
		if (!mp)
			continue;
		if (mp->id != i || !str_ok(e, mp->filename) || !str_ok(e, mp->build_id))
			return -EINVAL;
		o->memory_start = mp->memory_start;
		o->memory_limit = mp->memory_limit;
		o->file_offset = mp->file_offset;
		o->filename_strindex = mp->filename;
		if (!mp->build_id)
			continue;
		a = attr(e, key_str(e, KEY_BUILD_ID), VAL_STR, mp->build_id, 0);
		if (a < 0)
			return a;
		e->map_attrs[i] = a;
		o->n_attribute_indices = 1;
		o->attribute_indices = &e->map_attrs[i];
	}
	e->dict.n_mapping_table = n;
	e->dict.mapping_table = e->map_ptrs;
	return 0;
}

static int w_functions(struct enc *e)
{
	const Pprof__Profile *m = e->m;
	size_t n = m->n_function + 1, i;

	e->fns = calloc_n(n, sizeof(*e->fns));
	e->fn_ptrs = calloc_n(n, sizeof(*e->fn_ptrs));
	if (!e->fns || !e->fn_ptrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		OT(Function) *o = &e->fns[i];
		const Pprof__Function *fn = i ? m->function[i - 1] : NULL;

		OT_FN(function__init)(o);
		e->fn_ptrs[i] = o;
		if (!fn)
			continue;
		if (fn->id != i || !str_ok(e, fn->name) || !str_ok(e, fn->system_name) ||
		    !str_ok(e, fn->filename))
			return -EINVAL;
		o->name_strindex = fn->name;
		o->system_name_strindex = fn->system_name;
		o->filename_strindex = fn->filename;
		o->start_line = fn->start_line;
	}
	e->dict.n_function_table = n;
	e->dict.function_table = e->fn_ptrs;
	return 0;
}

static int w_locations(struct enc *e)
{
	const Pprof__Profile *m = e->m;
	size_t n = m->n_location + 1, nlines = 0, i, k;

	for (i = 0; i < m->n_location; i++)
		nlines += m->location[i]->n_line;
	e->locs = calloc_n(n, sizeof(*e->locs));
	e->loc_ptrs = calloc_n(n, sizeof(*e->loc_ptrs));
	e->lines = calloc_n(nlines, sizeof(*e->lines));
	e->line_ptrs = calloc_n(nlines, sizeof(*e->line_ptrs));
	if (!e->locs || !e->loc_ptrs || !e->lines || !e->line_ptrs)
		return -ENOMEM;
	nlines = 0;
	for (i = 0; i < n; i++) {
		OT(Location) *o = &e->locs[i];
		const Pprof__Location *l = i ? m->location[i - 1] : NULL;

		OT_FN(location__init)(o);
		e->loc_ptrs[i] = o;
		if (!l)
			continue;
		if (l->id != i || l->mapping_id > m->n_mapping)
			return -EINVAL;
		o->mapping_index = l->mapping_id;
		o->address = l->address;
		o->lines = &e->line_ptrs[nlines];
		o->n_lines = l->n_line;
		/* The same order as pprof's: inlined callees first, the physical function last. */
		for (k = 0; k < l->n_line; k++) {
			OT(Line) *ln = &e->lines[nlines];

			if (!l->line[k]->function_id || l->line[k]->function_id > m->n_function)
				return -EINVAL;
			OT_FN(line__init)(ln);
			ln->function_index = l->line[k]->function_id;
			ln->line = l->line[k]->line;
			e->line_ptrs[nlines++] = ln;
		}
	}
	e->dict.n_location_table = n;
	e->dict.location_table = e->loc_ptrs;
	return 0;
}

/* The stack table's index of a sample's locations (leaf first, as pprof's), added when new. */
static long stack_of(struct enc *e, const Pprof__Sample *s)
{
	bool added;
	size_t k;
	long i;

	if (s->n_location_id > PPROF_MAX_DEPTH)
		return -EINVAL;
	if (grow_array((void **)&e->ids, &e->ids_cap, s->n_location_id, sizeof(*e->ids)))
		return -ENOMEM;
	for (k = 0; k < s->n_location_id; k++) {
		if (!s->location_id[k] || s->location_id[k] > e->m->n_location)
			return -EINVAL;
		e->ids[k] = s->location_id[k];
	}
	i = seqmap__get(&e->stacks, e->ids, s->n_location_id, &added);
	return i < 0 ? i : i + 1;
}

/*
 * A sample's labels: the resource's key in rk, the sample's attributes appended to out (the
 * count returned, or a negative errno).
 */
static long sample_labels(struct enc *e, const Pprof__Sample *s, uint32_t *rk, int32_t *out)
{
	long n = 0, a;
	size_t i;

	memset(rk, 0, RK_LEN * sizeof(*rk));
	for (i = 0; i < s->n_label; i++) {
		const Pprof__Label *lb = s->label[i];
		uint64_t pid;

		if (!str_ok(e, lb->key) || !str_ok(e, lb->str) || !str_ok(e, lb->num_unit) ||
		    !lb->key)
			return -EINVAL;
		if (lb->str && (str_is(e, lb->key, "process") || str_is(e, lb->key, "comm"))) {
			rk[RK_COMM] = lb->str;
			continue;
		}
		if (str_is(e, lb->key, "pid")) {
			if (lb->str && !parse_u64(e->strs[lb->str], UINT32_MAX, &pid))
				rk[RK_PID] = pid;
			else if (!lb->str && lb->num > 0 && lb->num <= UINT32_MAX)
				rk[RK_PID] = lb->num;
			rk[RK_HAS_PID] = rk[RK_PID] != 0;
			continue;
		}
		if (lb->str && str_is(e, lb->key, "container_id")) {
			rk[RK_CONTAINER] = lb->str;
			continue;
		}
		if (lb->str && str_is(e, lb->key, "pod_uid")) {
			rk[RK_POD] = lb->str;
			continue;
		}
		if (lb->str)
			a = attr(e, str_is(e, lb->key, "thread") ? key_str(e, KEY_THREAD) : lb->key,
				 VAL_STR, lb->str, 0);
		else
			a = attr(e, lb->key, VAL_INT, lb->num, lb->num_unit);
		if (a < 0)
			return a;
		out[n++] = a;
	}
	/* A pid makes the process the resource; without one its name describes the sample. */
	if (rk[RK_COMM] && !rk[RK_HAS_PID]) {
		a = attr(e, key_str(e, KEY_EXE_NAME), VAL_STR, rk[RK_COMM], 0);
		if (a < 0)
			return a;
		out[n++] = a;
		rk[RK_COMM] = 0;
	}
	return n;
}

static int w_samples(struct enc *e)
{
	const Pprof__Profile *m = e->m;
	size_t ns = m->n_sample, nattrs = 0, vi = 0, i;
	uint32_t rk[RK_LEN];
	bool added;

	if (!m->n_sample_type)
		return ns ? -EINVAL : 0;
	/* CPU windows: samples/count (the cpu/nanoseconds beside it is count x period). */
	for (i = 0; i < m->n_sample_type; i++) {
		if (!str_ok(e, m->sample_type[i]->type) || !str_ok(e, m->sample_type[i]->unit))
			return -EINVAL;
		if (str_is(e, m->sample_type[i]->type, "samples"))
			vi = i;
	}
	for (i = 0; i < ns; i++)
		nattrs += m->sample[i]->n_label + 1;
	e->smp = calloc_n(ns, sizeof(*e->smp));
	e->smp_ptrs = calloc_n(ns, sizeof(*e->smp_ptrs));
	e->vals = calloc_n(ns, sizeof(*e->vals));
	e->smp_res = calloc_n(ns, sizeof(*e->smp_res));
	e->apool = calloc_n(nattrs, sizeof(*e->apool));
	if (!e->smp || !e->smp_ptrs || !e->vals || !e->smp_res || !e->apool)
		return -ENOMEM;
	nattrs = 0;
	for (i = 0; i < ns; i++) {
		const Pprof__Sample *s = m->sample[i];
		OT(Sample) *o = &e->smp[i];
		long st, na, r;

		if (s->n_value != m->n_sample_type)
			return -EINVAL;
		st = stack_of(e, s);
		if (st < 0)
			return st;
		na = sample_labels(e, s, rk, e->apool + nattrs);
		if (na < 0)
			return na;
		r = seqmap__get(&e->res, rk, RK_LEN, &added);
		if (r < 0)
			return r;
		OT_FN(sample__init)(o);
		o->stack_index = st;
		o->n_attribute_indices = na;
		o->attribute_indices = na ? e->apool + nattrs : NULL;
		e->vals[i] = s->value[vi];
		o->n_values = 1;
		o->values = &e->vals[i];
		e->smp_res[i] = r;
		nattrs += na;
	}
	e->sample_type.type_strindex = m->sample_type[vi]->type;
	e->sample_type.unit_strindex = m->sample_type[vi]->unit;
	return 0;
}

static int w_stacks(struct enc *e)
{
	size_t n = e->stacks.nr + 1, i;

	e->stacks_msg = calloc_n(n, sizeof(*e->stacks_msg));
	e->stack_ptrs = calloc_n(n, sizeof(*e->stack_ptrs));
	e->stack_locs = calloc_n(e->stacks.pool_len, sizeof(*e->stack_locs));
	if (!e->stacks_msg || !e->stack_ptrs || !e->stack_locs)
		return -ENOMEM;
	for (i = 0; i < e->stacks.pool_len; i++)
		e->stack_locs[i] = e->stacks.pool[i];
	for (i = 0; i < n; i++) {
		OT(Stack) *o = &e->stacks_msg[i];

		OT_FN(stack__init)(o);
		e->stack_ptrs[i] = o;
		if (!i)
			continue;
		o->n_location_indices = e->stacks.seqs[i - 1].len;
		o->location_indices = e->stack_locs + e->stacks.seqs[i - 1].off;
	}
	e->dict.n_stack_table = n;
	e->dict.stack_table = e->stack_ptrs;
	return 0;
}

static int w_attributes(struct enc *e)
{
	size_t n = e->attrs.nr + 1, i;

	e->kvus = calloc_n(n, sizeof(*e->kvus));
	e->kvu_ptrs = calloc_n(n, sizeof(*e->kvu_ptrs));
	e->kvu_vals = calloc_n(n, sizeof(*e->kvu_vals));
	if (!e->kvus || !e->kvu_ptrs || !e->kvu_vals)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		OT(KeyValueAndUnit) *o = &e->kvus[i];
		OT(AnyValue) *v = &e->kvu_vals[i];
		const uint32_t *k;

		OT_FN(key_value_and_unit__init)(o);
		e->kvu_ptrs[i] = o;
		if (!i)
			continue;
		k = seqmap__ids(&e->attrs, i - 1);
		OT_FN(any_value__init)(v);
		if (k[AK_KIND] == VAL_STR) {
			v->value_case = OT_STRING;
			v->string_value = e->strs[k[AK_LO]];
		} else {
			v->value_case = OT_INT;
			v->int_value = (int64_t)((uint64_t)k[AK_HI] << 32 | k[AK_LO]);
		}
		o->key_strindex = k[AK_KEY];
		o->value = v;
		o->unit_strindex = k[AK_UNIT];
	}
	e->dict.n_attribute_table = n;
	e->dict.attribute_table = e->kvu_ptrs;
	return 0;
}

static void kv_str(OT(KeyValue) *kv, OT(AnyValue) *v, const char *key, const char *val)
{
	OT_FN(key_value__init)(kv);
	OT_FN(any_value__init)(v);
	kv->key = (char *)key;
	kv->value = v;
	v->value_case = OT_STRING;
	v->string_value = (char *)val;
}

/* One ResourceProfiles per resource key, each with its samples in one Profile. */
static int w_resources(struct enc *e)
{
	const Pprof__Profile *m = e->m;
	size_t nr = e->res.nr, per = RES_ATTRS + e->o->n_attrs, i, j, *at = NULL;
	uint32_t rk0[RK_LEN] = {};
	bool added;
	int err = -ENOMEM;

	/* A window without samples is still a resource's (empty) profile. */
	if (!nr && seqmap__get(&e->res, rk0, RK_LEN, &added) < 0)
		return -ENOMEM;
	nr = e->res.nr;
	e->rps = calloc_n(nr, sizeof(*e->rps));
	e->rp_ptrs = calloc_n(nr, sizeof(*e->rp_ptrs));
	e->resources = calloc_n(nr, sizeof(*e->resources));
	e->rkv = calloc_n(nr * per, sizeof(*e->rkv));
	e->rkv_ptrs = calloc_n(nr * per, sizeof(*e->rkv_ptrs));
	e->rkv_vals = calloc_n(nr * per, sizeof(*e->rkv_vals));
	e->sps = calloc_n(nr, sizeof(*e->sps));
	e->sp_ptrs = calloc_n(nr, sizeof(*e->sp_ptrs));
	e->profiles = calloc_n(nr, sizeof(*e->profiles));
	e->profile_ptrs = calloc_n(nr, sizeof(*e->profile_ptrs));
	e->profile_ids = calloc_n(nr, 16);
	at = calloc_n(nr + 1, sizeof(*at));
	if (!e->rps || !e->rp_ptrs || !e->resources || !e->rkv || !e->rkv_ptrs || !e->rkv_vals ||
	    !e->sps || !e->sp_ptrs || !e->profiles || !e->profile_ptrs || !e->profile_ids || !at)
		goto cleanup;
	/* Samples grouped by resource, in their order: a counting sort. */
	for (i = 0; i < m->n_sample; i++)
		at[e->smp_res[i] + 1]++;
	for (i = 1; i <= nr; i++)
		at[i] += at[i - 1];
	for (i = 0; i < nr; i++) {
		const uint32_t *rk = seqmap__ids(&e->res, i);
		OT(Resource) *res = &e->resources[i];
		OT(KeyValue) *kv = &e->rkv[i * per];
		OT(AnyValue) *v = &e->rkv_vals[i * per];
		OT(Profile) *p = &e->profiles[i];
		size_t n = 0;

		OT_FN(resource__init)(res);
		res->attributes = &e->rkv_ptrs[i * per];
		kv_str(&kv[n], &v[n], "host.name", e->o->host_name), n++;
		kv_str(&kv[n], &v[n], "service.name", e->o->service_name), n++;
		for (j = 0; j < e->o->n_attrs; j++, n++)
			kv_str(&kv[n], &v[n], e->o->attrs[j].key, e->o->attrs[j].value);
		if (rk[RK_CONTAINER])
			kv_str(&kv[n], &v[n], "container.id", e->strs[rk[RK_CONTAINER]]), n++;
		if (rk[RK_POD])
			kv_str(&kv[n], &v[n], "k8s.pod.uid", e->strs[rk[RK_POD]]), n++;
		if (rk[RK_HAS_PID]) {
			kv_str(&kv[n], &v[n], "process.pid", NULL);
			v[n].value_case = OT_INT;
			v[n].int_value = rk[RK_PID];
			n++;
		}
		if (rk[RK_COMM])
			kv_str(&kv[n], &v[n], "process.executable.name", e->strs[rk[RK_COMM]]), n++;
		for (j = 0; j < n; j++)
			res->attributes[j] = &kv[j];
		res->n_attributes = n;

		OT_FN(profile__init)(p);
		p->sample_type = &e->sample_type;
		p->time_unix_nano = m->time_nanos > 0 ? (uint64_t)m->time_nanos : 0;
		p->duration_nano = m->duration_nanos > 0 ? (uint64_t)m->duration_nanos : 0;
		if (m->period_type) {
			p->period_type = &e->period_type;
			p->period = m->period;
		}
		memcpy(e->profile_ids + i * 16, e->o->profile_id, 16);
		for (j = 0; j < 4; j++)
			e->profile_ids[i * 16 + 15 - j] ^= (uint8_t)(i >> (8 * j));
		p->profile_id.data = e->profile_ids + i * 16;
		p->profile_id.len = 16;
		p->samples = e->smp_ptrs + at[i];
		e->profile_ptrs[i] = p;

		OT_FN(scope_profiles__init)(&e->sps[i]);
		e->sps[i].scope = &e->scope;
		e->sps[i].n_profiles = 1;
		e->sps[i].profiles = &e->profile_ptrs[i];
		e->sp_ptrs[i] = &e->sps[i];

		OT_FN(resource_profiles__init)(&e->rps[i]);
		e->rps[i].resource = res;
		e->rps[i].n_scope_profiles = 1;
		e->rps[i].scope_profiles = &e->sp_ptrs[i];
		e->rp_ptrs[i] = &e->rps[i];
	}
	for (i = 0; i < m->n_sample; i++) {
		OT(Profile) *p = &e->profiles[e->smp_res[i]];

		p->samples[p->n_samples++] = &e->smp[i];
	}
	e->req.n_resource_profiles = nr;
	e->req.resource_profiles = e->rp_ptrs;
	err = 0;
cleanup:
	free(at);
	return err;
}

static void enc_free(struct enc *e)
{
	free(e->strs);
	free(e->strbuf);
	seqmap__free(&e->attrs);
	seqmap__free(&e->stacks);
	seqmap__free(&e->res);
	free(e->ids);
	free(e->maps);
	free(e->map_ptrs);
	free(e->map_attrs);
	free(e->fns);
	free(e->fn_ptrs);
	free(e->locs);
	free(e->loc_ptrs);
	free(e->lines);
	free(e->line_ptrs);
	free(e->stacks_msg);
	free(e->stack_ptrs);
	free(e->stack_locs);
	free(e->kvus);
	free(e->kvu_ptrs);
	free(e->kvu_vals);
	free(e->smp);
	free(e->smp_ptrs);
	free(e->vals);
	free(e->apool);
	free(e->smp_res);
	free(e->rps);
	free(e->rp_ptrs);
	free(e->resources);
	free(e->rkv);
	free(e->rkv_ptrs);
	free(e->rkv_vals);
	free(e->sps);
	free(e->sp_ptrs);
	free(e->profiles);
	free(e->profile_ptrs);
	free(e->profile_ids);
}

uint8_t *otlp__encode_request(const void *pprof, size_t len, const struct otlp_opts *o,
			      size_t *out_len, int *err)
{
	struct enc e = { .o = o };
	Pprof__Profile *m;
	uint8_t *buf = NULL;
	int ret;

	m = pprof__unpack(pprof, len, PPROF_MAX_RAW, &ret);
	if (!m)
		goto cleanup;
	e.m = m;
	/* Every index of the request is an int32. */
	ret = -EFBIG;
	if (m->n_string_table > INT32_MAX - KEY_MAX || m->n_mapping >= INT32_MAX ||
	    m->n_function >= INT32_MAX || m->n_location >= INT32_MAX ||
	    m->n_sample >= INT32_MAX / 2)
		goto cleanup;
	OT_FN(export_profiles_service_request__init)(&e.req);
	OT_FN(profiles_dictionary__init)(&e.dict);
	OT_FN(instrumentation_scope__init)(&e.scope);
	OT_FN(value_type__init)(&e.sample_type);
	OT_FN(value_type__init)(&e.period_type);
	OT_FN(link__init)(&e.link0);
	e.scope.name = "flamed";
	ret = w_strings(&e);
	if (!ret && m->period_type) {
		if (!str_ok(&e, m->period_type->type) || !str_ok(&e, m->period_type->unit))
			ret = -EINVAL;
		e.period_type.type_strindex = m->period_type->type;
		e.period_type.unit_strindex = m->period_type->unit;
	}
	if (!ret)
		ret = w_mappings(&e);
	if (!ret)
		ret = w_functions(&e);
	if (!ret)
		ret = w_locations(&e);
	if (!ret)
		ret = w_samples(&e);
	if (!ret)
		ret = w_stacks(&e);
	if (!ret)
		ret = w_attributes(&e);
	if (!ret)
		ret = w_resources(&e);
	if (ret)
		goto cleanup;
	/* link_table[0], the one entry: all-zero ids of the lengths trace.proto gives them. */
	{
		static const uint8_t zero[16];

		e.link0.trace_id.data = (uint8_t *)zero;
		e.link0.trace_id.len = 16;
		e.link0.span_id.data = (uint8_t *)zero;
		e.link0.span_id.len = 8;
	}
	e.link_ptrs[0] = &e.link0;
	e.dict.n_link_table = 1;
	e.dict.link_table = e.link_ptrs;
	e.dict.n_string_table = e.nstrs;
	e.dict.string_table = e.strs;
	e.req.dictionary = &e.dict;
	*out_len = OT_FN(export_profiles_service_request__get_packed_size)(&e.req);
	buf = malloc(*out_len ? *out_len : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto cleanup;
	}
	OT_FN(export_profiles_service_request__pack)(&e.req, buf);
cleanup:
	enc_free(&e);
	pprof__free_unpacked(m);
	if (err)
		*err = ret;
	return buf;
}
