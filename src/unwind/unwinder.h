/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1 helper for DWARF unwinding: loads unwind tables (src/unwind/unwind_table.c) into the BPF
 * row array, shared by file identity, and keeps each profiled process's mapping index current
 * as processes map, exec and exit.
 */
#ifndef FLAMED_UNWINDER_H
#define FLAMED_UNWINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sampler;
struct procs;
struct map_entry;

struct unwinder_stats {
	uint64_t tables;	/* tables loaded */
	uint64_t tables_failed;	/* files without usable CFI (frame pointers there) */
	uint64_t tables_over_cap; /* files that did not fit under the memory cap */
	uint64_t tables_refused; /* files whose CFI or headers were over elfimage's caps */
	uint64_t rows_used, rows_cap;
	uint64_t procs;		/* processes given an unwind index (ever) */
	uint64_t procs_failed;
	uint64_t maps_over_cap;	/* mappings beyond UNWIND_MAX_MAPS in a process */
	uint64_t build_ns;	/* time spent building and loading tables */
};

struct unwinder;

/* NULL when the sampler was opened without DWARF unwinding, or on ENOMEM. */
struct unwinder *unwinder__new(struct sampler *smp);
void unwinder__free(struct unwinder *u);
/* Loads tables and indexes for processes whose mappings changed since the last call. */
void unwinder__sync(struct unwinder *u, struct procs *procs);
/*
 * Called with every process the unwinder indexes (its executable mappings) or forgets
 * (exited): how language runtimes (src/runtime/) learn of processes without the core knowing
 * them. Each runtime adds its own (UNWINDER_MAX_HOOKS at most: -ENOSPC past them).
 */
#define UNWINDER_MAX_HOOKS 8
typedef void (*unwinder_proc_fn)(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n,
				 bool exited);
int unwinder__add_proc_hook(struct unwinder *u, unwinder_proc_fn fn, void *ctx);
void unwinder__stats(const struct unwinder *u, struct unwinder_stats *st);

#endif
