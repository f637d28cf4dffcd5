// SPDX-License-Identifier: GPL-2.0-only
/*
 * Folded stacks given to `flamed render` / `flamed diff`: the streaming parser fed in two
 * chunks split at a point the input chooses, the differential parser, and every renderer
 * over the result (folded, SVG, pprof) into memory.
 */
#include <stdio.h>
#include <stdlib.h>

#include "render/folded.h"
#include "fuzz.h"
#include "render/pprof.h"
#include "aggregate/profile.h"
#include "render/svg.h"

static void render(const struct profile *p, const struct profile *before)
{
	struct svg_opts o;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return;
	svg_opts__init(&o);
	if (before) {
		svg__write_diff(before, p, &o, f);
		folded__write_diff(before, p, f);
	} else {
		svg__write(p, &o, f);
		o.inverted = o.reverse = o.flamechart = true;
		svg__write(p, &o, f);
		folded__write(p, f);
		pprof__write(p, f);
	}
	fclose(f);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct folded_parse_stats st;
	struct profile *p = NULL, *before = NULL;
	struct folded_parser *fp = NULL;
	size_t split;
	char *buf;

	fuzz__quiet();
	if (!size)
		return 0;
	/* The first byte chooses where the stream is cut, so lines straddle chunks. */
	split = data[0] * (size - 1) / 255;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	p = profile__new();
	if (!p)
		goto cleanup;
	fp = folded_parser__new(p, NULL);
	if (!fp || folded_parser__feed(fp, buf, split) ||
	    folded_parser__feed(fp, buf + split, size - split) || folded_parser__finish(fp, &st))
		goto cleanup;
	if (st.stacks + st.junk > st.lines + 1)
		abort();
	/* Counts past the limit are refused, so the total never wraps around. */
	if (profile__total(p) != st.samples || st.samples > PROFILE_MAX_TOTAL)
		abort();
	render(p, NULL);
	profile__free(p);
	p = profile__new();
	before = profile__new();
	if (!p || !before || folded__parse_diff(before, p, buf, size, &st))
		goto cleanup;
	render(p, before);
cleanup:
	folded_parser__free(fp);
	profile__free(before);
	profile__free(p);
	free(buf);
	return 0;
}
