/* SPDX-License-Identifier: GPL-2.0-only */
/* The workloads' clock: they run for a given number of seconds. */
#ifndef FLAMED_WORKLOAD_NOW_H
#define FLAMED_WORKLOAD_NOW_H

#include <time.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
