// SPDX-License-Identifier: GPL-2.0-only
/*
 * pprof input (gzipped or raw profile.proto) as `flamed render` reads it, with a lower size cap
 * so the fuzzer is not stopped by the memory the real cap allows; then rendered back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "render/folded.h"
#include "fuzz.h"
#include "render/pprof.h"
#include "aggregate/profile.h"
#include "render/svg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p;
	struct svg_opts o;
	char *out = NULL;
	size_t len = 0;
	int err = 0;
	char *buf;
	FILE *f;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	p = pprof__read_max(buf, size, 16 << 20, &err);
	free(buf);
	if (!p) {
		if (err != -EINVAL && err != -EFBIG && err != -ENOMEM)
			abort();
		return 0;
	}
	f = open_memstream(&out, &len);
	if (f) {
		svg_opts__init(&o);
		svg__write(p, &o, f);
		folded__write(p, f);
		pprof__write(p, f);
		fclose(f);
	}
	free(out);
	profile__free(p);
	return 0;
}
