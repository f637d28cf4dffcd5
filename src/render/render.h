/* SPDX-License-Identifier: GPL-2.0-only */
/* Stage 4, render: a profile to one output format (folded, SVG or pprof) on a FILE. */
#ifndef FLAMED_RENDER_H
#define FLAMED_RENDER_H

#include <stdio.h>

#include "base/output.h"
#include "aggregate/profile.h"
#include "render/svg.h"

/* svg: the SVG's options (title, width, palette...), NULL for the defaults. 0 or -errno. */
int render__write(const struct profile *p, enum output_format fmt, const struct svg_opts *svg,
		  FILE *f);

#endif
