// SPDX-License-Identifier: GPL-2.0-only
/*
 * pprof writer and reader: round trips, the shapes of the written messages, and hostile input.
 * Two hooks serve tests/e2e/test_pprof.sh: FLAMED_PPROF_FIXTURE=FILE writes the fixture profile
 * to FILE, FLAMED_PPROF_REREAD=FILE checks that FILE (the fixture after another encoder) reads
 * back as the fixture, and FLAMED_PPROF_CONVERT=IN:OUT reads IN and writes it again to OUT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"
#include "render/pprof.h"
#include "pprof.pb-c.h"
#include "aggregate/profile.h"

static uint32_t frame(struct profile *p, const char *name, uint32_t mapping, uint64_t addr,
		      enum frame_kind kind)
{
	struct profile_frame f = {
		.name = profile__intern_str(p, name),
		.mapping = mapping,
		.addr = addr,
		.kind = kind,
	};

	return profile__add_frame(p, &f);
}

/* The fixture: user, inline, kernel and folded-style frames, labels, meta. */
static struct profile *fixture(void)
{
	struct profile *p = profile__new();
	struct profile_mapping m = {
		.file = profile__intern_str(p, "/usr/bin/flamed-test"),
		.build_id = profile__intern_str(p, "0123456789abcdef0123456789abcdef01234567"),
		.start = 0x400000,
		.limit = 0x500000,
	};
	struct profile_meta *meta = profile__meta(p);
	uint32_t app = profile__add_mapping(p, &m);
	uint32_t worker = profile__intern_str(p, "worker-app");
	uint32_t calc = profile__intern_str(p, "calc"), io = profile__intern_str(p, "io");
	uint32_t main_ = frame(p, "main", app, 0x401000, FRAME_USER);
	uint32_t hot[] = {
		main_,
		frame(p, "compute", app, 0x401100, FRAME_USER),
		frame(p, "square", app, 0x401100, FRAME_INLINE),
		frame(p, "hot_loop", app, 0x401200, FRAME_USER),
	};
	uint32_t sys[] = {
		main_,
		frame(p, "write_out", app, 0x401300, FRAME_USER),
		frame(p, "entry_SYSCALL_64", 0, 0xffffffff81e00000, FRAME_KERNEL),
		frame(p, "do_syscall_64", 0, 0xffffffff81d00000, FRAME_KERNEL),
		frame(p, "__x64_sys_write", 0, 0xffffffff81400000, FRAME_KERNEL),
	};
	uint32_t bash[] = {
		frame(p, "bash_main", 0, 0x55550000, FRAME_USER),
		frame(p, "readline", 0, 0x55551000, FRAME_USER),
	};
	uint32_t folded[] = {
		frame(p, "folded_root", 0, 0, FRAME_USER),
		frame(p, "folded_leaf", 0, 0, FRAME_USER),
		frame(p, "folded_kernel", 0, 0, FRAME_KERNEL),
	};

