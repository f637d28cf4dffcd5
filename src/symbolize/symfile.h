/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Everything flamed knows about one object file's names: its .symtab/.dynsym, those of its
 * separate debug file or MiniDebugInfo, DWARF (from the file or its debug file) for inlined
 * calls and source lines, and a Go binary's .gopclntab when it has no symbols or no DWARF. Opened once per file identity and shared by every process mapping it.
 */
#ifndef FLAMED_SYMFILE_H
#define FLAMED_SYMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/debuginfo.h"
#include "symbolize/dwinfo.h"

struct symfile_ctx {
	struct debuginfo *di;	/* where to look for debug files; NULL: the file alone */
	const char *path;	/* the file's path in its process (debuglink directories) */
	uint32_t pid;		/* a live process mapping it (its root is searched), or 0 */
	bool dwarf;		/* load DWARF for inline frames and lines */
};

struct symfile;

/* Reads the ELF file open as fd (the caller still closes fd). NULL with *err. */
struct symfile *symfile__open(int fd, const struct symfile_ctx *ctx, int *err);
/* From an in-memory image (the vDSO); symbols only. */
struct symfile *symfile__from_mem(const void *buf, size_t len, int *err);
void symfile__free(struct symfile *f);

enum {
	SYMFILE_INLINE = 1 << 0,	/* inlined calls as their own frames */
	SYMFILE_LINES = 1 << 1,		/* file:line on frames */
};

/*
 * Frames at vaddr, innermost first (inlined calls, then the function), at most max; names are
 * raw (mangled). 0 when nothing names vaddr.
 */
int symfile__lookup(struct symfile *f, uint64_t vaddr, unsigned int flags, struct sym_frame *out,
		    int max);
/* Virtual address of a file offset (through PT_LOAD); -ENOENT outside every segment. */
int symfile__off_to_vaddr(const struct symfile *f, uint64_t off, uint64_t *vaddr);
const char *symfile__build_id(const struct symfile *f);
/*
 * The id a profile's mapping carries (pprof Mapping.build_id): the GNU build id in hex, else a
 * Go binary's Go build id (what `go tool buildid` prints), else "".
 */
const char *symfile__mapping_build_id(const struct symfile *f);
/* Which debug file fed it (DEBUGINFO_NONE: the file's own tables). */
enum debuginfo_source symfile__debug_source(const struct symfile *f);
bool symfile__has_minidebuginfo(const struct symfile *f);
bool symfile__has_dwarf(const struct symfile *f);
/* Names come from a Go binary's .gopclntab (built without symbols or DWARF). */
bool symfile__has_gopclntab(const struct symfile *f);
/*
 * Parts of the file or its debug files left out for their size (a section over its cap, a
 * MiniDebugInfo image that inflates too far): the symbolizer counts them.
 */
unsigned int symfile__refused(const struct symfile *f);
size_t symfile__nr_symbols(const struct symfile *f);
/* Approximate memory held, for the cache's cap. */
size_t symfile__mem(const struct symfile *f);

#endif
