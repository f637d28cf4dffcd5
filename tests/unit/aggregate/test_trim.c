// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trimming a profile to a number of rows (aggregate/trim.h): the heaviest rows kept, the rest
 * folded per process into "[trimmed N stacks]", the total exact, and the pprof written from the
 * result has at most the limit of samples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "aggregate/profile.h"
#include "aggregate/trim.h"
#include "render/pprof.h"

/* Stacks root, fN (N = 0..n-1) under process frame comm (no label), count N + 1. */
static void add_stacks(struct profile *p, const char *comm, int n, uint32_t pid, bool label)
{
	struct profile_frame f = { .kind = FRAME_USER };
	uint32_t fr[3];
	char name[32];
	int i;

	f.name = profile__intern_str(p, comm);
	fr[0] = profile__add_frame(p, &f);
	f.name = profile__intern_str(p, "main");
	fr[1] = profile__add_frame(p, &f);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		f.name = profile__intern_str(p, name);
		fr[2] = profile__add_frame(p, &f);
		if (label)
			profile__add_sample(p, fr + 1, 2, i + 1, pid, profile__intern_str(p, comm),
					    0);
		else
			profile__add_sample(p, fr, 3, i + 1, pid, 0, 0);
	}
}

static const char *leaf(const struct profile *p, const struct profile_sample *s)
{
	return profile__str(p, profile__frame(p, profile__sample_frames(p, s)[s->nframes - 1])->name);
}

TEST(trim_fits_untouched)
{
	struct profile *p = profile__new(), *q = (struct profile *)1;
	struct profile_trim_stats st;

	add_stacks(p, "app", 50, 0, false);
	/* Equal stacks are one row. */
	add_stacks(p, "app", 50, 0, false);
	CHECK_EQ_INT(profile__trim(p, 100, &q, &st), 0);
	CHECK(q == NULL);
	CHECK_EQ_INT(st.rows, 50);
	CHECK_EQ_INT(profile__trim(p, 1, &q, &st), -EINVAL);
	profile__free(p);
}

TEST(trim_folds_lightest_per_process)
{
	struct profile *p = profile__new(), *q = NULL;
	struct profile_trim_stats st;
	uint64_t folded_a = 0, folded_b = 0, kept_min = UINT64_MAX;
	size_t i, rem = 0;

	add_stacks(p, "a", 300, 0, false);
	add_stacks(p, "b", 300, 0, false);
	profile__meta(p)->freq_hz = 99;
	CHECK_EQ_INT(profile__trim(p, 200, &q, &st), 0);
	CHECK(q != NULL);
	if (!q)
		goto out;
	CHECK_EQ_INT(st.rows, 600);
	/* 198 kept, one remainder for a and one for b. */
	CHECK_EQ_INT(st.kept, 198);
	CHECK_EQ_INT(st.folded, 402);
	CHECK_EQ_INT(st.remainders, 2);
	CHECK_EQ_INT(profile__nr_samples(q), 200);
	CHECK_EQ_INT(profile__total(q), profile__total(p));
	CHECK_EQ_INT(profile__meta(q)->freq_hz, 99);
	for (i = 0; i < profile__nr_samples(q); i++) {
		const struct profile_sample *s = profile__sample(q, i);
		const char *root = profile__str(q, profile__frame(q, profile__sample_frames(q, s)[0])->name);

		if (!strncmp(leaf(q, s), TRIM_FRAME_PREFIX, strlen(TRIM_FRAME_PREFIX))) {
			rem++;
			CHECK_EQ_INT(s->nframes, 2);
			CHECK_EQ_STR(leaf(q, s), "[trimmed 201 stacks]");
			if (!strcmp(root, "a"))
				folded_a += s->count;
			else
				folded_b += s->count;
		} else if (s->count < kept_min) {
			kept_min = s->count;
		}
	}
	CHECK_EQ_INT(rem, 2);
	/* The kept rows are the heaviest: counts 300..202 of each (99 each, 198). */
	CHECK_EQ_INT(kept_min, 202);
	CHECK_EQ_INT(folded_a, 201 * 202 / 2);
	CHECK_EQ_INT(folded_b, 201 * 202 / 2);
	CHECK_EQ_INT(st.folded_count, folded_a + folded_b);
out:
	profile__free(q);
	profile__free(p);
}

TEST(trim_labels_and_many_groups)
{
	struct profile *p = profile__new(), *q = NULL;
	struct profile_trim_stats st;
	const struct profile_sample *s;
	int i;

	/* With a process label, the remainder keeps the label and has no root frame. */
	add_stacks(p, "a", 300, 7, true);
	CHECK_EQ_INT(profile__trim(p, 100, &q, &st), 0);
	CHECK(q != NULL);
	if (q) {
		s = profile__sample(q, profile__nr_samples(q) - 1);
		CHECK_EQ_INT(s->nframes, 1);
		CHECK_EQ_INT(s->pid, 7);
		CHECK_EQ_STR(profile__str(q, s->comm), "a");
		CHECK_EQ_STR(leaf(q, s), "[trimmed 201 stacks]");
		profile__free(q);
		q = NULL;
	}
	profile__free(p);

	/* 150 processes of 2 stacks, limit 100: the groups would crowd out the stacks. */
	p = profile__new();
	for (i = 0; i < 150; i++) {
		char comm[16];

		snprintf(comm, sizeof(comm), "p%d", i);
		add_stacks(p, comm, 2, 100 + i, true);
	}
	CHECK_EQ_INT(profile__trim(p, 100, &q, &st), 0);
	CHECK(q != NULL);
	if (q) {
		CHECK_EQ_INT(st.remainders, 1);
		CHECK_EQ_INT(profile__nr_samples(q), 100);
		CHECK_EQ_INT(profile__total(q), profile__total(p));
		s = profile__sample(q, 99);
		CHECK_EQ_INT(s->pid, 0);
		CHECK_EQ_INT(s->comm, 0);
		CHECK_EQ_STR(leaf(q, s), "[trimmed 201 stacks]");
		profile__free(q);
	}
	profile__free(p);
}

TEST(trim_pprof_rows_within_limit)
{
	struct profile *p = profile__new(), *q = NULL, *r = NULL;
	struct profile_trim_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	add_stacks(p, "a", 5000, 0, false);
	add_stacks(p, "b", 5000, 0, false);
	CHECK_EQ_INT(profile__trim(p, 1600, &q, &st), 0);
	CHECK(q != NULL);
	if (!q)
		goto out;
	f = open_memstream(&buf, &len);
	CHECK_EQ_INT(pprof__write(q, f), 0);
	fclose(f);
	r = pprof__read(buf, len, &err);
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_INT(profile__nr_samples(r), 1600);
		CHECK_EQ_INT(profile__total(r), profile__total(p));
	}
out:
	free(buf);
	profile__free(r);
	profile__free(q);
	profile__free(p);
}
