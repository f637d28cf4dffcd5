// SPDX-License-Identifier: GPL-2.0-only
/*
 * One description of a profile (src/aggregate/describe.c): the exact words of every fact of a
 * filled meta, a window's span (midnight included), off-CPU counts, facts the meta does not know
 * left out, and the SVG subtitle and pprof comments reading the same words.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"
#include "aggregate/describe.h"
#include "aggregate/profile.h"
#include "render/pprof.h"
#include "render/svg.h"
#include "pprof.pb-c.h"

/* 2023-11-14 22:13:20.123456789 UTC */
#define START_NS 1700000000123456789ULL

static void fill(struct profile_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->start_ns = START_NS;
	m->duration_ns = 60002000000ULL;
	m->freq_hz = 99;
	m->nr_cpus = 2;
	m->samples = 1234567;
	m->lost[LOST_USTACK] = 3;
	m->lost[LOST_COUNTS_FULL] = 1200;
	snprintf(m->host, sizeof(m->host), "web1");
	snprintf(m->mode, sizeof(m->mode), "pid 1234, CPUs 0-1");
	snprintf(m->unwind, sizeof(m->unwind), "dwarf");
	m->dwarf_stacks = 1204;
	m->dwarf_fp_stacks = 7;
	m->dwarf_truncated = 2;
	m->unwind_tables = 3;
	m->unwind_table_bytes = 3 * 1048576 / 2;
	m->sym_frames = 312;
	m->sym_unnamed = 2;
	m->sym_unknown = 1;
}

TEST(describe_every_fact)
{
	struct profile_meta m;
	struct profile_desc d;
	char line[2048];

	fill(&m);
	profile_meta__describe(&m, 0, NULL, &d);
	CHECK_EQ_STR(d.fact[FACT_SPAN], "60.0 s");
	CHECK_EQ_STR(d.fact[FACT_RATE], "99 Hz");
	CHECK_EQ_STR(d.fact[FACT_CPUS], "2 CPUs");
	CHECK_EQ_STR(d.fact[FACT_COUNT], "1,234,567 samples");
	CHECK_EQ_STR(d.fact[FACT_LOST], "lost: counts_map_full 1200, user_stack 3");
	CHECK_EQ_STR(d.fact[FACT_HOST], "host web1");
	CHECK_EQ_STR(d.fact[FACT_TARGET], "pid 1234, CPUs 0-1");
	CHECK_EQ_STR(d.fact[FACT_UNWIND], "unwind: dwarf, 1204 stacks by tables (7 partly by frame "
					  "pointers, 2 truncated), 3 tables in 1.5 MiB");
	CHECK_EQ_STR(d.fact[FACT_SYMBOLS], "symbols: 312 frames, 2 unnamed, 1 unknown");
	profile_desc__join(&d, FACTS_ALL, line, sizeof(line));
	CHECK_EQ_STR(line, "60.0 s, 99 Hz, 2 CPUs, 1,234,567 samples, lost: counts_map_full 1200, "
			   "user_stack 3, host web1, pid 1234, CPUs 0-1, unwind: dwarf, 1204 stacks "
			   "by tables (7 partly by frame pointers, 2 truncated), 3 tables in 1.5 MiB, "
			   "symbols: 312 frames, 2 unnamed, 1 unknown");
	/* A mask picks facts; their order stays the description's. */
	profile_desc__join(&d, FACT_BIT(FACT_COUNT) | FACT_BIT(FACT_RATE), line, sizeof(line));
	CHECK_EQ_STR(line, "99 Hz, 1,234,567 samples");
	/* A short buffer is cut, never overrun. */
	profile_desc__join(&d, FACTS_ALL, line, 10);
	CHECK_EQ_STR(line, "60.0 s, 9");

	m.unwind_tables_over_cap = 1;
	m.sym_jit = 5;
	m.nr_cpus = 1;
	profile_meta__describe(&m, 0, "us", &d);
	CHECK_EQ_STR(d.fact[FACT_CPUS], "1 CPU");
	CHECK_EQ_STR(d.fact[FACT_COUNT], "1,234,567 us");
	CHECK_EQ_STR(d.fact[FACT_UNWIND], "unwind: dwarf, 1204 stacks by tables (7 partly by frame "
					  "pointers, 2 truncated), 3 tables in 1.5 MiB, some "
					  "binaries over the memory cap");
	CHECK_EQ_STR(d.fact[FACT_SYMBOLS], "symbols: 312 frames, 2 unnamed, 1 unknown, 5 JIT");
	snprintf(m.unwind, sizeof(m.unwind), "fp");
	profile_meta__describe(&m, 0, NULL, &d);
	CHECK_EQ_STR(d.fact[FACT_UNWIND], "unwind: fp");
}

TEST(describe_window_span)
{
	struct profile_meta m;
	struct profile_desc d;

	fill(&m);
	profile_meta__describe(&m, DESCRIBE_WINDOW, NULL, &d);
	CHECK_EQ_STR(d.fact[FACT_SPAN], "2023-11-14 22:13:20.123 to 22:14:20.125 UTC (60.0 s)");
	/* Across midnight the end names its date. */
	m.duration_ns = 7000000000000ULL;
	profile_meta__describe(&m, DESCRIBE_WINDOW, NULL, &d);
	CHECK_EQ_STR(d.fact[FACT_SPAN],
		     "2023-11-14 22:13:20.123 to 2023-11-15 00:10:00.123 UTC (7000.0 s)");
	/* Without a start time, a window is described by its length. */
	m.start_ns = 0;
	profile_meta__describe(&m, DESCRIBE_WINDOW, NULL, &d);
	CHECK_EQ_STR(d.fact[FACT_SPAN], "7000.0 s");
}

