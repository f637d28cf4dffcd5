// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "base/elfimage.h"
#include "symbolize/elfsyms.h"

struct esym {
	uint64_t addr;
	uint64_t size;
	uint32_t name;	/* pool offset */
	uint32_t label;	/* an untyped code label (_start in assembly), not a function */
};

struct eseg {
	uint64_t off, filesz, vaddr;
};

struct elfsyms {
	struct esym *syms;
	size_t nr, cap;
	char *pool;
	size_t pool_len, pool_cap;
	struct eseg *segs;
	size_t nr_segs;
	char build_id[41];
	char go_build_id[ELFSYMS_GO_BUILD_ID_MAX + 1];
};

static int add_sym(struct elfsyms *e, uint64_t addr, uint64_t size, const char *name, bool label)
{
	size_t nlen = strlen(name) + 1;

	if (e->nr == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		struct esym *s = realloc(e->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		e->syms = s;
		e->cap = cap;
	}
	if (e->pool_len + nlen > e->pool_cap) {
		size_t cap = e->pool_cap ? e->pool_cap * 2 : 65536;
		char *p;

		while (cap < e->pool_len + nlen)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -E2BIG;
		p = realloc(e->pool, cap);
		if (!p)
			return -ENOMEM;
		e->pool = p;
		e->pool_cap = cap;
	}
	memcpy(e->pool + e->pool_len, name, nlen);
	e->syms[e->nr++] = (struct esym){ addr, size, e->pool_len, label };
	e->pool_len += nlen;
	return 0;
}

/* Section data, inflated first when the section is SHF_COMPRESSED (zlib, or zstd where libelf
 * supports it); NULL when it cannot be read. */
static Elf_Data *section_data(Elf_Scn *scn, const GElf_Shdr *sh)
{
	if ((sh->sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return NULL;
	return elf_getdata(scn, NULL);
}

static bool exec_section(Elf *elf, size_t ndx)
{
	Elf_Scn *scn = elf_getscn(elf, ndx);
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR);
}

static int read_symtab(struct elfsyms *e, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = section_data(scn, sh);
	size_t i, n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = data->d_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE) ||
		    sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE || !sym.st_value)
			continue;
		/* Assembly entry points (ld.so's _start) are untyped labels in code. */
		if (type == STT_NOTYPE && (sym.st_size || !exec_section(elf, sym.st_shndx)))
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name || (type == STT_NOTYPE && (name[0] == '.' || name[0] == '$')))
			continue;
		if (add_sym(e, sym.st_value, sym.st_size, name, type == STT_NOTYPE))
			return -ENOMEM;
	}
	return 0;
}

static bool read_build_id(char *hex, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = section_data(scn, sh);
	GElf_Nhdr nh;
	size_t off = 0, noff, doff, i;

	while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
		const unsigned char *d = (const unsigned char *)data->d_buf + doff;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((char *)data->d_buf + noff, "GNU", 4) || nh.n_descsz > 20)
			continue;
		for (i = 0; i < nh.n_descsz; i++) {
			static const char digits[] = "0123456789abcdef";

			hex[2 * i] = digits[d[i] >> 4];
			hex[2 * i + 1] = digits[d[i] & 15];
		}
		hex[2 * i] = '\0';
		return true;
	}
	return false;
}

/*
 * The Go toolchain's build id (.note.go.buildid: name "Go" padded to 4 bytes, type 4, the id
 * as text, such as "p1DgBy.../Hi2bLB.../nGGCEv.../nZ5yCN..."), when it is printable and fits.
 */
static bool read_go_build_id(char *out, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = section_data(scn, sh);
	GElf_Nhdr nh;
	size_t off = 0, noff, doff, i;

	while (data && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
		const unsigned char *d = (const unsigned char *)data->d_buf + doff;

		if (nh.n_type != 4 || nh.n_namesz != 4 || memcmp((char *)data->d_buf + noff, "Go\0\0", 4) ||
		    !nh.n_descsz || nh.n_descsz > ELFSYMS_GO_BUILD_ID_MAX)
			continue;
		for (i = 0; i < nh.n_descsz; i++)
			if (d[i] < 0x21 || d[i] > 0x7e)
				break;
		if (i < nh.n_descsz)
			continue;
		memcpy(out, d, nh.n_descsz);
		out[nh.n_descsz] = '\0';
		return true;
	}
	return false;
}

void elfsyms__read_build_id(Elf *elf, char hex[41])
{
	Elf_Scn *scn = NULL;

	hex[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE && read_build_id(hex, scn, &sh))
			return;
	}
}

