// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/debuginfo.h"
#include "symbolize/dwinfo.h"
#include "base/elfimage.h"
#include "symbolize/elfsyms.h"
#include "base/gopclntab.h"
#include "base/log.h"
#include "symbolize/symfile.h"

struct symfile {
	struct elfsyms *syms;
	struct dwinfo *dw;
	struct elfimage *dw_img; /* the image the DWARF is read from, kept while dw lives */
	struct gopclntab *go;	/* a Go binary's own table, when it lacks symbols or DWARF */
	enum debuginfo_source src;
	bool mini;
	unsigned int refused;	/* sections or images left out for their size */
	size_t mem;
};

/* What an image holds: a .symtab, DWARF, and how many bytes its compressed sections inflate to
 * (libdw inflates them into memory); *go: a Go binary (its build id note, its pclntab, or no
 * section headers at all, where only a scan for the table's magic can tell). */
static void survey(Elf *elf, bool *symtab, bool *dwarf, size_t *inflated, bool *go)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx, shnum;

	*symtab = *dwarf = *go = false;
	*inflated = 0;
	if (!elf_getshdrnum(elf, &shnum) && shnum == 0)
		*go = true;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		GElf_Shdr sh;
		GElf_Chdr ch;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			*symtab = true;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info"))
			*dwarf = true;
		if (!strcmp(name, ".note.go.buildid") || !strcmp(name, ".gopclntab") ||
		    !strcmp(name, ".data.rel.ro.gopclntab"))
			*go = true;
		if ((sh.sh_flags & SHF_COMPRESSED) && gelf_getchdr(scn, &ch))
			*inflated += ch.ch_size;
		else if (!strncmp(name, ".zdebug", 7))
			*inflated += sh.sh_size * 4;
	}
}

/*
 * Opens an ELF file with the sections symbols (and DWARF) need; fd can be closed afterwards.
 * What it read into memory is accounted; what it left out for its size is counted and logged.
 */
static struct elfimage *open_image(struct symfile *f, int fd, bool dwarf, const char *path)
{
	struct elfimage *im;
	const char *why;
	int err = 0;

	im = elfimage__open(fd, ELFIMAGE_SYMS | (dwarf ? ELFIMAGE_DWARF : 0), &err);
	if (!im) {
		if (err == -EFBIG) {
			f->refused++;
			pr_info("%s: ELF headers over the caps, ignored", path ? path : "?");
		}
		return NULL;
	}
	f->mem += elfimage__mem(im);
	if (elfimage__refused(im, &why)) {
		f->refused += elfimage__refused(im, NULL);
		pr_info("%s: %s: left out", path ? path : "?", why);
	}
	return im;
}

/*
 * DWARF sections are inflated here, one by one, and each one's compressed bytes in the file's
 * image given back at once: libdw would inflate them all at dwarf_begin_elf and leave the
 * compressed pages resident (libc6-dbg's debug file: 3.7 MiB of a one-shot run's 30 MiB peak).
 * One that does not inflate is left to libdw, which ignores it as it would have. Sections
 * naming never reads (elfimage__dwarf_unused) become SHT_NOBITS, which libdw skips.
 */
#define EVICT_MAX 32
struct evict {
	uint64_t off[EVICT_MAX], len[EVICT_MAX];
	int n;
};

static void inflate_dwarf(struct elfimage *im, struct evict *ev)
{
	Elf *elf = elfimage__elf(im);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	ev->n = 0;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strncmp(name, ".debug_", 7))
			continue;
		if (!(sh.sh_flags & SHF_COMPRESSED)) {
			/* Stored as is: evicted once the index is built (use_dwarf). */
			if (ev->n < EVICT_MAX && !elfimage__dwarf_unused(name)) {
				ev->off[ev->n] = sh.sh_offset;
				ev->len[ev->n++] = sh.sh_size;
			}
			continue;
		}
		if (elfimage__dwarf_unused(name)) {
			sh.sh_type = SHT_NOBITS;
			gelf_update_shdr(scn, &sh);
			continue;
		}
		if (elf_compress(scn, 0, 0) < 0)
			continue;
		elfimage__drop(im, sh.sh_offset, sh.sh_size);
	}
}

