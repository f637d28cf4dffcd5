/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Atomic output files: opened (and so checked for writability) before profiling starts, written
 * to an unnamed file (O_TMPFILE) in the target's directory, fsync'd, linked under a hidden temp
 * name (".NAME.XXXXXX") and renamed over the target on commit. An aborted or killed run leaves
 * the target untouched and, killed at any moment before the commit, nothing else either; only
 * between the link and the rename (microseconds) would a kill leave the complete file under
 * its temp name. Filesystems without O_TMPFILE get that temp file from the start instead.
 * The directory is opened once and everything happens in it (no path is looked up again);
 * the temp name is created exclusively, and rename() replaces a symlink at the target rather
 * than following it. Files get exactly the mode asked for, whatever the umask.
 */
#ifndef FLAMED_OUTPUT_H
#define FLAMED_OUTPUT_H

#include <stdbool.h>
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
/*
 * True when name (a directory entry) is the temp file of an output to TARGET: its target's
 * name, copied into target (size bytes), is then what to check before removing a leftover.
 */
bool output__temp_target(const char *name, char *target, size_t size);

#endif
