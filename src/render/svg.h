/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The interactive SVG flame graph: frames merged by name and kind into a tree, children sorted
 * by name, drawn root at the bottom (or top, inverted). The file is self-contained: click to
 * zoom, Reset Zoom, regular-expression search (Ctrl-F) with the matched share, an ignore-case
 * toggle, tooltips, a status line, and the zoom/search state in the URL.
 *
 * Output is deterministic (same profile, same bytes) and well-formed XML whatever the names:
 * markup is escaped, control characters and invalid UTF-8 are replaced, and data lives in the
 * DOM, never inside the script.
 */
#ifndef FLAMED_SVG_H
#define FLAMED_SVG_H

#include <stdbool.h>
#include <stdio.h>

struct profile;

#define SVG_PAD 10 /* pixels left and right of the frames */

enum svg_palette {
	SVG_PAL_HOT = 0,
	SVG_PAL_MEM,
	SVG_PAL_IO,
	SVG_PAL_RED,
	SVG_PAL_GREEN,
	SVG_PAL_BLUE,
	SVG_PAL_AQUA,
	SVG_PAL_YELLOW,
	SVG_PAL_PURPLE,
	SVG_PAL_ORANGE,
	SVG_PAL_LANG, /* by language guessed from each name */
	SVG_PAL_MAX,
};

struct svg_opts {
	const char *title;	   /* NULL: "Flame Graph" (or Icicle / Differential) */
	const char *subtitle;	   /* NULL: built from the profile's meta; "" for none */
	const char *count_name;	   /* "samples" */
	const char *notes;	   /* free text kept in the file's <desc>, NULL for none */
	unsigned int width;	   /* image width in pixels, 1200 */
	unsigned int frame_height; /* 16 */
	unsigned int font_size;	   /* 12 */
	double min_width;	   /* frames narrower than this many pixels are left out, 0.1 */
	enum svg_palette palette;
	bool inverted;	 /* icicle: root at the top */
	bool reverse;	 /* stacks reversed: merged from the leaves */
	bool hash;	 /* colours by name prefix, so related names look alike */
	bool flamechart; /* samples in their order, not merged by name (time order) */
	bool normalize;	 /* differential: scale BEFORE to AFTER's total, true */
	bool window;	 /* the default subtitle names the start and end (continuous mode) */
};

void svg_opts__init(struct svg_opts *o);

/* The palette named name ("hot", "mem", ... "lang"), or -EINVAL. */
int svg_palette__from_name(const char *name);
/* The name of palette p, "?" for none. */
const char *svg_palette__name(int p);

/* 0, -ENOMEM, -EINVAL (bad options) or the negative errno of a failed write. */
int svg__write(const struct profile *p, const struct svg_opts *o, FILE *f);

/*
 * Differential flame graph: the shape of after, red where a frame grew since before, blue
 * where it shrank, BEFORE scaled to AFTER's total unless o->normalize is false.
 */
int svg__write_diff(const struct profile *before, const struct profile *after,
		    const struct svg_opts *o, FILE *f);

#endif