static void use_dwarf(struct symfile *f, struct elfimage *im, size_t inflated)
{
	struct evict ev;
	int err = 0, i;

	inflate_dwarf(im, &ev);
	f->dw = dwinfo__new(elfimage__elf(im), &err);
	if (!f->dw) {
		if (err != -ENODATA)
			pr_debug("cannot index DWARF: %s", strerror(-err));
		return;
	}
	/*
	 * Building the index read every unit's header across a mapped file's DWARF (pyenv's
	 * libpython3.11, built with -g: 13 MiB of resident file pages in a daemon). Lookups touch
	 * a few units afterwards: the pages go back, and come back from the page cache as used.
	 */
	for (i = 0; i < ev.n; i++)
		elfimage__evict(im, ev.off[i], ev.len[i]);
	f->dw_img = im;
	f->mem += inflated;
}

struct symfile *symfile__open(int fd, const struct symfile_ctx *ctx, int *ret_err)
{
	struct symfile *f = calloc(1, sizeof(*f));
	bool symtab, dwarf, dsymtab = false, ddwarf = false, go, dgo;
	size_t inflated, dinflated;
	struct elfimage *im = NULL, *dim = NULL;
	Elf *elf, *delf;
	int err = 0, dfd;

	elf_version(EV_CURRENT);
	if (!f) {
		err = -ENOMEM;
		goto cleanup;
	}
	f->mem = sizeof(*f) + 16384;
	im = open_image(f, fd, ctx->dwarf, ctx->path);
	if (!im) {
		err = -EINVAL;
		goto cleanup;
	}
	elf = elfimage__elf(im);
	f->syms = elfsyms__from_elf(elf, &err);
	if (!f->syms)
		goto cleanup;
	survey(elf, &symtab, &dwarf, &inflated, &go);
	if (dwarf && ctx->dwarf)
		use_dwarf(f, im, inflated);
	/* Stripped of its symbols, or of the DWARF we want: look for its debug file. */
	if (ctx->di && (!symtab || (ctx->dwarf && !f->dw))) {
		dfd = debuginfo__find(ctx->di, elf, elfsyms__build_id(f->syms), ctx->path,
				      ctx->pid, &f->src);
		if (dfd >= 0) {
			dim = open_image(f, dfd, ctx->dwarf, ctx->path);
			close(dfd);
		}
		if (dim) {
			delf = elfimage__elf(dim);
			survey(delf, &dsymtab, &ddwarf, &dinflated, &dgo);
			if (elfsyms__merge(f->syms, delf)) {
				err = -ENOMEM;
				goto cleanup;
			}
			if (ddwarf && ctx->dwarf && !f->dw)
				use_dwarf(f, dim, dinflated);
		} else {
			f->src = DEBUGINFO_NONE;
		}
	}
	/* MiniDebugInfo: the symbols .dynsym lacks, when no full debug file was found. */
	if (!symtab && !dsymtab) {
		size_t len;
		void *img = debuginfo__minidebug(ctx->di, elf, &len, &err);

		if (img) {
			Elf *melf = elf_memory(img, len);

			if (melf && elf_kind(melf) == ELF_K_ELF) {
				err = elfsyms__merge(f->syms, melf);
				f->mini = !err;
			}
			elf_end(melf);
			free(img);
			if (err == -ENOMEM)
				goto cleanup;
		} else if (err == -EFBIG) {
			f->refused++;
			pr_info("%s: MiniDebugInfo inflates past %u MiB: left out",
				ctx->path ? ctx->path : "?", DEBUGINFO_MINIDEBUG_MAX >> 20);
		}
		err = 0;
	}
	/*
	 * A Go binary without symbols (-ldflags=-s) or DWARF (-w): its pclntab names its functions,
	 * inlined calls and lines, as the Go runtime's own tracebacks do.
	 */
	if (go && ((!symtab && !dsymtab) || (ctx->dwarf && !f->dw))) {
		f->go = gopclntab__from_elf(elf, fd, &err);
		if (f->go) {
			f->mem += gopclntab__mem(f->go);
		} else if (err == -ENOMEM) {
			goto cleanup;
		} else if (err != -ENOENT) {
			pr_info("%s: Go function table unreadable (%s), ignored",
				ctx->path ? ctx->path : "?", strerror(-err));
		}
		err = 0;
	}
	if (f->dw_img != im)
		elfimage__free(im);
	if (f->dw_img != dim)
		elfimage__free(dim);
	return f;
cleanup:
	if (f && f->dw_img != im)
		elfimage__free(im);
	if (f && f->dw_img != dim)
		elfimage__free(dim);
	symfile__free(f);
	*ret_err = err ? err : -EINVAL;
	return NULL;
}

