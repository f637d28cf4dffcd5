// SPDX-License-Identifier: GPL-2.0-only
/*
 * A whole object file as the symbolizer reads it (symfile__open: symbols, MiniDebugInfo, and
 * DWARF for inlined calls and source lines through dwinfo), then lookups with both.
 * No debug-file search: that touches the file system (tests/unit/base/test_rootfs.c covers it).
 */
#include <libelf.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "symbolize/symfile.h"

static int memfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	elf_version(EV_CURRENT);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t addr = fuzz__hash(data, size), vaddr;
	struct symfile_ctx ctx = { .path = "/fuzz/a.out", .dwarf = true };
	struct sym_frame fr[16];
	struct symfile *f;
	int err = 0, n;

	fuzz__quiet();
	if (memfd < 0)
		memfd = memfd_create("fuzz_dwarf", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, 0) || pwrite(memfd, data, size, 0) != (ssize_t)size)
		return 0;
	f = symfile__open(memfd, &ctx, &err);
	if (!f)
		return 0;
	for (int i = 0; i < 8; i++) {
		/* Half the lookups at code the file maps (a file offset turned into an address). */
		if (i & 1 && !symfile__off_to_vaddr(f, size ? addr % size : 0, &vaddr))
			addr = vaddr;
		n = symfile__lookup(f, addr, SYMFILE_INLINE | SYMFILE_LINES, fr, 16);
		if (n < 0 || n > 16)
			abort();
		for (int j = 0; j < n; j++) {
			fuzz__touch(fr[j].name);
			fuzz__touch(fr[j].file);
		}
		addr = (addr >> 3) ^ (addr << 5) ^ 0x1130;
	}
	fuzz__touch(symfile__build_id(f));
	symfile__free(f);
	return 0;
}