	profile__add_sample(p, hot, 4, 70, 4242, worker, calc);
	profile__add_sample(p, sys, 5, 25, 4242, worker, io);
	profile__add_sample(p, hot, 4, 30, 4242, worker, calc);
	profile__add_sample(p, bash, 2, 5, 777, profile__intern_str(p, "bash"), 0);
	profile__add_sample(p, folded, 3, 3, 0, 0, 0);
	profile__add_sample(p, hot, 2, 1, 4242, worker, calc);
	meta->freq_hz = 99;
	meta->start_ns = 1700000000123456789ULL;
	meta->duration_ns = 10000000000ULL;
	meta->samples = profile__total(p);
	meta->lost[0] = 1;
	meta->lost[1] = 2;
	meta->lost[2] = 3;
	meta->lost[3] = 4;
	snprintf(meta->host, sizeof(meta->host), "testhost");
	snprintf(meta->mode, sizeof(meta->mode), "system-wide");
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A profile as sorted text, one line per distinct (labels, stack) with counts summed, frames as
 * name:kind; what must survive a round trip whatever the ids and order.
 */
static char *canon(const struct profile *p)
{
	size_t n = profile__nr_samples(p), i, len = 0;
	char **lines = calloc(n + 1, sizeof(*lines)), *out = NULL;
	uint64_t *counts = calloc(n + 1, sizeof(*counts));
	FILE *f;

	for (i = 0; i < n; i++) {
		const struct profile_sample *s = profile__sample(p, i);
		const uint32_t *ids = profile__sample_frames(p, s);
		size_t sz, k;
		FILE *l = open_memstream(&lines[i], &sz);

		fprintf(l, "%s|%u|%s|", profile__str(p, s->comm), s->pid,
			profile__str(p, s->thread));
		for (k = 0; k < s->nframes; k++) {
			const struct profile_frame *fr = profile__frame(p, ids[k]);

			fprintf(l, "%s%s:%u", k ? ";" : "", profile__str(p, fr->name), fr->kind);
		}
		fclose(l);
	}
	/* Sort lines with their counts: sort indices by line. */
	for (i = 0; i < n; i++) {
		char *tagged;

		if (asprintf(&tagged, "%s %020llu", lines[i],
			     (unsigned long long)profile__sample(p, i)->count) < 0)
			tagged = NULL;
		free(lines[i]);
		lines[i] = tagged;
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	f = open_memstream(&out, &len);
	for (i = 0; i < n;) {
		size_t j = i, klen = strrchr(lines[i], ' ') - lines[i];
		unsigned long long sum = 0;

		while (j < n && !strncmp(lines[j], lines[i], klen + 1)) {
			sum += strtoull(lines[j] + klen + 1, NULL, 10);
			j++;
		}
		fprintf(f, "%.*s %llu\n", (int)klen, lines[i], sum);
		i = j;
	}
	fclose(f);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(counts);
	return out;
}

static int write_mem(const struct profile *p, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int ret;

	if (!f)
		return -errno;
	ret = pprof__write(p, f);
	fclose(f);
	return ret;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			buf = realloc(buf, cap);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	fclose(f);
	return buf;
}

/* The pprof bytes buf read: p's samples, frames, names and kinds. The profile read, or NULL. */
static struct profile *check_reads_as(int *failed, const struct profile *p, const char *buf,
				      size_t len)
{
	struct profile *q;
	char *a, *b;
	int err = 1;

	q = buf ? pprof__read(buf, len, &err) : NULL;
	CHECK_EQ_INT(err, 0);
	CHECK(q != NULL);
	if (q) {
		a = canon(p);
		b = canon(q);
		CHECK_EQ_STR(b, a);
		free(a);
		free(b);
	}
	return q;
}

/* p written as pprof and read back the same. */
static void check_read_back(int *failed, const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;

	CHECK_EQ_INT(write_mem(p, &buf, &len), 0);
	profile__free(check_reads_as(failed, p, buf, len));
	free(buf);
}

TEST(pprof_roundtrip)
{
	struct profile *p = fixture(), *q;
	const struct profile_meta *meta;
	char *buf = NULL;
	size_t len = 0;

	CHECK_EQ_INT(write_mem(p, &buf, &len), 0);
	CHECK(len > 20 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b);
	q = check_reads_as(failed, p, buf, len);
	if (q) {
		meta = profile__meta_const(q);
		CHECK_EQ_INT(meta->freq_hz, 99);
		CHECK_EQ_INT(meta->start_ns, 1700000000123456789ULL);
		CHECK_EQ_INT(meta->duration_ns, 10000000000ULL);
		CHECK_EQ_INT(meta->samples, 134);
		CHECK_EQ_INT(meta->lost[0], 1);
		CHECK_EQ_INT(meta->lost[3], 4);
		CHECK_EQ_STR(meta->host, "testhost");
		CHECK_EQ_STR(meta->mode, "system-wide");
		/* Equal stacks were merged: 6 samples in, 5 out. */
		CHECK_EQ_INT(profile__nr_samples(q), 5);
		CHECK_EQ_INT(profile__total(q), 134);
	}
	profile__free(q);
	profile__free(p);
	free(buf);
}

/* The written messages themselves: types, period, locations, inline lines, mappings, labels. */
TEST(pprof_written_shape)
{
	struct profile *p = fixture();
	Pprof__Profile *m = NULL;
	char *buf = NULL;
	unsigned char *raw = malloc(1 << 20);
	size_t len = 0, i, k, inl = 0, kmap = 0;
	uLongf raw_len = 1 << 20;
	z_stream zs = {};

	CHECK_EQ_INT(write_mem(p, &buf, &len), 0);
	inflateInit2(&zs, 15 + 16);
	zs.next_in = (unsigned char *)buf;
	zs.avail_in = len;
	zs.next_out = raw;
	zs.avail_out = raw_len;
	CHECK_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	raw_len = zs.total_out;
	inflateEnd(&zs);
	m = pprof__profile__unpack(NULL, raw_len, raw);
	CHECK(m != NULL);
	if (!m)
		goto out;
#define S(i)                                                                                       \
	((i) >= 0 && (size_t)(i) < m->n_string_table ? (const char *)m->string_table[i].data : "?")
#define SL(i) ((int)m->string_table[i].len)
	CHECK_EQ_INT(m->string_table[0].len, 0);
	CHECK_EQ_INT(m->n_sample_type, 2);
	CHECK(!strncmp(S(m->sample_type[0]->type), "samples", SL(m->sample_type[0]->type)));
	CHECK(!strncmp(S(m->sample_type[1]->unit), "nanoseconds", SL(m->sample_type[1]->unit)));
	CHECK(m->period_type != NULL);
	CHECK_EQ_INT(m->period, 1000000000 / 99);
	CHECK_EQ_INT(m->default_sample_type, 0);
	CHECK_EQ_INT(m->n_sample, 5);
	CHECK_EQ_INT(m->n_comment, 2 + LOST_MAX);
	for (i = 0; i < m->n_sample; i++) {
		CHECK_EQ_INT(m->sample[i]->n_value, 2);
		CHECK_EQ_INT(m->sample[i]->value[1], m->sample[i]->value[0] * (1000000000 / 99));
		if (m->sample[i]->value[0] == 100) {
			/* hot_loop; compute+square; main: 3 locations, leaf first. */
			CHECK_EQ_INT(m->sample[i]->n_location_id, 3);
			CHECK_EQ_INT(m->sample[i]->n_label, 3);
		}
		if (m->sample[i]->value[0] == 3)
			CHECK_EQ_INT(m->sample[i]->n_label, 0);
	}
	for (i = 0; i < m->n_location; i++) {
		const Pprof__Location *l = m->location[i];

		if (l->n_line == 2) {
			inl++;
			CHECK_EQ_INT(l->address, 0x401100);
			/* The inlined callee first, the function it was inlined into last. */
			for (k = 0; k < m->n_function; k++) {
				if (m->function[k]->id == l->line[0]->function_id)
					CHECK(!strncmp(S(m->function[k]->name), "square", 6));
				if (m->function[k]->id == l->line[1]->function_id)
					CHECK(!strncmp(S(m->function[k]->name), "compute", 7));
			}
		}
	}
	CHECK_EQ_INT(inl, 1);
	for (i = 0; i < m->n_mapping; i++) {
		if (m->string_table[m->mapping[i]->filename].len == 17 &&
		    !memcmp(S(m->mapping[i]->filename), "[kernel.kallsyms]", 17))
			kmap++;
		else {
			CHECK_EQ_INT(m->mapping[i]->memory_start, 0x400000);
			CHECK(m->mapping[i]->has_inline_frames);
		}
		CHECK(m->mapping[i]->has_functions);
	}
	CHECK_EQ_INT(m->n_mapping, 2);
	CHECK_EQ_INT(kmap, 1);
	pprof__profile__free_unpacked(m, NULL);
out:
	profile__free(p);
	free(buf);
	free(raw);
}

TEST(pprof_no_freq_and_empty)
{
	struct profile *p = profile__new(), *q;
	uint32_t f[] = {frame(p, "only", 0, 0, FRAME_USER)};
	char *buf = NULL;
	size_t len = 0;
	int err;

	/* An empty profile is a valid (if dull) pprof. */
	CHECK_EQ_INT(write_mem(p, &buf, &len), 0);
	q = pprof__read(buf, len, &err);
	CHECK(q != NULL);
	CHECK_EQ_INT(q ? profile__nr_samples(q) : 99, 0);
	profile__free(q);
	free(buf);
	buf = NULL;

	profile__add_sample(p, f, 1, 7, 0, 0, 0);
	CHECK_EQ_INT(write_mem(p, &buf, &len), 0);
	q = pprof__read(buf, len, &err);
	CHECK(q != NULL);
	if (q) {
		CHECK_EQ_INT(profile__meta_const(q)->freq_hz, 0);
		CHECK_EQ_INT(profile__total(q), 7);
	}
	profile__free(q);
	profile__free(p);
	free(buf);
}

/* JIT frames keep their kind through a made-up "[jit]" mapping. */
TEST(pprof_jit_frames)
{
	struct profile *p = profile__new();
	uint32_t f[] = {
		frame(p, "interp_main", 0, 0x1000, FRAME_USER),
		frame(p, "Lcom/example/Foo;.bar", 0, 0x7f0000001000, FRAME_JIT),
		frame(p, "Lcom/example/Foo;.baz", 0, 0, FRAME_JIT),
	};

	profile__add_sample(p, f, 3, 4, 0, 0, 0);
	check_read_back(failed, p);
	profile__free(p);
}

/* A runtime's frame as its namer makes it: shown name, function, file. */
static uint32_t rt_frame(struct profile *p, const char *name, const char *func, const char *file,
			 enum frame_kind kind)
{
	struct profile_frame f = {
		.name = profile__intern_str(p, name),
		.func = profile__intern_str(p, func),
		.file = file ? profile__intern_str(p, file) : 0,
		.line = file ? 12 : 0,
		.kind = kind,
	};

	return profile__add_frame(p, &f);
}

/*
 * Runtime frames read back under the names they were shown under: "function (file)" rebuilt
 * from the function and its file, and a frame without a file keeps its whole name ("(?)"),
 * which the daemon's history had read back as the bare function.
 */
TEST(pprof_runtime_frames_without_a_file)
{
	struct profile *p = profile__new();
	uint32_t f[] = {
		frame(p, "perl_run", 0, 0x1000, FRAME_USER),
		rt_frame(p, "main::finder (x.pl)", "main::finder", "/srv/x.pl", FRAME_PERL),
		rt_frame(p, "?::__ANON__ (?)", "?::__ANON__", NULL, FRAME_PERL),
		rt_frame(p, "spin (?)", "spin", NULL, FRAME_PYTHON),
		rt_frame(p, "Outer#mid (x.rb)", "Outer#mid", "/srv/x.rb", FRAME_RUBY),
	};

	profile__add_sample(p, f, 5, 2, 0, 0, 0);
	check_read_back(failed, p);
	profile__free(p);
}

/* A small well-formed message built by hand, which the hostile tests then break. */
struct handmade {
	Pprof__Profile pb;
	ProtobufCBinaryData strs[8];
	Pprof__ValueType vt, *vtp;
	Pprof__Function fn[2], *fnp[2];
	Pprof__Line line[3], *linep[3];
	Pprof__Location loc[2], *locp[2];
	Pprof__Mapping map, *mapp;
	Pprof__Sample smp, *smpp;
	Pprof__Label lb[3], *lbp[3];
	uint64_t locids[2];
	int64_t value;
};

static void handmade_init(struct handmade *h)
{
	static const char *const strs[] = {"",	      "samples", "count",  "outer",
					   "inner_k", "process", "myproc", "[kernel.kallsyms]"};
	size_t i;

	memset(h, 0, sizeof(*h));
	pprof__profile__init(&h->pb);
	for (i = 0; i < 8; i++)
		h->strs[i] = (ProtobufCBinaryData){strlen(strs[i]), (uint8_t *)strs[i]};
	h->pb.string_table = h->strs;
	h->pb.n_string_table = 8;
	pprof__value_type__init(&h->vt);
	h->vt.type = 1;
	h->vt.unit = 2;
	h->vtp = &h->vt;
	h->pb.sample_type = &h->vtp;
	h->pb.n_sample_type = 1;
	for (i = 0; i < 2; i++) {
		pprof__function__init(&h->fn[i]);
		h->fn[i].id = 10 + i;
		h->fn[i].name = 3 + i;
		h->fnp[i] = &h->fn[i];
		pprof__line__init(&h->line[i]);
		h->linep[i] = &h->line[i];
		pprof__location__init(&h->loc[i]);
		h->loc[i].id = 100 + i;
		h->locp[i] = &h->loc[i];
	}
	pprof__line__init(&h->line[2]);
	h->linep[2] = &h->line[2];
	h->pb.function = h->fnp;
	h->pb.n_function = 2;
	/* Location 100: outer (user); 101: inner_k_ in the kernel mapping. */
	h->line[0].function_id = 10;
	h->loc[0].line = &h->linep[0];
	h->loc[0].n_line = 1;
	h->loc[0].address = 0x1000;
	h->line[1].function_id = 11;
	h->loc[1].line = &h->linep[1];
	h->loc[1].n_line = 1;
	h->loc[1].mapping_id = 5;
	h->pb.location = h->locp;
	h->pb.n_location = 2;
	pprof__mapping__init(&h->map);
	h->map.id = 5;
	h->map.filename = 7;
	h->mapp = &h->map;
	h->pb.mapping = &h->mapp;
	h->pb.n_mapping = 1;
	pprof__sample__init(&h->smp);
	h->locids[0] = 101;
	h->locids[1] = 100;
	h->smp.location_id = h->locids;
	h->smp.n_location_id = 2;
	h->value = 9;
	h->smp.value = &h->value;
	h->smp.n_value = 1;
	pprof__label__init(&h->lb[0]);
	h->lb[0].key = 5;
	h->lb[0].str = 6;
	h->lbp[0] = &h->lb[0];
	h->smp.label = h->lbp;
	h->smp.n_label = 1;
	h->smpp = &h->smp;
	h->pb.sample = &h->smpp;
	h->pb.n_sample = 1;
}

/* Packs h raw (no gzip) and reads it; returns the error. */
static int handmade_read(struct handmade *h, struct profile **ret)
{
	size_t len = pprof__profile__get_packed_size(&h->pb);
	uint8_t *buf = malloc(len ? len : 1);
	struct profile *p;
	int err = 1;

	pprof__profile__pack(&h->pb, buf);
	p = pprof__read(buf, len, &err);
	free(buf);
	if (ret)
		*ret = p;
	else
		profile__free(p);
	if ((p != NULL) != (err == 0))
		return -1000;
	return err;
}

TEST(pprof_read_raw_handmade)
{
	struct handmade h;
	struct profile *p = NULL;
	char *c;

	handmade_init(&h);
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "myproc|0||outer:0;inner_k:1 9\n");
	free(c);
	profile__free(p);

	/* Suffixes set the kind and go; a location without lines is named by its address. */
	handmade_init(&h);
	h.strs[3] = (ProtobufCBinaryData){8, (uint8_t *)"outer_[j]"};
	h.loc[1].n_line = 0;
	h.loc[1].address = 0xffffffff81000010;
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "myproc|0||outer_[j:0;0xffffffff81000010:1 9\n");
	free(c);
	profile__free(p);
	h.strs[3] = (ProtobufCBinaryData){9, (uint8_t *)"outer_[j]"};
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "myproc|0||outer:3;0xffffffff81000010:1 9\n");
	free(c);
	profile__free(p);

	/* perf's JIT symbol maps and kernel modules give their mappings' frames a kind. */
	handmade_init(&h);
	h.strs[7] = (ProtobufCBinaryData){13, (uint8_t *)"perf-1234.map"};
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "myproc|0||outer:0;inner_k:3 9\n");
	free(c);
	profile__free(p);
	h.strs[7] = (ProtobufCBinaryData){18, (uint8_t *)"/tmp/perf-12x4.map"};
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "myproc|0||outer:0;inner_k:0 9\n");
	free(c);
	profile__free(p);
	h.strs[7] = (ProtobufCBinaryData){27, (uint8_t *)"/lib/modules/6.1/ext4.ko.xz"};
	/* A NUL inside a string ends it: profile strings hold none. */
	h.strs[3] = (ProtobufCBinaryData){10, (uint8_t *)"outer\0junk"};
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "myproc|0||outer:0;inner_k:1 9\n");
	free(c);
	profile__free(p);

	/* Two lines in one location: the last is the caller, the first inlined into it. */
	handmade_init(&h);
	h.line[2].function_id = 11;
	h.linep[0] = &h.line[2];
	h.linep[1] = &h.line[0];
	h.loc[0].n_line = 2;
	h.smp.n_location_id = 1;
	h.locids[0] = 100;
	h.lb[0].key = 0; /* an unnamed label is ignored */
	CHECK_EQ_INT(handmade_read(&h, &p), 0);
	if (!p)
		return;
	c = canon(p);
	CHECK_EQ_STR(c, "|0||outer:0;inner_k:2 9\n");
	free(c);
	profile__free(p);
}

