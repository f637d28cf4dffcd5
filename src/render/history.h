/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The windows of a continuous-mode --output-dir, read back: `flamed render DIR --from --to`
 * merges those whose start lies in a range, `flamed diff DIR` compares two ranges.
 *
 * A window is DIR/flamed-YYYYMMDDTHHMMSS.mmmZ.<ext> (service/daemon.h names them; the stem is the
 * window's UTC start to the millisecond). Of the formats a window was written in, the pprof
 * file is read when there is one (it carries the mode, rate, span and losses), else the folded
 * one; an SVG-only window cannot be read back and is counted, not merged. Counts are added
 * exactly: the merged total is the sum of the windows' totals. Windows whose modes (cpu,
 * offcpu, wall) or rates differ are refused, never summed: their counts do not measure the same
 * thing. A folded window does not say its mode or rate; only pprof windows are checked.
 *
 * The parsers (times, file names) take buffers and never log; history__merge() logs what it
 * refuses, naming the file.
 */
#ifndef FLAMED_HISTORY_H
#define FLAMED_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct profile;

/* Formats a window was written in (bits). */
#define HISTORY_SVG (1u << 0)
#define HISTORY_FOLDED (1u << 1)
#define HISTORY_PPROF (1u << 2)

struct history_window {
	uint64_t start_ms;    /* UTC start, from the file name, ms since the epoch */
	unsigned int formats; /* HISTORY_* */
};

/* The longest TIME history__format_time() writes: "2026-12-04T03:00:00.000Z" and its NUL. */
#define HISTORY_TIME_LEN 25

/*
 * A TIME of the command line, to ms since the epoch (UTC): ISO 8601 in UTC,
 * "2026-12-04T03:00:00Z", "2026-12-04T03:00Z" (seconds optional), "2026-12-04T03:00:00.250Z",
 * "2026-12-04" (midnight); the Z may be left out, other offsets are refused (-EINVAL). Or
 * relative to now_ms: "-2h", "-30m", "-90s", "-1d", "now". s holds len bytes, no NUL needed.
 * 0, -EINVAL (not a time), -ERANGE (before 1970 or after 9999).
 */
int history__parse_time(const char *s, size_t len, uint64_t now_ms, uint64_t *ret_ms);

/*
 * A window's file name (len bytes) "flamed-20261204T030000.000Z.<ext>", ext svg, folded or
 * pb.gz: its start and its format (one HISTORY_* bit). -EINVAL for any other name, an
 * impossible date included (20261231T246000).
 */
int history__parse_window_name(const char *name, size_t len, uint64_t *ret_ms,
			       unsigned int *ret_format);

/*
 * One window of a `render DIR --list` answer (JSON, a line): {"start": TIME, "start_ms": N,
 * "formats": [...], "count": N or null (count < 0)}, after a comma unless first.
 */
void history__json_window(FILE *f, const struct history_window *w, bool first, long long count);

/* "2026-12-04T03:00:00Z", with ".mmm" before the Z when ms has milliseconds. */
void history__format_time(uint64_t ms, char buf[HISTORY_TIME_LEN]);

/*
 * The windows of dir, oldest first, one entry per stem (its formats or'ed): *ret (malloc'd,
 * free() it) and *ret_n. 0 or negative errno (dir not readable: logged).
 */
int history__scan(const char *dir, struct history_window **ret, size_t *ret_n);

/* The first index of windows w[0..n) (sorted) whose start is at or after ms. */
size_t history__lower_bound(const struct history_window *w, size_t n, uint64_t ms);

/* What a merge found, for its description and for comparing two merges (diff). */
struct history_info {
	size_t windows;		      /* windows merged */
	size_t unreadable;	      /* windows with neither pprof nor folded file (SVG only) */
	size_t pprof, folded;	      /* windows read from each format */
	bool known;		      /* mode and rate below come from a pprof window */
	int profile_mode;	      /* enum profile_mode */
	uint32_t freq_hz;	      /* 0 = not known */
	char first[HISTORY_TIME_LEN]; /* the first window merged, for messages */
};

/*
 * Merges windows w[0..n) of dir into p (empty), its meta the sum of theirs: samples and losses
 * added, start the first window's, duration to the last one's end, mode and rate the windows'
 * own. -EINVAL (logged, saying why) when a window cannot be read, when no window has a
 * readable format, or when modes or rates differ; -EOVERFLOW, -ENOMEM.
 */
int history__merge(const char *dir, const struct history_window *w, size_t n, struct profile *p,
		   struct history_info *info);

#endif
