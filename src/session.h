/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One profiling session: the event loop (epoll over signalfd, timerfds, the mapping-event
 * buffers and the profiled command's pidfd) that drives sample -> aggregate, and at the end
 * symbolize -> render -> the output file.
 */
#ifndef FLAMED_SESSION_H
#define FLAMED_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "output.h"

enum session_unwind {
	UNWIND_AUTO = 0,	/* tables where they load, frame pointers elsewhere */
	UNWIND_FP,		/* frame pointers only */
	UNWIND_DWARF,		/* like auto, but failing to load the unwinder is an error */
};

struct session_opts {
	uint32_t *pids;
	int nr_pids;
	char **argv;		/* command to run, NULL-terminated, or NULL */
	uint64_t duration_ns;	/* 0 = until signal / command exit */
	uint32_t freq_hz;
	const char *output;
	enum output_format format;
	const char *event;
	const char *title;
	bool include_idle;
	bool no_demangle;
	uint32_t max_stacks;
	enum session_unwind unwind;
	uint32_t unwind_max_mb;	/* cap on unwind table memory */
};

/* Runs the session; 0 when the output was written, negative errno otherwise (logged). */
int session__run(const struct session_opts *o);

#endif
