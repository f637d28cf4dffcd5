// SPDX-License-Identifier: GPL-2.0-only
/* JIT perf maps (/tmp/perf-PID.map, written by the profiled process) through perfmap__parse. */
#include <stdlib.h>

#include "fuzz.h"
#include "perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t addr = fuzz__take_u64(data, &size);
	struct perfmap *m;
	char *buf;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	m = perfmap__parse(buf, size);
	free(buf);
	if (!m)
		return 0;
	for (int i = 0; i < 4; i++) {
		fuzz__touch(perfmap__find(m, addr));
		addr = (addr >> 1) ^ (addr << 9) ^ 0x40;
	}
	perfmap__find(m, 0);
	perfmap__find(m, UINT64_MAX);
	perfmap__count(m);
	perfmap__free(m);
	return 0;
}
