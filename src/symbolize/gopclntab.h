/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names from a Go binary's own function table, .gopclntab, for Go programs built without
 * symbols (-ldflags='-s -w' leaves no .symtab and no DWARF, but the Go runtime needs this table
 * for its tracebacks, so every Go binary keeps it). It maps a PC to the function, its source
 * file:line, and the chain of calls the compiler inlined there (Go's inline tree). The table is
 * untrusted bytes (whoever owns the binary wrote it): every offset is checked against the copy
 * flamed holds, sizes are capped, and a table that does not add up is refused whole.
 *
 * Formats (header magic, little- or big-endian): Go 1.2-1.15 0xfffffffb, 1.16-1.17 0xfffffffa,
 * 1.18-1.19 0xfffffff0, 1.20+ 0xfffffff1. The layouts follow Go's runtime/symtab.go and
 * debug/gosym (facts, not code).
 */
#ifndef FLAMED_GOPCLNTAB_H
#define FLAMED_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize/dwinfo.h"

typedef struct Elf Elf;

/* The largest table read (Go binaries of a few hundred MiB have tables of tens of MiB). */
#define GOPCLNTAB_MAX (128u << 20)
/* Functions in one table at most. */
#define GOPCLNTAB_MAX_FUNCS (16u << 20)

struct gopclntab;

/*
 * A table from len bytes at buf (copied; buf may go). text is the address of the binary's
 * runtime.text (the 1.18+ entry offsets are relative to it; 0: the header's own field, which
 * the linker fills even in a PIE). NULL with *err: -EINVAL (not a table, or one that does not
 * add up), -E2BIG (over the caps), -ENOMEM.
 */
struct gopclntab *gopclntab__new(const void *buf, size_t len, uint64_t text, int *err);
/*
 * The inline tree's home (Go 1.18+ keeps it in go:func.*, outside the table): len bytes of the
 * binary at link-time address vaddr, copied. 0, or -ENOMEM.
 */
int gopclntab__set_gofunc(struct gopclntab *g, const void *buf, size_t len, uint64_t vaddr);
/*
 * The table of the ELF file open as fd (elf: its headers, as the caller opened them): by
 * section name (.gopclntab, .data.rel.ro.gopclntab in a PIE), or by its magic in a loadable
 * data segment when the section headers are gone; with its inline tree where the module data
 * that locates it is found. NULL with *err = -ENOENT when the file has no table.
 */
struct gopclntab *gopclntab__from_elf(Elf *elf, int fd, int *err);
void gopclntab__free(struct gopclntab *g);

/* Whether pc lies in the table's code (from its first function to its last one's end). */
bool gopclntab__covers(const struct gopclntab *g, uint64_t pc);
/* That code: [*lo, *hi). */
void gopclntab__range(const struct gopclntab *g, uint64_t *lo, uint64_t *hi);
/*
 * Frames at pc, innermost first (inlined calls marked, then the function), at most max; with
 * lines, file:line of each. Strings live as long as g. 0 when no function holds pc.
 */
int gopclntab__lookup(const struct gopclntab *g, uint64_t pc, bool inl, bool lines,
		      struct sym_frame *out, int max);
/* "1.2", "1.16", "1.18", "1.20". */
const char *gopclntab__version(const struct gopclntab *g);
size_t gopclntab__nr_funcs(const struct gopclntab *g);
bool gopclntab__has_inline(const struct gopclntab *g);
size_t gopclntab__mem(const struct gopclntab *g);

#endif
