/* SPDX-License-Identifier: GPL-2.0-only */
/* What the workloads share: a clock to run for a given time, and CPU to burn in a frame. */
#ifndef FLAMED_WORKLOAD_H
#define FLAMED_WORKLOAD_H

#include <time.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Spins until the clock passes end, in the caller's frame: a macro, because an inline function
 * would show up as an inline frame of its own (the tests expect the caller as the leaf).
 */
#define SPIN_UNTIL(end)                                                   \
	do {                                                              \
		static volatile unsigned long sink_;                      \
		unsigned long x_ = sink_;                                 \
									  \
		while (now() < (end)) {                                   \
			for (int i_ = 0; i_ < 100000; i_++)               \
				x_ = x_ * 6364136223846793005UL + 1;      \
			sink_ = x_;                                       \
		}                                                         \
	} while (0)

#endif
