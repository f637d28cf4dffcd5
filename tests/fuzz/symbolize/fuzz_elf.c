// SPDX-License-Identifier: GPL-2.0-only
/*
 * ELF files as a profiled process may plant them: .symtab/.dynsym (elfsyms__from_mem),
 * PT_LOAD segments, the build-id note, .gnu_debuglink, and MiniDebugInfo (.gnu_debugdata:
 * xz-decompressed into a second ELF image whose symbols are merged).
 */
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>

#include "symbolize/debuginfo.h"
#include "symbolize/elfsyms.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	elf_version(EV_CURRENT);
	return 0;
}

static void lookups(const struct elfsyms *e, uint64_t addr, size_t size)
{
	uint64_t off, vaddr;

	for (int i = 0; i < 4; i++) {
		fuzz__touch(elfsyms__find(e, addr, &off));
		/* And at code the file maps: a file offset turned into an address. */
		if (!elfsyms__off_to_vaddr(e, size ? addr % size : 0, &vaddr))
			fuzz__touch(elfsyms__find(e, vaddr, &off));
		addr = (addr >> 3) ^ (addr << 5) ^ 0x1000;
	}
	fuzz__touch(elfsyms__build_id(e));
	fuzz__touch(elfsyms__go_build_id(e));
	elfsyms__count(e);
	elfsyms__mem(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t addr = fuzz__hash(data, size);
	struct elfsyms *e;
	const char *link;
	char hex[41];
	Elf *elf = NULL, *mini = NULL;
	void *img = NULL;
	uint32_t crc;
	size_t len;
	int err = 0;
	char *buf;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	e = elfsyms__from_mem(buf, size, &err);
	if (!e)
		goto cleanup;
	lookups(e, addr, size);
	elf = elf_memory(buf, size);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto cleanup;
	elfsyms__read_build_id(elf, hex);
	if (strnlen(hex, sizeof(hex)) == sizeof(hex))
		abort();
	if (!debuginfo__debuglink(elf, &link, &crc)) {
		/* The name must be a string inside the section. */
		fuzz__touch(link);
	}
	img = debuginfo__minidebug(NULL, elf, &len, &err);
	if (!img)
		goto cleanup;
	mini = elf_memory(img, len);
	if (mini && elf_kind(mini) == ELF_K_ELF && !elfsyms__merge(e, mini))
		lookups(e, addr, size);
cleanup:
	elf_end(mini);
	free(img);
	elf_end(elf);
	elfsyms__free(e);
	free(buf);
	return 0;
}
