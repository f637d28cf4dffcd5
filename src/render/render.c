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
		if (svg)
			so = *svg;
		else
			svg_opts__init(&so);
		/* Off-CPU and wall-clock counts are microseconds (flamegraph.pl --countname=us). */
		if (profile__meta_const(p)->profile_mode != PROFILE_CPU)
			so.count_name = "us";
		return svg__write(p, &so, f);
	case FMT_PPROF:
		return pprof__write(p, f);
	default:
		return -EINVAL;
	}
}
