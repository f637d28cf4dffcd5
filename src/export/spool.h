/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The push spool: windows waiting to be delivered to a profiling backend, oldest first, under
 * a bound on their total bytes. With a directory each window is a file named for its span,
 * DIR/<start ns>-<end ns>.pb.gz (20 digits each, so names sort as time does; an off-CPU or
 * wall-clock window's name says so before the extension, .offcpu.pb.gz or .wall.pb.gz, so a
 * window spooled by a run with another --mode is still pushed as what it is), written atomically
 * and found again after a restart; without one the windows are kept in memory. The spool keeps
 * no state but the files themselves, so a window leaves it only when it was delivered (or
 * dropped past the bound): a crash between delivery and removal sends it once more, never zero
 * times.
 *
 * The bound: when a new window brings the total over max_bytes, the oldest windows are dropped
 * (counted, logged) until it fits, except the one being sent and the new one, which are kept
 * whatever their size.
 */
#ifndef FLAMED_SPOOL_H
#define FLAMED_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/profile.h"

/* A spooled file is a gzipped pprof of one window; anything larger is not ours. */
#define SPOOL_MAX_FILE (256ULL << 20)

struct spool_window {
	uint64_t start_ns, end_ns;	/* CLOCK_REALTIME span of the window */
	enum profile_mode mode;		/* what its counts measure */
	const uint8_t *data;		/* its gzipped pprof, valid until spool__release */
	size_t len;
};

struct spool_stats {
	uint64_t windows;		/* held now */
	uint64_t bytes;			/* held now */
	uint64_t added;			/* windows added since start */
	uint64_t dropped;		/* windows dropped past the bound (or unreadable) */
	uint64_t dropped_bytes;
	uint64_t write_errors;		/* windows that could not be written to the directory */
};

struct spool;

/*
 * dir NULL or "": in memory. Otherwise the directory is created if missing (mode 0700), the
 * temp files of an interrupted write are removed and the windows found there are queued first,
 * the bound applied to them too. NULL with *err set (and a message logged) when dir is unusable.
 */
struct spool *spool__new(const char *dir, uint64_t max_bytes, int *err);
void spool__free(struct spool *s);

/*
 * Queues a copy of a window; drops the oldest past the bound. Returns how many were dropped,
 * or -ENOMEM. A window that cannot be written to the directory (a full disk) is kept in memory
 * instead, so the bound still decides its fate.
 */
int spool__add(struct spool *s, const void *data, size_t len, uint64_t start_ns, uint64_t end_ns,
	       enum profile_mode mode);

/*
 * The oldest window, pinned (never dropped) until spool__release. 0; -ENOENT when the spool is
 * empty; -EBUSY when a window is already pinned. Files that cannot be read are dropped and the
 * next one is tried.
 */
int spool__peek(struct spool *s, struct spool_window *w);
/* Unpins the window of spool__peek; done: it was delivered (or refused for good) and leaves. */
void spool__release(struct spool *s, bool done);

size_t spool__count(const struct spool *s);
void spool__stats(const struct spool *s, struct spool_stats *st);

/*
 * The file name of a window: "<start>-<end>.pb.gz", "<start>-<end>.<mode>.pb.gz" for a mode
 * other than cpu; false when name is not one.
 */
#define SPOOL_NAME_LEN 64
void spool__name(uint64_t start_ns, uint64_t end_ns, enum profile_mode mode,
		 char name[SPOOL_NAME_LEN]);
bool spool__parse_name(const char *name, uint64_t *start_ns, uint64_t *end_ns,
		       enum profile_mode *mode);

#endif
