// SPDX-License-Identifier: GPL-2.0-only
/* /proc/kallsyms text through ksyms__parse, then lookups. */
#include <stdlib.h>

#include "fuzz.h"
#include "symbolize/ksyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t addr = fuzz__take_u64(data, &size), off;
	struct ksyms *k;
	char *buf;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	k = ksyms__parse(buf, size);
	free(buf);
	if (!k)
		return 0;
	/* Names live in the pool, not in the input buffer freed above. */
	for (int i = 0; i < 4; i++) {
		fuzz__touch(ksyms__find(k, addr, &off));
		addr = (addr >> 1) ^ (addr << 7) ^ 0x1000;
	}
	ksyms__find(k, 0, &off);
	ksyms__find(k, UINT64_MAX, &off);
	ksyms__free(k);
	return 0;
}
