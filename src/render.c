// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>

#include "folded.h"
#include "pprof.h"
#include "render.h"
#include "svg.h"

int render__write(const struct profile *p, enum output_format fmt, const char *title, FILE *f)
{
	struct svg_opts so;

	switch (fmt) {
	case FMT_FOLDED:
		return folded__write(p, f);
	case FMT_SVG:
		svg_opts__init(&so);
		if (title)
			so.title = title;
		return svg__write(p, &so, f);
	case FMT_PPROF:
		return pprof__write(p, f);
	default:
		return -EINVAL;
	}
}
