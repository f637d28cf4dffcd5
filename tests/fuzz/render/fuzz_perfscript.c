// SPDX-License-Identifier: GPL-2.0-only
/*
 * perf script text given to `flamed render`: the sniffer, the streaming parser fed in two
 * chunks split at a point the input chooses, and every renderer over the result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "render/perfscript.h"
#include "fuzz.h"
#include "render/folded.h"
#include "render/pprof.h"
#include "aggregate/profile.h"
#include "render/svg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfscript_parser *ps = NULL;
	struct perfscript_stats st;
	struct profile *p = NULL;
	struct svg_opts o;
	char *buf, *out = NULL;
	size_t split, len = 0;
	FILE *f;
	int err;

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
	perfscript__sniff(buf, size);
	p = profile__new();
	ps = p ? perfscript_parser__new(p) : NULL;
	if (!ps)
		goto cleanup;
	perfscript_parser__feed(ps, buf, split);
	perfscript_parser__feed(ps, buf + split, size - split);
	err = perfscript_parser__finish(ps, &st);
	/* An error names a line that was read, with a reason; success has neither. */
	if (err == -EINVAL && (!st.error || !st.error_line || st.error_line > st.lines))
		abort();
	if (!err && (st.error || st.error_line || profile__total(p) != st.samples ||
		     st.stacks > st.samples || st.junk > st.lines))
		abort();
	if (err)
		goto cleanup;
	f = open_memstream(&out, &len);
	if (!f)
		goto cleanup;
	svg_opts__init(&o);
	svg__write(p, &o, f);
	folded__write(p, f);
	pprof__write(p, f);
	fclose(f);
	free(out);
cleanup:
	perfscript_parser__free(ps);
	profile__free(p);
	free(buf);
	return 0;
}
