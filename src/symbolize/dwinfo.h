/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DWARF for symbolization (libdw): the chain of functions inlined at an address, innermost
 * first, and optionally the source file:line of each. Each compilation unit is indexed on first
 * use into sorted address ranges of its functions and inlined calls, so a lookup is a binary
 * search plus a walk to the enclosing scopes; names are read only for the frames returned.
 */
#ifndef FLAMED_DWINFO_H
#define FLAMED_DWINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Elf Elf;

/* One frame at an address. Strings point into the debug data and live as long as the dwinfo. */
struct sym_frame {
	const char *name;	/* raw (maybe mangled) name; NULL when unknown */
	const char *file;	/* source file of the location in this frame, NULL if unknown */
	uint32_t line;		/* 0 if unknown */
	bool inlined;		/* an inlined call; the outermost frame is the real function */
	uint32_t start_line;	/* the function's declaration line (DW_AT_decl_line), 0 if unknown */
};

struct dwinfo;

/* The DWARF of elf (kept open by the caller while the dwinfo lives); NULL with *err = -ENODATA
 * when elf has no usable .debug_info, -ENOMEM. */
struct dwinfo *dwinfo__new(Elf *elf, int *err);
void dwinfo__free(struct dwinfo *d);

/*
 * Frames at vaddr, innermost first, at most max: inlined calls then their real function. With
 * lines, file:line too. Returns the count, 0 when no DWARF scope covers vaddr.
 */
int dwinfo__lookup(struct dwinfo *d, uint64_t vaddr, bool lines, struct sym_frame *out, int max);
/* Memory held by the index (not counting libdw's own). */
size_t dwinfo__mem(const struct dwinfo *d);
size_t dwinfo__nr_units(const struct dwinfo *d);

#endif
