// SPDX-License-Identifier: GPL-2.0-only
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base/elfimage.h"
#include "base/rootfs.h"

/* Section names are short: a string table larger than this is not a real .shstrtab. */
#define SHSTRTAB_MAX (16u << 20)

struct elfimage {
	Elf *elf;
	void *map;		/* the anonymous image, or NULL for a mapped file */
	size_t map_len;
	size_t mem;		/* bytes read into it */
	unsigned int refused;
	char why[160];
};

/* The fields of either class's headers flamed needs to lay the image out. */
struct hdrs {
	bool is64;
	uint64_t phoff, shoff;
	uint32_t phnum, shnum, shstrndx;
	uint32_t phentsize, shentsize;
};

struct sec {
	uint32_t name, type, link;
	uint64_t flags, off, size;
};

static bool native_ehdr(const unsigned char *id)
{
	const uint16_t one = 1;
	int data = *(const uint8_t *)&one ? ELFDATA2LSB : ELFDATA2MSB;

	return !memcmp(id, ELFMAG, SELFMAG) && id[EI_DATA] == data &&
	       (id[EI_CLASS] == ELFCLASS32 || id[EI_CLASS] == ELFCLASS64);
}

static void get_sec(const struct hdrs *h, const void *raw, uint32_t i, struct sec *s)
{
	if (h->is64) {
		Elf64_Shdr sh;

		memcpy(&sh, (const char *)raw + (size_t)i * sizeof(sh), sizeof(sh));
		*s = (struct sec){ sh.sh_name, sh.sh_type, sh.sh_link, sh.sh_flags, sh.sh_offset,
				   sh.sh_size };
	} else {
		Elf32_Shdr sh;

		memcpy(&sh, (const char *)raw + (size_t)i * sizeof(sh), sizeof(sh));
		*s = (struct sec){ sh.sh_name, sh.sh_type, sh.sh_link, sh.sh_flags, sh.sh_offset,
				   sh.sh_size };
	}
}

/* Makes section i absent in the image's copy of the headers: nothing will read its bytes. */
static void drop_sec(const struct hdrs *h, void *raw, uint32_t i)
{
	uint32_t nobits = SHT_NOBITS;
	size_t off = h->is64 ? (size_t)i * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_type)
			     : (size_t)i * sizeof(Elf32_Shdr) + offsetof(Elf32_Shdr, sh_type);

	memcpy((char *)raw + off, &nobits, sizeof(nobits));
}

/* Reads the ELF header's layout fields; the counts that overflow into section 0 come later. */
static int parse_ehdr(const unsigned char *buf, struct hdrs *h)
{
	if (!native_ehdr(buf))
		return -EINVAL;
	h->is64 = buf[EI_CLASS] == ELFCLASS64;
	if (h->is64) {
		Elf64_Ehdr e;

		memcpy(&e, buf, sizeof(e));
		*h = (struct hdrs){ true, e.e_phoff, e.e_shoff, e.e_phnum, e.e_shnum, e.e_shstrndx,
				    e.e_phentsize, e.e_shentsize };
	} else {
		Elf32_Ehdr e;

		memcpy(&e, buf, sizeof(e));
		*h = (struct hdrs){ false, e.e_phoff, e.e_shoff, e.e_phnum, e.e_shnum, e.e_shstrndx,
				    e.e_phentsize, e.e_shentsize };
	}
	if (!h->shoff)
		h->shnum = 0;
	if (!h->phoff)
		h->phnum = 0;
	return 0;
}

/* pread of exactly len bytes, or fewer when the file ends first (its owner shrank it). */
static int read_full(int fd, void *dst, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)dst + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return 0;
}

/* Reads [off, off + len) into dst, skipping the file's holes: dst is zero there already. */
static int read_sparse(int fd, unsigned char *dst, uint64_t off, uint64_t len)
{
	uint64_t pos = off, end = off + len;
	int err;

	while (pos < end) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			return 0;	/* nothing but a hole to the end */
		if (data < 0)
			data = pos;	/* no SEEK_DATA here: read it all */
		if ((uint64_t)data >= end)
			return 0;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > end)
			hole = end;
		if (hole <= data)
			hole = end;
		err = read_full(fd, dst + (data - off), hole - data, data);
		if (err)
			return err;
		pos = hole;
	}
	return 0;
}

