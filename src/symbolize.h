/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3, symbolize: turns the aggregated raw stacks into a profile of named frames. Kernel
 * addresses through /proc/kallsyms, user addresses through the process's mappings (procs) and
 * the ELF symbols of the mapped file, cached per file identity (device + inode), never per pid.
 */
#ifndef FLAMED_SYMBOLIZE_H
#define FLAMED_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

struct procs;
struct stacks;
struct profile;

struct symbolizer_opts {
	bool no_demangle;
};

struct symbolizer_stats {
	uint64_t files;		/* ELF files read */
	uint64_t files_failed;	/* files that could not be opened or parsed */
	uint64_t cache_hits;	/* mapping lookups served by the file cache */
	uint64_t cache_misses;
	uint64_t frames;	/* user + kernel frames symbolized */
	uint64_t frames_unknown; /* frames outside any known mapping */
	uint64_t frames_unnamed; /* frames in a known file but no symbol covers them */
};

struct symbolizer;

struct symbolizer *symbolizer__new(struct procs *procs, const struct symbolizer_opts *o);
void symbolizer__free(struct symbolizer *s);

/* Appends every aggregated sample of st to p, with named frames. 0 or -ENOMEM. */
int symbolizer__build_profile(struct symbolizer *s, const struct stacks *st, struct profile *p);
void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st);

/* Demangles C++ and Rust names; returns a malloc'd string or NULL when name is not mangled. */
char *symbolize__demangle(const char *name);

#endif
