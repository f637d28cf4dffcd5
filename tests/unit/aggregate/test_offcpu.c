// SPDX-License-Identifier: GPL-2.0-only
/* Off-CPU and wall-clock profiles: mode names, state frames, and their units in pprof. */
#include <errno.h>
#include <stdlib.h>
#include <linux/types.h>

#include "harness.h"
#include "aggregate/profile.h"
#include "render/pprof.h"
#include "../../../bpf/profile.h"

TEST(offcpu_mode_names)
{
	enum profile_mode m = PROFILE_MODE_MAX;

	CHECK_EQ_INT(profile_mode__parse("cpu", &m), 0);
	CHECK_EQ_INT(m, PROFILE_CPU);
	CHECK_EQ_INT(profile_mode__parse("offcpu", &m), 0);
	CHECK_EQ_INT(m, PROFILE_OFFCPU);
	CHECK_EQ_INT(profile_mode__parse("wall", &m), 0);
	CHECK_EQ_INT(m, PROFILE_WALL);
	m = PROFILE_WALL;
	CHECK_EQ_INT(profile_mode__parse("off-cpu", &m), -EINVAL);
	CHECK_EQ_INT(profile_mode__parse("", &m), -EINVAL);
	CHECK_EQ_INT(profile_mode__parse("CPU", &m), -EINVAL);
	CHECK_EQ_INT(m, PROFILE_WALL);	/* untouched on failure */
	CHECK_EQ_STR(profile_mode__name(PROFILE_OFFCPU), "offcpu");
	CHECK_EQ_STR(profile_mode__pprof_type(PROFILE_CPU), "samples");
	CHECK_EQ_STR(profile_mode__pprof_type(PROFILE_OFFCPU), "off_cpu");
	CHECK_EQ_STR(profile_mode__pprof_type(PROFILE_WALL), "wall");
	CHECK_EQ_STR(profile_mode__what(PROFILE_OFFCPU), "off-CPU time");
	CHECK_EQ_STR(profile_mode__what(PROFILE_WALL), "wall-clock time");
}

TEST(offcpu_state_frames)
{
	CHECK_EQ_STR(profile__offcpu_state_name(OFFCPU_BLOCKED), "[blocked]");
	CHECK_EQ_STR(profile__offcpu_state_name(OFFCPU_UNINTERRUPTIBLE), "[uninterruptible]");
	CHECK_EQ_STR(profile__offcpu_state_name(OFFCPU_PREEMPTED), "[preempted]");
	CHECK_EQ_STR(profile__offcpu_state_name(OFFCPU_STOPPED), "[stopped]");
	CHECK_EQ_STR(profile__offcpu_state_name(0), "[off-cpu]");
	CHECK_EQ_STR(profile__offcpu_state_name(OFFCPU_STATE_MAX), "[off-cpu]");
	CHECK_EQ_STR(profile__offcpu_state_name(0xffffffffu), "[off-cpu]");
	/* The pseudo address of a state never names a kernel function, and round-trips. */
	CHECK(OFFCPU_IS_STATE_ADDR(OFFCPU_STATE_ADDR(OFFCPU_PREEMPTED)));
	CHECK_EQ_INT(OFFCPU_STATE_ADDR(OFFCPU_PREEMPTED) & 0xff, OFFCPU_PREEMPTED);
	CHECK(!OFFCPU_IS_STATE_ADDR(0xffffffff81000000ULL));
	CHECK(!OFFCPU_IS_STATE_ADDR(0xfffffffffffffe00ULL));
}

static struct profile *time_profile(enum profile_mode mode)
{
	struct profile *p = profile__new();
	struct profile_frame f = { .kind = FRAME_USER };
	uint32_t ids[2];

	f.name = profile__intern_str(p, "sleeper");
	ids[0] = profile__add_frame(p, &f);
	f.name = profile__intern_str(p, "[blocked]");
	ids[1] = profile__add_frame(p, &f);
	profile__add_sample(p, ids, 2, 1500000, 42, profile__intern_str(p, "prog"), 0);
	profile__add_sample(p, ids, 1, 250, 42, profile__intern_str(p, "prog"), 0);
	profile__meta(p)->profile_mode = mode;
	profile__meta(p)->freq_hz = mode == PROFILE_WALL ? 99 : 0;
	profile__meta(p)->samples = profile__total(p);
	return p;
}

/* Microsecond counts go out as nanoseconds under off_cpu / wall and come back as microseconds. */
TEST(offcpu_pprof_units)
{
	enum profile_mode modes[] = { PROFILE_OFFCPU, PROFILE_WALL };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct profile *p = time_profile(modes[i]), *q;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int err = 1;

		CHECK(f != NULL);
		if (!f)
			return;
		CHECK_EQ_INT(pprof__write(p, f), 0);
		fclose(f);
		q = pprof__read(buf, len, &err);
		CHECK_EQ_INT(err, 0);
		CHECK(q != NULL);
		if (q) {
			CHECK_EQ_INT(profile__meta_const(q)->profile_mode, modes[i]);
			CHECK_EQ_INT(profile__total(q), 1500250);
			CHECK_EQ_INT(profile__meta_const(q)->samples, 1500250);
		}
		profile__free(q);
		profile__free(p);
		free(buf);
	}
}
