/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JIT symbol maps: /tmp/perf-PID.map, one "START SIZE name" line (hex, 0x optional) per
 * compiled function, as written by node --perf-basic-prof, JVM agents, Python's perf
 * trampoline. Read from the process's own root with its own (namespace) pid in the name.
 */
#ifndef FLAMED_PERFMAP_H
#define FLAMED_PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perfmap;

/* Parses map text (pure). Later lines win where code was replaced. NULL on ENOMEM. */
struct perfmap *perfmap__parse(const char *buf, size_t len);
/*
 * Loads the map of process pid: through its root while it lives (alive), else from our /tmp.
 * NULL with *err (-ENOENT: the process wrote none; -EPERM: owned by another user).
 */
struct perfmap *perfmap__load(uint32_t pid, bool alive, int *err);
void perfmap__free(struct perfmap *m);

/* The name of the JIT function holding addr, or NULL. */
const char *perfmap__find(const struct perfmap *m, uint64_t addr);
size_t perfmap__count(const struct perfmap *m);
size_t perfmap__mem(const struct perfmap *m);

/* The pid process pid has in its own (innermost) pid namespace; pid itself when unknown. */
uint32_t perfmap__ns_pid(uint32_t pid);

#endif
