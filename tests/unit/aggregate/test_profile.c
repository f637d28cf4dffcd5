// SPDX-License-Identifier: GPL-2.0-only
#include "harness.h"
#include "aggregate/profile.h"

TEST(profile_intern)
{
	struct profile *p = profile__new();
	uint32_t a, b, c;
	char name[32];
	int i;

	CHECK(p != NULL);
	a = profile__intern_str(p, "main");
	b = profile__intern_str(p, "leaf");
	c = profile__intern_str(p, "main");
	CHECK(a != 0 && b != 0 && a != b);
	CHECK_EQ_INT(a, c);
	CHECK_EQ_STR(profile__str(p, b), "leaf");
	CHECK_EQ_INT(profile__intern_str(p, ""), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		profile__intern_str(p, name);
	}
	CHECK_EQ_INT(profile__intern_str(p, "main"), a);
	CHECK_EQ_INT(profile__nr_strs(p), 10003);
	profile__free(p);
}

TEST(profile_frames_and_samples)
{
	struct profile *p = profile__new();
	struct profile_frame f = { .name = profile__intern_str(p, "a"), .kind = FRAME_KERNEL };
	uint32_t ids[2];

	ids[0] = profile__add_frame(p, &f);
	f.name = profile__intern_str(p, "b");
	ids[1] = profile__add_frame(p, &f);
	CHECK(ids[0] && ids[1] && ids[0] != ids[1]);
	f.name = profile__intern_str(p, "a");
	CHECK_EQ_INT(profile__add_frame(p, &f), ids[0]);
	CHECK_EQ_INT(profile__add_sample(p, ids, 2, 5, 1, 0, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, ids, 1, 7, 1, 0, 0), 0);
	CHECK_EQ_INT(profile__nr_samples(p), 2);
	CHECK_EQ_INT(profile__total(p), 12);
	CHECK_EQ_INT(profile__sample_frames(p, profile__sample(p, 0))[1], ids[1]);
	profile__free(p);
	profile__free(NULL);
}

/* Combining: equal samples (frames, pid, process, thread) add up, others stay apart; samples
 * from before the call are found too; 5,000 distinct stacks added 3 times stay 5,000 rows. */
TEST(profile_combine_samples)
{
	struct profile *p = profile__new();
	struct profile_frame f = { .name = profile__intern_str(p, "a") };
	uint32_t comm = profile__intern_str(p, "proc"), ids[3];
	char name[32];
	int i, r;

	ids[0] = profile__add_frame(p, &f);
	f.name = profile__intern_str(p, "b");
	ids[1] = profile__add_frame(p, &f);
	CHECK_EQ_INT(profile__add_sample(p, ids, 2, 5, 1, comm, 0), 0);
	CHECK_EQ_INT(profile__combine_samples(p), 0);
	CHECK_EQ_INT(profile__add_sample(p, ids, 2, 7, 1, comm, 0), 0);
	CHECK_EQ_INT(profile__nr_samples(p), 1);
	CHECK_EQ_INT(profile__sample(p, 0)->count, 12);
	/* Another pid, process, length or order: apart. */
	CHECK_EQ_INT(profile__add_sample(p, ids, 2, 1, 2, comm, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, ids, 2, 1, 1, 0, 0), 0);
	CHECK_EQ_INT(profile__add_sample(p, ids, 1, 1, 1, comm, 0), 0);
	ids[2] = ids[0];
	CHECK_EQ_INT(profile__add_sample(p, ids + 1, 2, 1, 1, comm, 0), 0);
	CHECK_EQ_INT(profile__nr_samples(p), 5);
	for (r = 0; r < 3; r++)
		for (i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "f%d", i);
			f.name = profile__intern_str(p, name);
			ids[2] = profile__add_frame(p, &f);
			CHECK_EQ_INT(profile__add_sample(p, ids, 3, 1, 1, comm, 0), 0);
		}
	CHECK_EQ_INT(profile__nr_samples(p), 5005);
	CHECK_EQ_INT(profile__total(p), 12 + 4 + 15000);
	CHECK_EQ_INT(profile__sample(p, 5004)->count, 3);
	profile__free(p);
}
