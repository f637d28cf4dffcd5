// SPDX-License-Identifier: GPL-2.0-only
/*
 * Go's .gopclntab as a profiled program's owner may write it: a table alone (gopclntab__new,
 * with the input itself standing in for go:func.*, so the inline tree is walked too), or, for an
 * input that is an ELF file, the table found in it by section name, by its magic, and its
 * go:func.* through the module data (gopclntab__from_elf over a memfd). Then lookups across
 * the table's code with names, lines and inlined frames, and the stack-pointer deltas the
 * unwinder makes rows of.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "base/gopclntab.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	elf_version(EV_CURRENT);
	return 0;
}

static int count_range(void *ctx, uint64_t start, uint64_t end, int32_t delta)
{
	if (start >= end)
		abort();
	return ++*(unsigned int *)ctx > 100000;
}

static void lookups(const struct gopclntab *g, uint64_t h)
{
	unsigned int ranges = 0;

	struct gopclntab_frame f[8];
	uint64_t lo, hi, pc;
	int i, k, n;

	gopclntab__range(g, &lo, &hi);
	for (i = 0; i < 16; i++) {
		pc = i == 0 ? lo : i == 1 ? hi - 1 : i == 2 ? hi : lo + h % (hi - lo);
		n = gopclntab__lookup(g, pc, i & 1, i & 2, f, (i % 8) + 1);
		if (n < 0 || n > (i % 8) + 1)
			abort();
		for (k = 0; k < n; k++) {
			fuzz__touch(f[k].name);
			fuzz__touch(f[k].file);
		}
		h = (h >> 7) ^ (h << 9) ^ 0x9e3779b97f4a7c15ULL;
	}
	gopclntab__sp_deltas(g, count_range, &ranges);
	fuzz__touch(gopclntab__version(g));
	gopclntab__nr_funcs(g);
	gopclntab__has_inline(g);
	gopclntab__mem(g);
}

static void from_elf(const uint8_t *data, size_t size, uint64_t h)
{
	struct gopclntab *g;
	Elf *elf = NULL;
	int fd, err = 0;

	fd = memfd_create("fuzz_gopclntab", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size)
		goto cleanup;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		goto cleanup;
	g = gopclntab__from_elf(elf, fd, &err);
	if (g) {
		lookups(g, h);
		gopclntab__free(g);
	}
cleanup:
	elf_end(elf);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fuzz__hash(data, size);
	struct gopclntab *g;
	int err = 0;

	fuzz__quiet();
	if (size >= 4 && !memcmp(data, "\177ELF", 4)) {
		from_elf(data, size, h);
		return 0;
	}
	g = gopclntab__new(data, size, 0, &err);
	if (!g)
		return 0;
	lookups(g, h);
	if (!gopclntab__set_gofunc(g, data, size, 0))
		lookups(g, h ^ 1);
	gopclntab__free(g);
	return 0;
}
