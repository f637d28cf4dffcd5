/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fleet side of continuous mode, between the daemon and push.c / httpd.c:
 * - each closed window is turned into the pprof pushed to Pyroscope (push-url), with the sample
 *   labels the operator chose (sample-labels);
 * - /debug/pprof/profile?seconds=N is answered from the same session: a capture remembers the
 *   aggregate's counts when it starts, takes the growth of every count at each window's close
 *   (before the aggregate is reset) and at its own end, and symbolizes that;
 * - /metrics adds up what the windows and push report.
 *
 * The daemon's side of the contract (daemon.c): fleet__new on the daemon's loop once the
 * session is attached (push, the HTTP server and the captures' end register with the loop
 * themselves), fleet__window at every
 * window's close after the last drain and before stacks__reset, fleet__free before the session
 * and the symbolizer go. All of it runs on the daemon's one thread; nothing here blocks.
 */
#ifndef FLAMED_FLEET_H
#define FLAMED_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "export/push.h"

struct evloop;
struct fleet;
struct profile;
struct session;
struct symbolizer;

/* Sample labels of the pushed profiles (config key sample-labels). */
enum {
	FLEET_LABEL_PROCESS = 1u << 0,	/* process name as a label; otherwise the root frame */
	FLEET_LABEL_PID = 1u << 1,
	FLEET_LABEL_THREAD = 1u << 2,
};

/* Concurrent /debug/pprof/profile captures; more are refused with 429. */
#define FLEET_MAX_CAPTURES 4

/* What the fleet needs of the settings, filled by config__fill_fleet(); strings are copied. */
struct fleet_opts {
	struct push_opts push;		/* push.url "" = no push (push__new copies what it keeps) */
	const char *listen;		/* [HOST:]PORT, "" = no HTTP server */
	const char *output_dir;		/* the windows' directory: /latest.svg, the history page */
	int mode;			/* enum profile_mode */
	uint32_t push_max_samples;	/* distinct rows per pushed window, 0 = no limit */
	unsigned int sample_labels;	/* FLEET_LABEL_* kept in pushed profiles */
};

/*
 * Returns a fleet even when neither push.url nor listen is set (it then only counts); NULL
 * with *err set and a message logged when either cannot start.
 */
struct fleet *fleet__new(const struct fleet_opts *o, struct evloop *loop, struct session *s,
			 struct symbolizer *sym, int *err);
/* SIGHUP moved the windows' directory: /latest.svg follows (the history page keeps its own). */
int fleet__set_output_dir(struct fleet *f, const char *dir);
/* Tries to deliver what is pending for a few seconds, answers open requests, frees. */
void fleet__free(struct fleet *f);

/*
 * A window closes: p is its profile (NULL when it could not be built), written tells whether
 * its files were written. The session's aggregate still holds the window.
 */
void fleet__window(struct fleet *f, const struct profile *p, bool written);

/* Writes the Prometheus text page (also used by the tests). */
int fleet__metrics(struct fleet *f, FILE *out);

/* "none" or a comma-separated list of process, pid, thread. 0 or -EINVAL. */
int fleet__parse_sample_labels(const char *s, unsigned int *mask);
void fleet__format_sample_labels(unsigned int mask, char *buf, size_t len);

/*
 * The profile that is pushed: p with only the sample labels of mask; without
 * FLEET_LABEL_PROCESS the process name becomes each stack's root frame instead, as in flamed's
 * flame graphs. NULL on ENOMEM.
 */
struct profile *fleet__push_profile(const struct profile *p, unsigned int mask);

#endif
