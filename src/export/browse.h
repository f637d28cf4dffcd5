/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The --listen page's work on an --output-dir's history: the list of windows with their counts,
 * the flame graph of a range and the diff of two ranges. Each is `flamed render DIR --list` /
 * `flamed render DIR --from --to` / `flamed diff DIR ...` run as a child process (the program's
 * own file, /proc/self/exe), so a day of windows merged (seconds of CPU, tens of MiB) never
 * stalls the daemon's loop or grows its memory, and a client that hangs up has its child
 * killed. The child's output and errors are read on the loop; its exit is seen through a pidfd.
 *
 * Bounded: BROWSE_MAX_JOBS children at once (-EBUSY beyond), each BROWSE_TIMEOUT_S and
 * BROWSE_MAX_OUTPUT bytes of output at most; answers are cached (BROWSE_CACHE_ENTRIES, at most
 * BROWSE_CACHE_BYTES together) by request and by the windows the range holds, so the same
 * question asked again while no window came or went is answered from memory.
 *
 * The request gives times only (checked here: digits, T, Z, ':', '.', '-', 'h', 'm', 's',
 * 'd', "now"), passed as separate arguments to the child, never through a shell and never as
 * a file name.
 */
#ifndef FLAMED_BROWSE_H
#define FLAMED_BROWSE_H

#include <stddef.h>
#include <stdint.h>

#define BROWSE_MAX_JOBS 2
#define BROWSE_TIMEOUT_S 120
#define BROWSE_MAX_OUTPUT (64u << 20)
#define BROWSE_CACHE_ENTRIES 16
#define BROWSE_CACHE_BYTES (32u << 20)
#define BROWSE_TIME_MAX 32	/* longest TIME accepted */

enum browse_kind {
	BROWSE_LIST,	/* JSON list of windows (from, to optional) */
	BROWSE_GRAPH,	/* SVG of from..to */
	BROWSE_DIFF,	/* SVG of from..to against vs_from..vs_to */
};

struct browse_query {
	enum browse_kind kind;
	const char *from, *to, *vs_from, *vs_to;	/* NULL: not given */
};

/*
 * An answer: HTTP status, content type, body (malloc'd, taken by the callee). req is the
 * caller's token given to browse__start.
 */
typedef void (*browse_done_fn)(void *ctx, void *req, unsigned int status, const char *type,
			       char *body, size_t len);

struct evloop;
struct browse;

/* dir: the --output-dir. NULL with *err set. */
struct browse *browse__new(const char *dir, struct evloop *loop, browse_done_fn done, void *ctx,
			   int *err);
/* Kills the children still running, without answering them. Accepts NULL. */
void browse__free(struct browse *b);

/* 0 when s is a TIME this module passes on (bounded length and characters), else -EINVAL. */
int browse__check_time(const char *s);

/*
 * Answers q for req: at once from the cache (done called before this returns) or later, when
 * its child is done. 0; -EINVAL (a bad time: nothing started), -EBUSY (too many running),
 * other negative errno (cannot start it).
 */
int browse__start(struct browse *b, const struct browse_query *q, void *req);
/* req's client is gone: its child is killed, done is not called. Nothing if req is unknown. */
void browse__cancel(struct browse *b, void *req);

struct browse_stats {
	uint64_t served;	/* answers given, from a child or the cache */
	uint64_t cached;	/* of those, from the cache or the known counts */
	uint64_t hang_ups;	/* children killed because their client went away */
	uint64_t timeouts;	/* children killed at BROWSE_TIMEOUT_S */
	unsigned int running;	/* children now */
};
void browse__stats(const struct browse *b, struct browse_stats *st);

#endif