TEST(describe_offcpu_and_unknown_facts)
{
	struct profile_meta m;
	struct profile_desc d;
	char line[512];

	memset(&m, 0, sizeof(m));
	m.profile_mode = PROFILE_OFFCPU;
	m.samples = 1250000;
	profile_meta__describe(&m, 0, "us", &d);
	CHECK_EQ_STR(d.fact[FACT_COUNT], "1.25 s of off-CPU time");
	/* Nothing else is known (folded input): left out, not "0 Hz" or "host ". */
	profile_desc__join(&d, FACTS_ALL, line, sizeof(line));
	CHECK_EQ_STR(line, "1.25 s of off-CPU time");
	m.profile_mode = PROFILE_WALL;
	m.freq_hz = 49;
	profile_meta__describe(&m, 0, NULL, &d);
	profile_desc__join(&d, FACTS_ALL, line, sizeof(line));
	CHECK_EQ_STR(line, "49 Hz, 1.25 s of wall-clock time");
	m.profile_mode = PROFILE_CPU;
	m.freq_hz = 0;
	m.samples = 0;
	profile_meta__describe(&m, 0, NULL, &d);
	profile_desc__join(&d, FACTS_ALL, line, sizeof(line));
	CHECK_EQ_STR(line, "0 samples");
}

static struct profile *filled_profile(void)
{
	struct profile *p = profile__new();
	struct profile_frame f = { .kind = FRAME_USER };
	uint32_t id;

	f.name = profile__intern_str(p, "main");
	id = profile__add_frame(p, &f);
	profile__add_sample(p, &id, 1, 1234567, 1234, profile__intern_str(p, "proc"), 0);
	fill(profile__meta(p));
	return p;
}

/* The SVG subtitle of a one-shot profile and of a window: the description, word for word. */
TEST(describe_read_by_svg)
{
	struct profile *p = filled_profile();
	struct profile_desc d;
	char want[2048], *buf = NULL;
	struct svg_opts o;
	size_t len = 0;
	FILE *f;

	for (int window = 0; window < 2; window++) {
		svg_opts__init(&o);
		o.window = window;
		f = open_memstream(&buf, &len);
		CHECK_EQ_INT(svg__write(p, &o, f), 0);
		fclose(f);
		profile_meta__describe(profile__meta_const(p), window ? DESCRIBE_WINDOW : 0, NULL,
				       &d);
		snprintf(want, sizeof(want), ">%s</text>", d.fact[FACT_SPAN]);
		profile_desc__join(&d, FACTS_ALL, want + 1, sizeof(want) - 1);
		strcat(want, "</text>");
		CHECK(strstr(buf, want) != NULL);
		CHECK(strstr(buf, window ? ">2023-11-14 22:13:20.123 to 22:14:20.125 UTC (60.0 s), "
					   "99 Hz, 2 CPUs, 1,234,567 samples"
					 : ">60.0 s, 99 Hz, 2 CPUs, 1,234,567 samples") != NULL);
		CHECK(strstr(buf, "unwind: dwarf, 1204 stacks by tables") != NULL);
		free(buf);
		buf = NULL;
	}
	profile__free(p);
}

static bool has_comment(const Pprof__Profile *m, const char *want)
{
	for (size_t i = 0; i < m->n_comment; i++) {
		int64_t k = m->comment[i];

		if (k > 0 && (size_t)k < m->n_string_table &&
		    m->string_table[k].len == strlen(want) &&
		    !memcmp(m->string_table[k].data, want, strlen(want)))
			return true;
	}
	return false;
}

/* pprof comments: host, target, losses keyed (read back), CPUs, unwinding, symbols worded. */
TEST(describe_read_by_pprof)
{
	struct profile *p = filled_profile();
	Pprof__Profile *m = NULL;
	unsigned char *raw = malloc(1 << 20);
	char *buf = NULL;
	size_t len = 0;
	z_stream zs = {};
	FILE *f = open_memstream(&buf, &len);

	CHECK_EQ_INT(pprof__write(p, f), 0);
	fclose(f);
	inflateInit2(&zs, 15 + 16);
	zs.next_in = (unsigned char *)buf;
	zs.avail_in = len;
	zs.next_out = raw;
	zs.avail_out = 1 << 20;
	CHECK_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	m = pprof__profile__unpack(NULL, zs.total_out, raw);
	inflateEnd(&zs);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_INT(m->n_comment, 2 + LOST_MAX + 3);
		CHECK(has_comment(m, "host: web1"));
		CHECK(has_comment(m, "mode: pid 1234, CPUs 0-1"));
		CHECK(has_comment(m, "lost samples (user_stack): 3"));
		CHECK(has_comment(m, "2 CPUs"));
		CHECK(has_comment(m, "unwind: dwarf, 1204 stacks by tables (7 partly by frame "
				     "pointers, 2 truncated), 3 tables in 1.5 MiB"));
		CHECK(has_comment(m, "symbols: 312 frames, 2 unnamed, 1 unknown"));
		pprof__profile__free_unpacked(m, NULL);
	}
	free(raw);
	free(buf);
	profile__free(p);
}