static bool prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Whether flamed reads section i for want (link: a symbol table's string table). */
static bool wanted(const struct sec *s, const char *name, unsigned int want)
{
	if (s->type == SHT_NOBITS || s->type == SHT_NULL)
		return false;
	if ((want & (ELFIMAGE_SYMS | ELFIMAGE_NOTES)) && s->type == SHT_NOTE)
		return true;
	if ((want & ELFIMAGE_SYMS) &&
	    (s->type == SHT_SYMTAB || s->type == SHT_DYNSYM ||
	     !strcmp(name, ".gnu_debuglink") || !strcmp(name, ".gnu_debugdata")))
		return true;
	if ((want & ELFIMAGE_CFI) && !strcmp(name, ".debug_frame"))
		return true;
	if ((want & ELFIMAGE_DWARF) && (prefix(name, ".debug_") || prefix(name, ".zdebug_") ||
					!strcmp(name, ".gnu_debugaltlink")))
		return !elfimage__dwarf_unused(name);
	if ((want & ELFIMAGE_CFI) && (!strcmp(name, ".eh_frame") ||
				      !strcmp(name, ".eh_frame_hdr") || !strcmp(name, ".debug_frame")))
		return true;
	return false;
}

bool elfimage__dwarf_unused(const char *name)
{
	static const char *const unused[] = {
		"loc", "loclists", "macro", "macinfo", "pubnames", "pubtypes", "gnu_pubnames",
		"gnu_pubtypes", "names", "frame",
	};
	size_t i;

	if (prefix(name, ".debug_"))
		name += 7;
	else if (prefix(name, ".zdebug_"))
		name += 8;
	else
		return false;
	for (i = 0; i < sizeof(unused) / sizeof(unused[0]); i++)
		if (!strcmp(name, unused[i]))
			return true;
	return false;
}

static __attribute__((format(printf, 2, 3))) void refuse(struct elfimage *im, const char *fmt,
							 ...)
{
	va_list ap;

	if (!im->refused++) {
		va_start(ap, fmt);
		vsnprintf(im->why, sizeof(im->why), fmt, ap);
		va_end(ap);
	}
}

/* What a compressed section inflates to (libelf and libdw inflate into memory), or 0. */
static uint64_t inflated_size(const struct hdrs *h, const struct sec *s, const char *name,
			      const unsigned char *data)
{
	uint64_t n = 0;
	int i;

	if (s->flags & SHF_COMPRESSED) {
		if (h->is64 && s->size >= sizeof(Elf64_Chdr)) {
			Elf64_Chdr ch;

			memcpy(&ch, data, sizeof(ch));
			return ch.ch_size;
		}
		if (!h->is64 && s->size >= sizeof(Elf32_Chdr)) {
			Elf32_Chdr ch;

			memcpy(&ch, data, sizeof(ch));
			return ch.ch_size;
		}
		return 0;
	}
	/* GNU .zdebug: "ZLIB" and the size, 8 bytes big-endian. */
	if (prefix(name, ".zdebug") && s->size >= 12 && !memcmp(data, "ZLIB", 4)) {
		for (i = 0; i < 8; i++)
			n = n << 8 | data[4 + i];
	}
	return n;
}

/* A section's name; names holds len bytes and a NUL after them. */
static const char *name_of(const char *names, uint64_t len, uint32_t off)
{
	return names && off < len ? names + off : "";
}

static double mib(uint64_t n)
{
	return n / 1048576.0;
}

/*
 * The read path. Headers first (into a scratch copy), then the plan: which sections to read
 * and where the image must end, then the image itself.
 */
static int build(struct elfimage *im, int fd, unsigned int want)
{
	unsigned char ehdr[sizeof(Elf64_Ehdr)] = { 0 };
	size_t ehsize, shsize = 0, phsize = 0, sechdr;
	void *shdrs = NULL, *phdrs = NULL;
	char *names = NULL;
	uint64_t names_len = 0;
	bool *load = NULL;
	uint64_t span, total = 0, inflated = 0;
	struct stat sb;
	struct hdrs h;
	struct sec s;
	uint32_t i;
	int err;

	if (fstat(fd, &sb))
		return -errno;
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size < sizeof(Elf32_Ehdr))
		return -EINVAL;
	err = read_full(fd, ehdr, sizeof(ehdr), 0);
	if (err)
		return err;
	err = parse_ehdr(ehdr, &h);
	if (err)
		return err;
	ehsize = h.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	sechdr = h.is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	/* Extended numbering: the real counts live in section 0. */
	if (h.shoff && (h.shnum == 0 || h.shstrndx == SHN_XINDEX || h.phnum == PN_XNUM)) {
		unsigned char raw[sizeof(Elf64_Shdr)];

		if (h.shentsize != sechdr || h.shoff > ELFIMAGE_SPAN_MAX)
			return -EINVAL;
		err = read_full(fd, raw, sechdr, h.shoff);
		if (err)
			return err;
		get_sec(&h, raw, 0, &s);
		if (h.shnum == 0)
			h.shnum = s.size > UINT32_MAX ? UINT32_MAX : (uint32_t)s.size;
		if (h.shstrndx == SHN_XINDEX)
			h.shstrndx = s.link;
		if (h.phnum == PN_XNUM) {
			Elf64_Shdr sh64;
			Elf32_Shdr sh32;

			if (h.is64)
				memcpy(&sh64, raw, sizeof(sh64));
			else
				memcpy(&sh32, raw, sizeof(sh32));
			h.phnum = h.is64 ? sh64.sh_info : sh32.sh_info;
		}
	}
	if (h.shnum > ELFIMAGE_MAX_HEADERS || h.phnum > ELFIMAGE_MAX_HEADERS)
		return -EFBIG;
	if ((h.shnum && h.shentsize != sechdr) ||
	    (h.phnum && h.phentsize != (h.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))))
		return -EINVAL;
	shsize = (size_t)h.shnum * h.shentsize;
	phsize = (size_t)h.phnum * h.phentsize;
	if (h.shoff > ELFIMAGE_SPAN_MAX || h.phoff > ELFIMAGE_SPAN_MAX)
		return -EFBIG;
	span = ehsize;
	if (h.phnum && h.phoff + phsize > span)
		span = h.phoff + phsize;
	if (h.shnum && h.shoff + shsize > span)
		span = h.shoff + shsize;
	shdrs = calloc(1, shsize ? shsize : 1);
	phdrs = calloc(1, phsize ? phsize : 1);
	load = calloc(h.shnum ? h.shnum : 1, sizeof(*load));
	if (!shdrs || !phdrs || !load) {
		err = -ENOMEM;
		goto cleanup;
	}
	if ((shsize && (err = read_full(fd, shdrs, shsize, h.shoff))) ||
	    (phsize && (err = read_full(fd, phdrs, phsize, h.phoff))))
		goto cleanup;
	/* The section names, without which nothing else can be chosen. */
	if (h.shstrndx && h.shstrndx < h.shnum) {
		get_sec(&h, shdrs, h.shstrndx, &s);
		if (s.type != SHT_NOBITS && s.size && s.size <= SHSTRTAB_MAX &&
		    s.off + s.size <= ELFIMAGE_SPAN_MAX) {
			names = calloc(1, s.size + 1);
			if (!names) {
				err = -ENOMEM;
				goto cleanup;
			}
			err = read_full(fd, names, s.size, s.off);
			if (err)
				goto cleanup;
			load[h.shstrndx] = true;
			names_len = s.size;
			total += s.size;
			if (s.off + s.size > span)
				span = s.off + s.size;
		} else if (s.size > SHSTRTAB_MAX) {
			refuse(im, "section names: %.1f MiB, over %u MiB", mib(s.size),
			       SHSTRTAB_MAX >> 20);
		}
	}
	for (i = 1; i < h.shnum && names; i++) {
		struct sec l;

		get_sec(&h, shdrs, i, &s);
		if (i == h.shstrndx || !wanted(&s, name_of(names, names_len, s.name), want))
			continue;
		load[i] = true;
		/* A symbol table's strings: one level only, so an sh_link cycle changes nothing. */
		if ((s.type == SHT_SYMTAB || s.type == SHT_DYNSYM) && s.link && s.link < h.shnum) {
			get_sec(&h, shdrs, s.link, &l);
			if (l.type == SHT_STRTAB)
				load[s.link] = true;
		}
	}
	for (i = 1; i < h.shnum; i++) {
		if (!load[i] || i == h.shstrndx)
			continue;
		get_sec(&h, shdrs, i, &s);
		if (s.size > ELFIMAGE_SECTION_MAX || s.off > ELFIMAGE_SPAN_MAX ||
		    s.off + s.size > ELFIMAGE_SPAN_MAX) {
			refuse(im, "section %u: %.1f MiB at offset %llu, over the %llu MiB cap", i,
			       mib(s.size), (unsigned long long)s.off, ELFIMAGE_SECTION_MAX >> 20);
			load[i] = false;
		} else if (total + s.size > ELFIMAGE_FILE_MAX) {
			refuse(im, "section %u: %.1f MiB, over the %llu MiB cap of one file", i,
			       mib(s.size), ELFIMAGE_FILE_MAX >> 20);
			load[i] = false;
		} else {
			total += s.size;
			if (s.off + s.size > span)
				span = s.off + s.size;
		}
	}
	for (i = 0; i < h.shnum; i++)
		if (!load[i] && i)
			drop_sec(&h, shdrs, i);
	im->map_len = (span + 4095) & ~4095ULL;
	/* Address space only: pages never written are the zero page or nothing at all. */
	im->map = mmap(NULL, im->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (im->map == MAP_FAILED) {
		im->map = NULL;
		err = -ENOMEM;
		goto cleanup;
	}
	im->mem = ehsize + phsize + shsize;
	for (i = 1; i < h.shnum; i++) {
		unsigned char *dst;
		uint64_t inf;

		if (!load[i])
			continue;
		get_sec(&h, shdrs, i, &s);
		dst = (unsigned char *)im->map + s.off;
		err = read_sparse(fd, dst, s.off, s.size);
		if (err)
			goto cleanup;
		im->mem += s.size;
		inf = inflated_size(&h, &s, name_of(names, names_len, s.name), dst);
		if (inf > ELFIMAGE_SECTION_MAX || inflated + inf > ELFIMAGE_FILE_MAX) {
			refuse(im, "section %u: inflates to %.1f MiB, over the %llu MiB cap", i,
			       mib(inf), ELFIMAGE_SECTION_MAX >> 20);
			drop_sec(&h, shdrs, i);
			continue;
		}
		inflated += inf;
	}
	/*
	 * The headers last: a section overlapping them (crafted) must not replace what was
	 * planned from, even if the file changed meanwhile.
	 */
	memcpy(im->map, ehdr, ehsize);
	if (phsize)
		memcpy((char *)im->map + h.phoff, phdrs, phsize);
	if (shsize)
		memcpy((char *)im->map + h.shoff, shdrs, shsize);
	im->elf = elf_memory(im->map, im->map_len);
	if (!im->elf || elf_kind(im->elf) != ELF_K_ELF)
		err = -EINVAL;
cleanup:
	free(names);
	free(load);
	free(shdrs);
	free(phdrs);
	return err;
}

