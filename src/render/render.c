// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>

#include "render/folded.h"
#include "render/pprof.h"
#include "render/render.h"
#include "render/svg.h"

int render__write(const struct profile *p, enum output_format fmt, const struct svg_opts *svg,
		  FILE *f)
{
	struct svg_opts so;

	switch (fmt) {
	case FMT_FOLDED:
		return folded__write(p, f);
	case FMT_SVG:
		if (!svg)
			svg_opts__init(&so);
		return svg__write(p, svg ? svg : &so, f);
	case FMT_PPROF:
		return pprof__write(p, f);
	default:
		return -EINVAL;
	}
}
