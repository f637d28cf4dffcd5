// SPDX-License-Identifier: GPL-2.0-only
/*
 * JIT perf maps (/tmp/perf-PID.map, written by the profiled process): perfmap__parse on the
 * whole text, then the incremental path a daemon takes (perfmap__feed in pieces cut where the
 * input says, under small bounds, committed between reads), which must agree on every lookup
 * when no bound was hit.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "symbolize/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t addr = fuzz__take_u64(data, &size);
	struct perfmap_limits lim = { .max_entries = 1000 + (addr & 0xff),
				      .max_bytes = 4096 + (addr >> 8 & 0xffff) };
	struct perfmap *m, *inc;
	struct perfmap_stats st;
	size_t off = 0, cut = (addr >> 24 & 0x3f) + 1;
	char *buf;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	m = perfmap__parse(buf, size);
	inc = perfmap__new(&lim);
	/* Pieces of cut bytes, as reads of a file being written would see them. */
	while (inc && off < size) {
		size_t n = size - off < cut ? size - off : cut;
		size_t used = perfmap__feed(inc, buf + off, n);

		if (!used) {
			/* A line longer than the piece: a longer read next time. */
			if (off + n == size)
				break;
			cut *= 2;
			continue;
		}
		off += used;
		perfmap__commit(inc);
	}
	if (inc)
		perfmap__commit(inc);
	free(buf);
	if (!m) {
		perfmap__free(inc);
		return 0;
	}
	if (inc) {
		perfmap__stats(inc, &st);
		if (perfmap__mem(inc) > lim.max_bytes + 4096 || perfmap__count(inc) > lim.max_entries)
			abort();
	}
	for (int i = 0; i < 4; i++) {
		const char *a = perfmap__find(m, addr), *b = inc ? perfmap__find(inc, addr) : NULL;

		fuzz__touch(a);
		fuzz__touch(b);
		/* Same lines in (the unterminated last one aside), same names, unless bounded. */
		if (inc && !st.dropped && off == size && ((!a) != (!b) || (a && strcmp(a, b))))
			abort();
		addr = (addr >> 1) ^ (addr << 9) ^ 0x40;
	}
	perfmap__find(m, 0);
	perfmap__find(m, UINT64_MAX);
	perfmap__count(m);
	perfmap__free(m);
	perfmap__free(inc);
	return 0;
}
