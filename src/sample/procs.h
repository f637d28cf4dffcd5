/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process and mapping tracking. The executable mappings of every process are learnt from
 * /proc/PID/maps when profiling starts and then from the kernel's own mmap, exec, fork and exit
 * records (a dummy perf event per CPU), so processes that exit before the loader looks at them
 * are still known when their samples are symbolized.
 */
#ifndef FLAMED_PROCS_H
#define FLAMED_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct map_entry {
	uint64_t start, end;	/* [start, end) in the process */
	uint64_t pgoff;		/* file offset of start */
	uint32_t maj, min;	/* device of the file */
	uint64_t ino;		/* inode; 0 for anonymous and special mappings */
	char *path;		/* as the kernel printed it: "/usr/lib/...", "[vdso]", "" */
	/*
	 * CLOCK_MONOTONIC ns of the record (or /proc scan) that reported it; 0 = older than
	 * anything. Records reach flamed out of order (one ring per CPU): times, not arrival,
	 * decide what an exec or fork replaces.
	 */
	uint64_t time;
};

/*
 * Parses one /proc/PID/maps line (without or with its newline). Fills *e with path pointing
 * into line (not NUL-terminated: *path_len says how long). Returns 1 for an executable
 * mapping, 0 for a non-executable one, -EINVAL for a malformed line.
 */
int maps__parse_line(const char *line, size_t len, struct map_entry *e, size_t *path_len);

struct procs;

/* With track = false no perf events are opened (tests, or reading /proc only). */
struct procs *procs__new(bool track, int *err);
void procs__free(struct procs *p);

/* Reads /proc/PID/maps; -ESRCH when the process does not exist. */
int procs__scan(struct procs *p, uint32_t pid);
/*
 * The process of a thread from its /proc/TID/status text: 0 with *tgid set, -ESRCH for a
 * zombie or dead thread, -EINVAL when the text says neither.
 */
int procs__parse_status(const char *buf, uint32_t *tgid);
/* The process (tgid) of a live thread, from /proc; -ESRCH when it is gone or a zombie. */
int procs__thread_tgid(uint32_t tid, uint32_t *tgid);
/* Scans every process in /proc. */
int procs__scan_all(struct procs *p);
/* Applies pending mmap/exec/fork/exit records. Safe to call at any time. */
int procs__consume(struct procs *p);
/*
 * Applies perf records (struct perf_event_header each, with sample_id_all's time as their
 * last 8 bytes), laid end to end in buf, as if read from the rings: the pure part of
 * procs__consume. -EINVAL (nothing applied) when a header's size is impossible.
 */
int procs__apply(struct procs *p, const void *buf, size_t len);
/* An fd that becomes readable when records are pending (for epoll); -1 without tracking. */
int procs__epoll_fd(struct procs *p);

/* The mapping that holds addr in process pid, or NULL. */
const struct map_entry *procs__find(struct procs *p, uint32_t pid, uint64_t addr);
/* Names a process image is known by (main thread renames), and earlier images kept per pid. */
#define PROC_NAMES 4
#define PROC_IMAGES 4
/*
 * The mapping that holds addr in the image of process pid whose main thread was called comm
 * (a sample's pcomm): the current image, or one it replaced by exec, or an earlier process with
 * the same pid, until procs__gc. NULL when no image had that name: a sample is never named
 * through another program's mappings. Images without a known name match any comm.
 */
const struct map_entry *procs__find_as(struct procs *p, uint32_t pid, const char *comm,
				       uint64_t addr);
/* True when the current image of pid ran under the name comm (or its names are unknown). */
bool procs__is_current(struct procs *p, uint32_t pid, const char *comm);
/* True while the process has not been seen exiting. */
bool procs__alive(struct procs *p, uint32_t pid);
/*
 * Calls fn for every process whose mappings changed (or that exited) since the last visit,
 * with its mappings sorted by start.
 */
typedef void (*procs_visit_fn)(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n,
			       bool exited);
void procs__visit_dirty(struct procs *p, procs_visit_fn fn, void *ctx);
/* Forgets processes that exited. Call after their samples were symbolized. */
void procs__gc(struct procs *p);

struct procs_stats {
	uint64_t processes;
	uint64_t mappings;
	uint64_t records;
	uint64_t records_lost;	/* mmap records the kernel dropped (buffer full) */
	uint64_t last_delay_ns;	/* from the newest record to its application, last consume */
	uint64_t records_stale;	/* older than the exec or fork they followed: not applied */
	uint64_t reaped;	/* processes gone from /proc whose exit record never came */
};
void procs__stats(const struct procs *p, struct procs_stats *st);

/*
 * Opens the file behind a mapping, read-only and without blocking: through
 * /proc/PID/map_files while the process lives (deleted files, other mount namespaces), else by
 * path. -ESTALE when what the path names now is not the mapped file (other device or inode)
 * or not a regular file, so a replaced binary never names another's addresses.
 */
int procs__open_mapping(uint32_t pid, bool alive, const struct map_entry *m);

/*
 * Our own vDSO image: every process on this kernel maps the same one, so it stands in for
 * theirs (symbols and unwind tables). 0 or -ENOENT.
 */
int procs__self_vdso(const void **base, size_t *len);

/* Files of new mappings kept open (mapfiles.c), so exited processes can still be symbolized. */
#define PROCS_KEEP_FILES 256

/*
 * Like procs__open_mapping, but first from the files opened when the mapping was reported
 * (the process may be gone, its binary deleted or in a mount namespace no one can enter now).
 */
int procs__open_file(struct procs *p, uint32_t pid, bool alive, const struct map_entry *m);

/* Adds a mapping by hand (tests, and the /proc scan). */
int procs__add_map(struct procs *p, uint32_t pid, const struct map_entry *e);

#endif
