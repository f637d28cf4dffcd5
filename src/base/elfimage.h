/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An ELF file opened for libelf without trusting the file. A file only root can change is
 * mapped (ELF_C_READ_MMAP), as the rest of the system is trusted. Any other file's owner can
 * truncate it (a mapping would SIGBUS us) or make it huge (a sparse 6 GiB file around a small
 * program): it is read, and only in part. The ELF, program and section headers and the
 * sections asked for, each under a size cap, are pread into an anonymous image at their own
 * file offsets and handed to libelf with elf_memory(). Pages never written cost no memory,
 * holes of a sparse file are skipped (SEEK_DATA), and every section not read is SHT_NOBITS in
 * the image, so nothing reads it. A section over its cap (or whose compressed contents would
 * inflate past it) is left out and counted: the caller logs and counts the refusal.
 */
#ifndef FLAMED_ELFIMAGE_H
#define FLAMED_ELFIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Elf Elf;

enum {
	ELFIMAGE_SYMS = 1 << 0,	 /* .symtab/.dynsym and their strings, notes, .gnu_debuglink,
				    .gnu_debugdata */
	ELFIMAGE_DWARF = 1 << 1, /* .debug_* and .zdebug_* (libdw) */
	ELFIMAGE_CFI = 1 << 2,	 /* .eh_frame, .eh_frame_hdr, .debug_frame */
	ELFIMAGE_NOTES = 1 << 3, /* SHT_NOTE (the build id) */
	ELFIMAGE_READ = 1 << 8,	 /* read even a file that could be mapped (tests) */
};

/*
 * A DWARF section that naming never reads (variable locations, macros, name indexes): not
 * read into an image, and hidden from libdw (which would inflate it). The .debug_loclists of
 * libc6-dbg alone inflates to 1.4 MiB.
 */
bool elfimage__dwarf_unused(const char *name);

/* Caps for files that are read: one section (as stored, and inflated), and a whole file. */
#define ELFIMAGE_SECTION_MAX (256ULL << 20)
#define ELFIMAGE_FILE_MAX (512ULL << 20)
/* Header tables: 65536 sections or segments at most. */
#define ELFIMAGE_MAX_HEADERS 65536u
/* Offsets past this are not laid out (address space, not memory: pages are never touched). */
#define ELFIMAGE_SPAN_MAX (1ULL << 40)

struct elfimage;

/*
 * Opens the ELF file fd with the sections of want; fd may be closed afterwards. NULL with
 * *err: -EINVAL (not a native-endian ELF file, or malformed headers), -EFBIG (its headers lie
 * beyond ELFIMAGE_SPAN_MAX or over the caps), -ENOMEM, -errno.
 */
struct elfimage *elfimage__open(int fd, unsigned int want, int *err);
Elf *elfimage__elf(const struct elfimage *im);
/* Bytes read into memory (0 for a mapped file). */
size_t elfimage__mem(const struct elfimage *im);
/* Sections left out for their size; the first one's reason for the log in *why (or NULL). */
unsigned int elfimage__refused(const struct elfimage *im, const char **why);
/*
 * Gives back the memory of bytes [off, off + len) of the file in the image, whole pages only: a
 * mapped file's pages are dropped (read again if touched), a read image's come back as zeros.
 * For a section libelf now holds elsewhere (inflated), whose bytes nothing reads again.
 */
void elfimage__drop(struct elfimage *im, uint64_t off, uint64_t len);
/*
 * The same for a mapped file only, whose pages come back from the file when touched again:
 * for bytes still in use but seldom (DWARF after its index is built). Nothing for a read
 * image, whose pages hold the only copy.
 */
void elfimage__evict(struct elfimage *im, uint64_t off, uint64_t len);
void elfimage__free(struct elfimage *im);

#endif