struct elfimage *elfimage__open(int fd, unsigned int want, int *ret_err)
{
	struct elfimage *im = calloc(1, sizeof(*im));
	int err = 0;

	elf_version(EV_CURRENT);
	if (!im) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!(want & ELFIMAGE_READ) && rootfs__may_mmap(fd)) {
		/* Only root can change it: mapped, and the fd let go (mapped, libelf needs none). */
		im->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (!im->elf || elf_kind(im->elf) != ELF_K_ELF || elf_cntl(im->elf, ELF_C_FDREAD))
			err = -EINVAL;
	} else {
		err = build(im, fd, want);
	}
	if (!err)
		return im;
cleanup:
	elfimage__free(im);
	*ret_err = err;
	return NULL;
}

Elf *elfimage__elf(const struct elfimage *im)
{
	return im->elf;
}

size_t elfimage__mem(const struct elfimage *im)
{
	return im->mem;
}

unsigned int elfimage__refused(const struct elfimage *im, const char **why)
{
	if (why)
		*why = im->refused ? im->why : NULL;
	return im->refused;
}

void elfimage__drop(struct elfimage *im, uint64_t off, uint64_t len)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a, b;
	size_t size = 0;
	char *base = im ? elf_rawfile(im->elf, &size) : NULL;

	if (!base || off >= size || len > size - off)
		return;
	a = ((uintptr_t)base + off + pg - 1) & ~(pg - 1);
	b = ((uintptr_t)base + off + len) & ~(pg - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

void elfimage__evict(struct elfimage *im, uint64_t off, uint64_t len)
{
	if (im && !im->map)
		elfimage__drop(im, off, len);
}

void elfimage__free(struct elfimage *im)
{
	if (!im)
		return;
	elf_end(im->elf);
	if (im->map)
		munmap(im->map, im->map_len);
	free(im);
}
