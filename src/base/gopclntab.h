/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names, and stack-pointer deltas for unwinding, from a Go binary's own function table,
 * .gopclntab, for Go programs built without symbols (-ldflags='-s -w' leaves no .symtab and no DWARF, but the Go runtime needs this table
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

typedef struct Elf Elf;

/* One frame at a pc. Strings live as long as the table. */
struct gopclntab_frame {
	const char *name;
	const char *file;	/* NULL if unknown */
	uint32_t line;		/* 0 if unknown */
	bool inlined;		/* an inlined call; the last frame is the real function */
	uint32_t start_line;	/* the function's first line (its func line), Go 1.20+; 0 if unknown */
};

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
		      struct gopclntab_frame *out, int max);
/*
 * Each function's stack-pointer delta from its entry (the pcsp table the runtime's own unwinder
 * reads), as ranges [start, end) in address order: fn(ctx, start, end, delta) for each; a
 * function whose table cannot be read is one range of delta -1. Stops at fn's first non-zero
 * return, which it returns; 0 otherwise.
 */
int gopclntab__sp_deltas(const struct gopclntab *g,
			 int (*fn)(void *ctx, uint64_t start, uint64_t end, int32_t delta),
			 void *ctx);
/*
 * Whether elf looks like a Go binary whose table gopclntab__from_elf would look for: a Go build
 * id note or a table section, or no section headers at all.
 */
bool gopclntab__is_go(Elf *elf);
/* "1.2", "1.16", "1.18", "1.20". */
const char *gopclntab__version(const struct gopclntab *g);
size_t gopclntab__nr_funcs(const struct gopclntab *g);
bool gopclntab__has_inline(const struct gopclntab *g);
size_t gopclntab__mem(const struct gopclntab *g);

#endif