struct symfile *symfile__from_mem(const void *buf, size_t len, int *err)
{
	struct symfile *f = calloc(1, sizeof(*f));

	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->syms = elfsyms__from_mem(buf, len, err);
	if (!f->syms) {
		free(f);
		return NULL;
	}
	f->mem = sizeof(*f);
	return f;
}

void symfile__free(struct symfile *f)
{
	if (!f)
		return;
	dwinfo__free(f->dw);
	gopclntab__free(f->go);
	elfimage__free(f->dw_img);
	elfsyms__free(f->syms);
	free(f);
}

int symfile__lookup(struct symfile *f, uint64_t vaddr, unsigned int flags, struct sym_frame *out,
		    int max)
{
	const char *name;
	uint64_t off;
	int n = 0;

	if (max <= 0)
		return 0;
	/* Go code of a binary whose table was read: the table knows it better than .dynsym. */
	if (f->go && gopclntab__covers(f->go, vaddr)) {
		struct gopclntab_frame gf[16];
		int i;

		n = gopclntab__lookup(f->go, vaddr, flags & SYMFILE_INLINE, flags & SYMFILE_LINES,
				      gf, max < 16 ? max : 16);
		for (i = 0; i < n; i++)
			out[i] = (struct sym_frame){ .name = gf[i].name, .file = gf[i].file,
						     .line = gf[i].line, .inlined = gf[i].inlined,
						     .start_line = gf[i].start_line };
		return n;
	}
	name = elfsyms__find(f->syms, vaddr, &off);
	if (f->dw && (flags & (SYMFILE_INLINE | SYMFILE_LINES)))
		n = dwinfo__lookup(f->dw, vaddr, flags & SYMFILE_LINES, out, max);
	if (n > 0) {
		/* The symbol table names the function as linked: "f.cold", "f.constprop.0". */
		if (!out[n - 1].inlined) {
			if (name)
				out[n - 1].name = name;
		} else if (name && n < max) {
			out[n++] = (struct sym_frame){ .name = name };
		}
		if (!(flags & SYMFILE_INLINE)) {
			out[0] = out[n - 1];
			out[0].inlined = false;
			n = 1;
		}
		return out[n - 1].name ? n : 0;
	}
	if (!name)
		return 0;
	out[0] = (struct sym_frame){ .name = name };
	return 1;
}

int symfile__off_to_vaddr(const struct symfile *f, uint64_t off, uint64_t *vaddr)
{
	return elfsyms__off_to_vaddr(f->syms, off, vaddr);
}

const char *symfile__build_id(const struct symfile *f)
{
	return elfsyms__build_id(f->syms);
}

const char *symfile__mapping_build_id(const struct symfile *f)
{
	const char *id = elfsyms__build_id(f->syms);

	return *id ? id : elfsyms__go_build_id(f->syms);
}

enum debuginfo_source symfile__debug_source(const struct symfile *f)
{
	return f->src;
}

bool symfile__has_minidebuginfo(const struct symfile *f)
{
	return f->mini;
}

unsigned int symfile__refused(const struct symfile *f)
{
	return f->refused;
}

bool symfile__has_dwarf(const struct symfile *f)
{
	return f->dw != NULL;
}

bool symfile__has_gopclntab(const struct symfile *f)
{
	return f->go != NULL;
}

size_t symfile__nr_symbols(const struct symfile *f)
{
	return elfsyms__count(f->syms);
}

size_t symfile__mem(const struct symfile *f)
{
	return f->mem + elfsyms__mem(f->syms) + (f->dw ? dwinfo__mem(f->dw) : 0);
}
