/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Function symbols of one ELF file (.symtab and .dynsym), its loadable segments (to turn a file
 * offset into a virtual address) and its build id. Read with libelf from an fd or from memory
 * (the vDSO), then independent of the file.
 */
#ifndef FLAMED_ELFSYMS_H
#define FLAMED_ELFSYMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct Elf Elf;
struct elfsyms;

/* NULL with *err = -errno / -EINVAL (not ELF, malformed) / -ENOMEM. */
struct elfsyms *elfsyms__from_fd(int fd, int *err);
struct elfsyms *elfsyms__from_mem(const void *buf, size_t len, int *err);
/* From an open libelf handle the caller keeps; the result does not refer to it afterwards. */
struct elfsyms *elfsyms__from_elf(Elf *elf, int *err);
/*
 * Adds the function symbols of another ELF image of the same file (a separate debug file, the
 * MiniDebugInfo image) to e; its segments and build id are not used. 0 or -ENOMEM.
 */
int elfsyms__merge(struct elfsyms *e, Elf *elf);
void elfsyms__free(struct elfsyms *e);

/* Virtual address of a file offset inside a PT_LOAD segment; -ENOENT if outside them all. */
int elfsyms__off_to_vaddr(const struct elfsyms *e, uint64_t off, uint64_t *vaddr);
/* Name of the function at vaddr (raw, not demangled) or NULL; *offset from its start. */
const char *elfsyms__find(const struct elfsyms *e, uint64_t vaddr, uint64_t *offset);
/* Hex build id, "" when the file has none. */
const char *elfsyms__build_id(const struct elfsyms *e);
/* The Go toolchain's build id (.note.go.buildid) as its text, "" when none. */
#define ELFSYMS_GO_BUILD_ID_MAX 127
const char *elfsyms__go_build_id(const struct elfsyms *e);
size_t elfsyms__count(const struct elfsyms *e);
/* Hex build id (GNU note) of any ELF image into hex[41]; "" when it has none. */
void elfsyms__read_build_id(Elf *elf, char hex[41]);
/* Bytes of memory held (for cache accounting). */
size_t elfsyms__mem(const struct elfsyms *e);

#endif
