/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Atomic output files: opened (and so checked for writability) before profiling starts, written
 * to a hidden temp file beside the target, fsync'd and renamed over it on commit. An aborted or
 * killed run leaves the target untouched; only the temp file may remain after SIGKILL.
 */
#ifndef FLAMED_OUTPUT_H
#define FLAMED_OUTPUT_H

#include <stdio.h>

enum output_format {
	FMT_NONE = 0,
	FMT_SVG,
	FMT_FOLDED,
	FMT_PPROF,
};

/* Format from a --format word or from a file name's extension; FMT_NONE if unknown. */
enum output_format output__format_from_name(const char *name);
enum output_format output__format_from_path(const char *path);
const char *output__format_name(enum output_format f);

struct output;

/* Creates the temp file; NULL with errno set when the directory is not writable. */
struct output *output__open(const char *path, unsigned int mode);
FILE *output__file(struct output *o);
/* Flushes, fsyncs and renames into place; 0 or negative errno (temp file removed on error). */
int output__commit(struct output *o);
/* Removes the temp file and frees; accepts NULL. */
void output__abort(struct output *o);

#endif
