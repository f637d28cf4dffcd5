// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ELF file a user owns, read the way flamed reads such files (src/base/elfimage.c): the headers
 * parsed by hand to choose and cap the sections, an image laid out at their offsets, then the
 * symbols, build id and unwind table read from it. The input is the file (a memfd).
 */
#include <libelf.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "base/elfimage.h"
#include "symbolize/elfsyms.h"
#include "fuzz.h"
#include "unwind/unwind_table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	elf_version(EV_CURRENT);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int wants[] = {
		ELFIMAGE_SYMS | ELFIMAGE_DWARF | ELFIMAGE_READ,
		ELFIMAGE_CFI | ELFIMAGE_READ,
		ELFIMAGE_NOTES | ELFIMAGE_READ,
	};
	uint64_t addr = fuzz__hash(data, size), off;
	size_t i;
	int fd;

	fuzz__quiet();
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		struct unwind_table *t = NULL;
		struct elfimage *im;
		struct elfsyms *e;
		const char *why;
		char hex[41];
		int err = 0;

		im = elfimage__open(fd, wants[i], &err);
		if (!im) {
			if (err >= 0)
				abort();
			continue;
		}
		if (elfimage__refused(im, &why) && !why)
			abort();
		e = elfsyms__from_elf(elfimage__elf(im), &err);
		if (e)
			fuzz__touch(elfsyms__find(e, addr, &off));
		elfsyms__free(e);
		elfsyms__read_build_id(elfimage__elf(im), hex);
		if (wants[i] & ELFIMAGE_CFI)
			t = unwind_table__from_elf(elfimage__elf(im), &err);
		if (t && unwind_table__find(t, addr) && !unwind_table__nr_rows(t))
			abort();
		unwind_table__free(t);
		elfimage__free(im);
	}
	close(fd);
	return 0;
}