static int sym_cmp(const void *a, const void *b)
{
	const struct esym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Prefer sized symbols, functions to labels, then the one read first among aliases. */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->label != y->label)
		return x->label ? 1 : -1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/* .symtab and .dynsym (and debug files) repeat each other: keep one symbol per address. */
static void sort_unique(struct elfsyms *e)
{
	uint64_t func_end = 0;
	size_t i, j;

	/* qsort's pointer must not be NULL, even for no elements. */
	if (e->nr)
		qsort(e->syms, e->nr, sizeof(*e->syms), sym_cmp);
	for (i = 0, j = 0; i < e->nr; i++) {
		const struct esym *s = &e->syms[i];

		if (j && e->syms[j - 1].addr == s->addr)
			continue;
		/* A label inside a function is a branch target, not a name for its code. */
		if (s->label && s->addr < func_end)
			continue;
		if (s->size && s->addr + s->size > func_end)
			func_end = s->addr + s->size;
		e->syms[j++] = *s;
	}
	e->nr = j;
}

int elfsyms__merge(struct elfsyms *e, Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t before = e->nr;
	int err = 0;

	if (elf_kind(elf) != ELF_K_ELF)
		return -EINVAL;
	while (!err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			err = read_symtab(e, elf, scn, &sh);
	}
	if (e->nr != before)
		sort_unique(e);
	return err;
}

struct elfsyms *elfsyms__from_elf(Elf *elf, int *ret_err)
{
	struct elfsyms *e = calloc(1, sizeof(*e));
	Elf_Scn *scn = NULL;
	size_t nph, i;
	int err = 0;

	if (!e) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		err = -EINVAL;
		goto cleanup;
	}
	e->segs = calloc(nph ? nph : 1, sizeof(*e->segs));
	if (!e->segs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		e->segs[e->nr_segs++] = (struct eseg){ ph.p_offset, ph.p_filesz, ph.p_vaddr };
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			err = read_symtab(e, elf, scn, &sh);
		else if (sh.sh_type == SHT_NOTE && !e->build_id[0] &&
			 !read_build_id(e->build_id, scn, &sh) && !e->go_build_id[0])
			read_go_build_id(e->go_build_id, scn, &sh);
		if (err)
			goto cleanup;
	}
	sort_unique(e);
	return e;
cleanup:
	elfsyms__free(e);
	*ret_err = err;
	return NULL;
}

struct elfsyms *elfsyms__from_fd(int fd, int *err)
{
	struct elfsyms *e;
	struct elfimage *im;

	im = elfimage__open(fd, ELFIMAGE_SYMS, err);
	if (!im)
		return NULL;
	e = elfsyms__from_elf(elfimage__elf(im), err);
	elfimage__free(im);
	return e;
}

struct elfsyms *elfsyms__from_mem(const void *buf, size_t len, int *err)
{
	struct elfsyms *e;
	Elf *elf;

	elf_version(EV_CURRENT);
	/* libelf does not write to the image with ELF_C_READ, the cast is only for its API. */
	elf = elf_memory((char *)buf, len);
	if (!elf) {
		*err = -EINVAL;
		return NULL;
	}
	e = elfsyms__from_elf(elf, err);
	elf_end(elf);
	return e;
}

void elfsyms__free(struct elfsyms *e)
{
	if (!e)
		return;
	free(e->syms);
	free(e->pool);
	free(e->segs);
	free(e);
}

int elfsyms__off_to_vaddr(const struct elfsyms *e, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < e->nr_segs; i++) {
		const struct eseg *s = &e->segs[i];

		if (off >= s->off && off < s->off + s->filesz) {
			*vaddr = off - s->off + s->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const char *elfsyms__find(const struct elfsyms *e, uint64_t vaddr, uint64_t *offset)
{
	size_t lo = 0, hi = e->nr;
	const struct esym *s;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &e->syms[lo - 1];
	/* A sized symbol that ends before vaddr does not hold it (gaps, padding, stripped code). */
	if (s->size && vaddr >= s->addr + s->size)
		return NULL;
	*offset = vaddr - s->addr;
	return e->pool + s->name;
}

const char *elfsyms__build_id(const struct elfsyms *e)
{
	return e->build_id;
}

const char *elfsyms__go_build_id(const struct elfsyms *e)
{
	return e->go_build_id;
}

size_t elfsyms__count(const struct elfsyms *e)
{
	return e->nr;
}

size_t elfsyms__mem(const struct elfsyms *e)
{
	return sizeof(*e) + e->cap * sizeof(*e->syms) + e->pool_cap + e->nr_segs * sizeof(*e->segs);
}
