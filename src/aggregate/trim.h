/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trimming a profile to a number of distinct sample rows, for backends that refuse bigger
 * ones: Grafana Pyroscope answers 400 to a profile with more than max_profile_stacktrace_samples
 * (default 16000) samples, counted as pprof Sample messages, i.e. distinct rows of stack and
 * labels (grafana/pyroscope pkg/validation/limits.go and validate.go, ValidateProfile).
 *
 * A row is what the pprof writer merges into one Sample: equal frames, pid, process name,
 * thread name and attribution. When there are more than max rows, the heaviest are kept as
 * they are and the others are folded, per group, into one remainder row whose stack is the
 * group's root frame (the process name, or the group under --group-by, when that is the root
 * frame) and a frame "[trimmed N stacks]", with the group's labels and the sum of their counts.
 * A group is (pid, process, thread, attribution, root frame when no process label is set), so
 * the remainder stays under its process in a flame graph and in Pyroscope's label filters. If
 * the groups alone do not fit in half the limit, everything folded goes into one row
 * "[trimmed N stacks]" without labels. The total is always kept exactly: nothing disappears.
 */
#ifndef FLAMED_TRIM_H
#define FLAMED_TRIM_H

#include <stddef.h>
#include <stdint.h>

struct profile;

struct profile_trim_stats {
	size_t rows;		/* distinct rows of the input (samples with a count) */
	size_t kept;		/* rows kept as they are */
	size_t folded;		/* rows folded into remainders */
	size_t remainders;	/* remainder rows added */
	uint64_t folded_count;	/* the sum of the folded rows' counts */
};

/* The frame name of a remainder of n rows: "[trimmed N stacks]". */
#define TRIM_FRAME_PREFIX "[trimmed "

/*
 * Counts p's rows, and when they are more than max_rows (>= 2), builds in *out a copy of p with
 * at most max_rows rows as described above (meta, mappings, frames and attributions carried
 * over). *out is NULL when p fits. 0, -EINVAL (max_rows < 2) or -ENOMEM.
 */
int profile__trim(const struct profile *p, size_t max_rows, struct profile **out,
		  struct profile_trim_stats *st);

#endif
