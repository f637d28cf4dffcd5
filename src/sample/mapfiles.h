/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Open files behind executable mappings, taken when the kernel reports the mapping (while the
 * process still lives) and kept by file identity (device + inode) under a cap, least recently
 * used first out. A process that lived 20 ms, ran a binary since deleted, or ran one that only
 * existed in its own mount namespace can still be symbolized after it is gone.
 */
#ifndef FLAMED_MAPFILES_H
#define FLAMED_MAPFILES_H

#include <stddef.h>
#include <stdint.h>

struct map_entry;
struct mapfiles;

struct mapfiles_stats {
	uint64_t kept;		/* files open now */
	uint64_t opened;	/* files opened in all */
	uint64_t failed;	/* mappings whose file could not be opened in time */
	uint64_t evicted;	/* closed to stay under the cap */
	uint64_t hits;		/* mapping records of files already open */
};

struct mapfiles *mapfiles__new(size_t max_files);
void mapfiles__free(struct mapfiles *k);
/*
 * Opens the file behind mapping m (path: path_len bytes, not NUL-terminated) of the live
 * process pid through /proc/PID/map_files or its root, and keeps it. Does nothing for files
 * already kept or without an inode.
 */
void mapfiles__note(struct mapfiles *k, uint32_t pid, const struct map_entry *m, const char *path,
		    size_t path_len);
/* A new fd (the caller closes it) of the kept file with m's identity, or -ENOENT. */
int mapfiles__open(struct mapfiles *k, const struct map_entry *m);
void mapfiles__stats(const struct mapfiles *k, struct mapfiles_stats *st);

#endif