TEST(pprof_read_rejects_bad_indices)
{
	struct handmade h;

#define BAD(stmt)                                                                                  \
	do {                                                                                       \
		handmade_init(&h);                                                                 \
		stmt;                                                                              \
		CHECK_EQ_INT(handmade_read(&h, NULL), -EINVAL);                                    \
	} while (0)
	BAD(h.pb.n_string_table = 0);
	BAD(h.strs[0] = h.strs[1]);
	BAD(h.fn[0].name = 8);
	BAD(h.fn[0].name = -1);
	BAD(h.fn[1].system_name = 1000000);
	BAD(h.fn[1].filename = INT64_MIN);
	BAD(h.fn[1].id = 10);		 /* duplicate function id */
	BAD(h.loc[1].id = 0);		 /* zero id */
	BAD(h.loc[1].id = 100);		 /* duplicate location id */
	BAD(h.line[0].function_id = 12); /* no such function */
	BAD(h.loc[0].mapping_id = 6);	 /* no such mapping */
	BAD(h.locids[1] = 102);		 /* no such location */
	BAD(h.locids[1] = 0);
	BAD(h.map.filename = 9);
	BAD(h.map.build_id = -5);
	BAD(h.map.id = 0; h.loc[1].mapping_id = 0);
	BAD(h.smp.n_value = 0); /* values do not match sample types */
	BAD(h.pb.n_sample_type = 0; h.smp.n_value = 0);
	BAD(h.vt.unit = 8);
	BAD(h.lb[0].key = 8);
	BAD(h.lb[0].str = -1);
	BAD(h.lb[0].num_unit = 99);
	BAD(h.pb.drop_frames = 8);
	BAD(h.pb.default_sample_type = 8);
	BAD(h.pb.doc_url = -8);
	BAD(h.pb.comment = &h.value; h.pb.n_comment = 1); /* comment 9 is out of range */
#undef BAD
	/* Still fine: a negative value skips the sample. */
	handmade_init(&h);
	h.value = -3;
	CHECK_EQ_INT(handmade_read(&h, NULL), 0);
}

