/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One description of a profile: the facts of its meta (span, rate, CPUs, counts, losses, host,
 * target, unwinding, symbols) worded once, in the order every output shows them. The SVG
 * subtitle (one-shot and continuous windows), the pprof comments and the one-shot summary on
 * stderr read it; a fact the meta does not know is "" and left out.
 */
#ifndef FLAMED_DESCRIBE_H
#define FLAMED_DESCRIBE_H

#include <stddef.h>

#include "aggregate/profile.h"

enum profile_fact {
	FACT_SPAN,	/* "10.0 s"; a window: "2025-01-02 03:04:05.678 to 03:05:05.680 UTC (60.0 s)" */
	FACT_RATE,	/* "99 Hz" */
	FACT_CPUS,	/* "2 CPUs" */
	FACT_COUNT,	/* "1,234 samples"; off-CPU and wall: "1.25 s of off-CPU time" */
	FACT_LOST,	/* "lost: user_stack 3, kernel_stack 1" */
	FACT_HOST,	/* "host web1" */
	FACT_TARGET,	/* "system-wide", "pid 1234", "command ./prog, CPUs 0-1" */
	FACT_UNWIND,	/* "unwind: dwarf, 1,204 stacks by tables (...), 3 tables in 0.1 MiB" */
	FACT_SYMBOLS,	/* "symbols: 312 frames, 2 unnamed, 1 unknown" */
	FACT_MAX,
};

#define FACT_BIT(f) (1u << (f))
#define FACTS_ALL ((1u << FACT_MAX) - 1)

/* Longest fact: the target (meta.mode, 64 bytes) or the host (256) with their words. */
#define PROFILE_FACT_LEN 320

struct profile_desc {
	char fact[FACT_MAX][PROFILE_FACT_LEN];	/* "" = not known */
};

/* The span names the window's start and end (continuous mode), not only its length. */
#define DESCRIBE_WINDOW (1u << 0)

/*
 * Builds d from m. count_name names CPU counts ("samples" when NULL); off-CPU and wall-clock
 * counts are microseconds and are described as seconds of their time.
 */
void profile_meta__describe(const struct profile_meta *m, unsigned int flags,
			    const char *count_name, struct profile_desc *d);

/* The known facts of mask (FACT_BIT()s), joined by ", " into buf ("" when none). */
void profile_desc__join(const struct profile_desc *d, unsigned int mask, char *buf, size_t size);

/* "1,234,567" */
void describe__count(char *buf, size_t size, uint64_t v);

#endif
