/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JIT symbol maps: /tmp/perf-PID.map, one "START SIZE name" line (hex, 0x optional) per
 * compiled function, as written by node --perf-basic-prof, JVM agents, Python's perf
 * trampoline. Read from the process's own root with its own (namespace) pid in the name.
 *
 * The file is written by the profiled user, so it is hostile input of any size: a map is
 * bounded (entries and bytes), read incrementally (only what was appended since the last read;
 * a file that shrank or was replaced is read again from the start) and within a time budget
 * shared by all maps of a window, so no map can hold memory or a window hostage.
 */
#ifndef FLAMED_PERFMAP_H
#define FLAMED_PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perfmap;

/* Bounds of one map; 0 = none. */
struct perfmap_limits {
	size_t max_entries;	/* functions kept */
	size_t max_bytes;	/* memory of entries and names */
};

/* What a map did, summed over its life (resets included). */
struct perfmap_stats {
	uint64_t bytes_read;	/* bytes of the file parsed */
	uint64_t dropped;	/* lines with a function that did not fit under the limits */
	uint64_t resets;	/* times the file shrank or was replaced: read again from 0 */
};

/* A time budget shared by every map read in one window: the time spent reading them. */
struct perfmap_budget {
	uint64_t left_ns;	/* time left for reading; spent by each update */
	bool exhausted;		/* set when a read stopped for want of time */
};

/* An empty map; lim NULL = no limits. NULL on ENOMEM. */
struct perfmap *perfmap__new(const struct perfmap_limits *lim);
/* Changes the limits from now on (what is held stays; later lines must fit). */
void perfmap__set_limits(struct perfmap *m, const struct perfmap_limits *lim);
/*
 * Parses the complete lines of buf (pure): returns the bytes consumed, through the last '\n';
 * the rest is a line still being written. Lines are findable after perfmap__commit(). Lines
 * that do not fit under the limits are counted as dropped. Never fails: on ENOMEM lines drop.
 */
size_t perfmap__feed(struct perfmap *m, const char *buf, size_t len);
/* Makes the lines fed so far findable (sorts them in). */
void perfmap__commit(struct perfmap *m);
/* Parses map text (pure), the last line even without '\n'. Later lines win. NULL on ENOMEM. */
struct perfmap *perfmap__parse(const char *buf, size_t len);
/*
 * Reads what was appended to the map of process pid since the last update, through its root
 * while it lives (alive), else from our /tmp, until the end or the budget is spent (budget
 * NULL: to the end). 0 when caught up, 1 when the budget stopped it (the rest is read next
 * time), or -errno: -ENOENT (the process wrote none), -EPERM (owned by another user), -ESTALE
 * (left by an earlier process with this pid), -EINVAL (not a regular file: a FIFO, a symlink).
 * On an error the map is emptied: what it held may not be the process's.
 */
int perfmap__update(struct perfmap *m, uint32_t pid, bool alive, struct perfmap_budget *budget);
/* perfmap__new + perfmap__update to the end, without limits. NULL with *err as above. */
struct perfmap *perfmap__load(uint32_t pid, bool alive, int *err);
void perfmap__free(struct perfmap *m);

/* The name of the JIT function holding addr, or NULL. */
const char *perfmap__find(const struct perfmap *m, uint64_t addr);
size_t perfmap__count(const struct perfmap *m);
size_t perfmap__mem(const struct perfmap *m);
void perfmap__stats(const struct perfmap *m, struct perfmap_stats *st);

/* The pid process pid has in its own (innermost) pid namespace; pid itself when unknown. */
uint32_t perfmap__ns_pid(uint32_t pid);

#endif