TEST(pprof_read_rejects_amplification)
{
	struct handmade h;
	Pprof__Line **lines = calloc(1000, sizeof(*lines));
	uint64_t *ids = calloc(100, sizeof(*ids));
	uint8_t *buf;
	size_t i, len = 4 << 20;
	int err = 0;

	/* 1000 inlined lines x 100 references: a stack far deeper than PPROF_MAX_DEPTH. */
	handmade_init(&h);
	for (i = 0; i < 1000; i++)
		lines[i] = &h.line[0];
	h.loc[0].line = lines;
	h.loc[0].n_line = 1000;
	for (i = 0; i < 100; i++)
		ids[i] = 100;
	h.smp.location_id = ids;
	h.smp.n_location_id = 100;
	CHECK_EQ_INT(handmade_read(&h, NULL), -EFBIG);
	free(lines);
	free(ids);

	/* 2M empty samples in 4 MiB: parsed messages would far outgrow the input. */
	buf = malloc(len);
	for (i = 0; i < len; i += 2) {
		buf[i] = 0x12;
		buf[i + 1] = 0;
	}
	CHECK(pprof__read(buf, len, &err) == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	free(buf);
}

/*
 * Concatenated gzip members of zeros past the cap, against a 32 MiB cap so the test stays quick;
 * the default 1 GiB cap takes the same path.
 */
TEST(pprof_read_rejects_zip_bomb)
{
	size_t chunk = 16 << 20, cap = 32 << 20, member_len, i, n = 3;
	unsigned char *zeros = calloc(1, chunk), *member = malloc(chunk / 512), *bomb;
	z_stream zs = {};
	int err = 0;

	deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
	zs.next_in = zeros;
	zs.avail_in = chunk;
	zs.next_out = member;
	zs.avail_out = chunk / 512;
	CHECK_EQ_INT(deflate(&zs, Z_FINISH), Z_STREAM_END);
	member_len = zs.total_out;
	deflateEnd(&zs);
	bomb = malloc(member_len * n);
	for (i = 0; i < n; i++)
		memcpy(bomb + i * member_len, member, member_len);
	CHECK(pprof__read_max(bomb, member_len * n, cap, &err) == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	/* One member fits, and 16 MiB of zeros is no profile. */
	CHECK(pprof__read_max(bomb, member_len, cap, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	/* Raw input over the cap is refused without parsing. */
	CHECK(pprof__read_max(zeros, chunk, chunk - 1, &err) == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	free(zeros);
	free(member);
	free(bomb);
}

TEST(pprof_read_rejects_garbage)
{
	struct profile *p = fixture();
	char *buf = NULL, *copy;
	size_t len = 0, i;
	unsigned int seed = 1;
	int err;

	CHECK(pprof__read("", 0, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	CHECK(pprof__read("\x1f\x8b", 2, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	CHECK(pprof__read("hello, world", 12, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	CHECK(pprof__read("\x0a\xff\xff\xff\xff\x0f", 6, NULL) == NULL);

	CHECK_EQ_INT(write_mem(p, &buf, &len), 0);
	/* Every truncation of the gzip stream fails cleanly. */
	for (i = 0; i < len; i++) {
		struct profile *q = pprof__read(buf, i, &err);

		CHECK(q == NULL);
		CHECK(err == -EINVAL);
		profile__free(q);
	}
	/* Trailing junk after the gzip member is not a profile either. */
	copy = malloc(len + 4);
	memcpy(copy, buf, len);
	memcpy(copy + len, "junk", 4);
	CHECK(pprof__read(copy, len + 4, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	/* Random byte flips must never crash (many still fail the gzip CRC). */
	for (i = 0; i < 2000; i++) {
		struct profile *q;
		size_t k;

		memcpy(copy, buf, len);
		for (k = 0; k < 3; k++)
			copy[10 + rand_r(&seed) % (len - 18)] ^= 1 << (rand_r(&seed) % 8);
		q = pprof__read(copy, len, &err);
		CHECK((q != NULL) == (err == 0));
		profile__free(q);
	}
	free(copy);
	free(buf);
	profile__free(p);
}

/* Flips in the raw protobuf reach the index checks instead of stopping at the gzip CRC. */
TEST(pprof_read_survives_raw_mutations)
{
	struct handmade h;
	size_t len, i;
	uint8_t *buf, *copy;
	unsigned int seed = 7;
	int err, ok = 0;

	handmade_init(&h);
	len = pprof__profile__get_packed_size(&h.pb);
	buf = malloc(len);
	copy = malloc(len);
	pprof__profile__pack(&h.pb, buf);
	for (i = 0; i < len; i++) {
		struct profile *q = pprof__read(buf, i, &err);

		CHECK((q != NULL) == (err == 0));
		profile__free(q);
	}
	for (i = 0; i < 20000; i++) {
		struct profile *q;

		memcpy(copy, buf, len);
		copy[rand_r(&seed) % len] = rand_r(&seed);
		if (rand_r(&seed) % 2)
			copy[rand_r(&seed) % len] = rand_r(&seed);
		q = pprof__read(copy, len, &err);
		CHECK((q != NULL) == (err == 0));
		ok += q != NULL;
		profile__free(q);
	}
	/* Some mutations stay valid (a changed address, count or name byte). */
	CHECK(ok > 0 && ok < 20000);
	free(buf);
	free(copy);
}

TEST(pprof_write_error)
{
	struct profile *p = fixture();
	FILE *f = fopen("/dev/full", "w");

	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		CHECK(pprof__write(p, f) < 0);
		fclose(f);
	}
	profile__free(p);
}

/*
 * Hooks for tests/e2e/test_pprof.sh, which runs them by name with one variable set; not a test
 * of the unit suite (the harness runs a hook only when named), and a failure without a variable.
 */
TEST_HOOK(pprof_e2e_hooks)
{
	const char *fixture_path = getenv("FLAMED_PPROF_FIXTURE");
	const char *reread = getenv("FLAMED_PPROF_REREAD");
	const char *convert = getenv("FLAMED_PPROF_CONVERT");

	if (!fixture_path && !reread && !convert) {
		fprintf(stderr, "  set FLAMED_PPROF_FIXTURE, FLAMED_PPROF_REREAD or "
				"FLAMED_PPROF_CONVERT\n");
		*failed = 1;
	}

	if (fixture_path) {
		struct profile *p = fixture();
		FILE *f = fopen(fixture_path, "wb");

		CHECK(f != NULL);
		if (f) {
			CHECK_EQ_INT(pprof__write(p, f), 0);
			CHECK_EQ_INT(fclose(f), 0);
		}
		profile__free(p);
	}
	if (reread) {
		struct profile *p = fixture();
		size_t len;
		char *buf = read_file(reread, &len);

		profile__free(check_reads_as(failed, p, buf, len));
		profile__free(p);
		free(buf);
	}
	if (convert) {
		char *in = strdup(convert), *out = strchr(in, ':'), *buf;
		struct profile *q = NULL;
		size_t len;
		int err = 1;
		FILE *f;

		CHECK(out != NULL);
		if (out) {
			*out++ = '\0';
			buf = read_file(in, &len);
			q = buf ? pprof__read(buf, len, &err) : NULL;
			CHECK_EQ_INT(err, 0);
			f = q ? fopen(out, "wb") : NULL;
			CHECK(f != NULL);
			if (f) {
				CHECK_EQ_INT(pprof__write(q, f), 0);
				CHECK_EQ_INT(fclose(f), 0);
			}
			profile__free(q);
			free(buf);
		}
		free(in);
	}
}
