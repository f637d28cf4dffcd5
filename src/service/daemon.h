/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Continuous mode: one session sampling until stopped, cut into contiguous windows. At each
 * window's end the in-kernel counts are drained (the generation flip puts every sample in
 * exactly one window), symbolized with one long-lived symbolizer, and written as
 * DIR/flamed-<UTC start>.<ext> per format, atomically, with DIR/latest.<ext> pointing at the
 * newest; old windows are pruned by count and total bytes. One loop (base/evloop.h) for
 * everything: signals (SIGTERM/SIGINT: write the partial window and exit, SIGHUP: reload the
 * config file, SIGUSR1: close the window now), the window and watchdog timers, and what the
 * session (mapping events, drain, duration) and the fleet register with it.
 *
 * Fleet hooks (fleet.h, which drives push.h and httpd.h): the fleet registers push, the HTTP
 * server and its captures' end with the loop; each window's close calls fleet__window() after
 * the last drain and before the aggregate is reset, so pushes and /debug/pprof/profile
 * captures see every sample exactly once. Everything stays on the loop's one thread.
 */
#ifndef FLAMED_DAEMON_H
#define FLAMED_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/config.h"
#include "base/output.h"

struct daemon_opts {
	const char *config_path;	/* NULL: command line only */
	const struct config_args *args;	/* command-line settings, applied over the file */
	uint32_t *pids;			/* profile only these processes; none: system-wide */
	int nr_pids;
	uint64_t duration_ns;		/* stop after this long, 0 = until a signal */
	int log_level;			/* from -v: the config's verbose can only raise it */
};

/* Runs until SIGTERM/SIGINT (or the duration); 0 on a clean stop, negative errno otherwise. */
int daemon__run(const struct daemon_opts *o);

/*
 * Loads the configuration as the daemon does: defaults, then the file, then the command line,
 * then checks that belong to no single key (output-dir set). 0 or negative errno, msg filled.
 */
int daemon__load_config(const struct daemon_opts *o, struct config *c, char *msg);

/* Window files, exposed for tests. */
#define WINDOW_STEM_LEN 28	/* "flamed-20250102T030405.678Z" and its NUL */

/* File name extension of a format: "svg", "folded", "pb.gz". */
const char *daemon__ext(enum output_format f);
/* The stem of a window starting at real_ns (CLOCK_REALTIME), such as the one above. */
void daemon__window_stem(uint64_t real_ns, char stem[WINDOW_STEM_LEN]);
/* True when name is a window file: its stem and format are returned. */
bool daemon__parse_window_file(const char *name, char stem[WINDOW_STEM_LEN],
			       enum output_format *fmt);
/*
 * How many of the oldest windows to delete so that at most keep remain (0 = no limit) and
 * their bytes add up to at most max_bytes (0 = no limit); the newest window is always kept.
 * bytes[] lists each window's size, oldest first.
 */
size_t daemon__prune_count(const uint64_t *bytes, size_t n, uint32_t keep, uint64_t max_bytes);

#endif
