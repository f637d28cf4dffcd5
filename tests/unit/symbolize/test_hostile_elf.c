// SPDX-License-Identifier: GPL-2.0-only
/*
 * ELF files as a hostile owner crafts them, read the way flamed reads a file it did not write
 * (elfimage, ELFIMAGE_READ): a huge sparse file around a small image, sections over their cap
 * as stored or inflated, symbol tables whose sh_link loops, build-id notes of odd sizes, an xz
 * bomb, .eh_frame entries of absurd lengths and CIE pointers that lead nowhere or in a circle.
 * Each must end quickly, in bounded memory, with the refusal counted.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "symbolize/debuginfo.h"
#include "base/elfimage.h"
#include "symbolize/elfsyms.h"
#include "harness.h"
#include "unwind/unwind_table.h"

/* A small ELF64 file written section by section: [ehdr][phdr][section data...][shdrs]. */
struct sec_spec {
	const char *name;
	uint32_t type, link;
	uint64_t flags, addr;
	const void *data;
	size_t size;
	uint64_t fake_size;	/* claimed sh_size when not 0 (its data is not written) */
	uint64_t fake_off;	/* claimed sh_offset when not 0 */
};

struct img {
	unsigned char *b;
	size_t n;
};

static void put(struct img *m, size_t off, const void *p, size_t len)
{
	if (off + len > m->n) {
		m->b = realloc(m->b, off + len);
		memset(m->b + m->n, 0, off + len - m->n);
		m->n = off + len;
	}
	memcpy(m->b + off, p, len);
}

/* Builds the file: section 0 null, then specs, then .shstrtab; one PT_LOAD r-x at 0x1000. */
static struct img build(const struct sec_spec *s, int nr)
{
	struct img m = { NULL, 0 };
	Elf64_Shdr sh[32] = { { 0 } };
	char names[512] = "";
	size_t nlen = 1, off = 0x1000, i;
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X;
	ph.p_offset = 0x1000;
	ph.p_vaddr = 0x1000;
	ph.p_filesz = ph.p_memsz = 0x1000;
	for (i = 0; i < (size_t)nr; i++) {
		Elf64_Shdr *h = &sh[i + 1];

		h->sh_name = nlen;
		strcpy(names + nlen, s[i].name);
		nlen += strlen(s[i].name) + 1;
		h->sh_type = s[i].type;
		h->sh_flags = s[i].flags;
		h->sh_addr = s[i].addr;
		h->sh_link = s[i].link;
		h->sh_addralign = 1;
		h->sh_entsize = s[i].type == SHT_SYMTAB || s[i].type == SHT_DYNSYM ? sizeof(Elf64_Sym)
										     : 0;
		off = (off + 7) & ~7UL;
		h->sh_offset = s[i].fake_off ? s[i].fake_off : off;
		h->sh_size = s[i].fake_size ? s[i].fake_size : s[i].size;
		if (s[i].size) {
			put(&m, h->sh_offset, s[i].data, s[i].size);
			if (!s[i].fake_off)
				off += s[i].size;
		}
	}
	sh[nr + 1].sh_name = nlen;
	strcpy(names + nlen, ".shstrtab");
	nlen += 10;
	sh[nr + 1].sh_type = SHT_STRTAB;
	sh[nr + 1].sh_offset = off;
	sh[nr + 1].sh_size = nlen;
	put(&m, off, names, nlen);
	off = (off + nlen + 7) & ~7UL;
	eh.e_shoff = off;
	eh.e_shnum = nr + 2;
	eh.e_shstrndx = nr + 1;
	put(&m, off, sh, (nr + 2) * sizeof(*sh));
	put(&m, 0, &eh, sizeof(eh));
	put(&m, sizeof(eh), &ph, sizeof(ph));
	return m;
}

/*
 * FLAMED_HOSTILE_SEEDS=DIR build/unit-tests hostile: also writes each crafted file to
 * DIR/NAME, the seeds of tests/fuzz/corpus/fuzz_elfimage/.
 */
static void seed(const struct img *m, const char *name)
{
	const char *dir = getenv("FLAMED_HOSTILE_SEEDS");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (f) {
		fwrite(m->b, 1, m->n, f);
		fclose(f);
	}
}

/* The bytes as a file its owner could have made: a memfd, optionally grown (sparse) to size. */
static int as_file(const struct img *m, uint64_t size)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, m->b, m->n) != (ssize_t)m->n || (size && ftruncate(fd, size))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Resident memory of this process now, in bytes. */
static uint64_t rss_now(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * sysconf(_SC_PAGESIZE);
}

/* CPU time of this thread (user + system): what the work costs, however busy the machine. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A symbol table naming one function, "hot" at 0x1100, with its strings. */
static const char strtab[] = "\0hot";
static Elf64_Sym syms[2] = {
	{ 0 },
	{ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_shndx = 1,
	  .st_value = 0x1100, .st_size = 0x40 },
};

static const char *find(struct elfsyms *e, uint64_t addr)
{
	uint64_t off;

	return e ? elfsyms__find(e, addr, &off) : NULL;
}

TEST(elfimage_sparse_huge_file_reads_only_what_it_needs)
{
	struct sec_spec s[] = {
		{ ".text", SHT_PROGBITS, 0, SHF_ALLOC | SHF_EXECINSTR, 0x1000, "\xc3", 1 },
		{ ".symtab", SHT_SYMTAB, 3, 0, 0, syms, sizeof(syms) },
		{ ".strtab", SHT_STRTAB, 0, 0, 0, strtab, sizeof(strtab) },
	};
	struct img m = build(s, 3);
	struct elfimage *im;
	struct elfsyms *e;
	double t0 = now_s();
	uint64_t rss0 = rss_now();
	int fd, err = 0;

	/* 6 GiB, nearly all of it a hole after the image (a memfd is sparse like a tmpfs file). */
	fd = as_file(&m, 6ULL << 30);
	CHECK(fd >= 0);
	im = elfimage__open(fd, ELFIMAGE_SYMS | ELFIMAGE_READ, &err);
	CHECK(im != NULL);
	if (im) {
		e = elfsyms__from_elf(elfimage__elf(im), &err);
		CHECK_EQ_STR(find(e, 0x1110), "hot");
		CHECK(elfimage__mem(im) < 64 * 1024);
		/* Measured, not just accounted: the image holds a few pages, not the file. */
		CHECK(rss_now() < rss0 + (16 << 20));
		CHECK_EQ_INT(elfimage__refused(im, NULL), 0);
		elfsyms__free(e);
	}
	CHECK(now_s() - t0 < 2.0);
	elfimage__free(im);
	/* The symbols flamed reads the same as from the file's bytes directly. */
	e = elfsyms__from_mem(m.b, m.n, &err);
	CHECK_EQ_STR(find(e, 0x1110), "hot");
	elfsyms__free(e);
	close(fd);
	free(m.b);
}

TEST(elfimage_section_over_cap_left_out_and_counted)
{
	/* .symtab claims 300 MiB (the file is sparse there), .debug_info claims 1 TiB. */
	struct sec_spec s[] = {
		{ ".text", SHT_PROGBITS, 0, SHF_ALLOC | SHF_EXECINSTR, 0x1000, "\xc3", 1 },
		{ ".symtab", SHT_SYMTAB, 3, 0, 0, syms, sizeof(syms), 300ULL << 20 },
		{ ".strtab", SHT_STRTAB, 0, 0, 0, strtab, sizeof(strtab) },
		{ ".debug_info", SHT_PROGBITS, 0, 0, 0, "x", 1, 1ULL << 40 },
	};
	struct img m = build(s, 4);
	struct elfimage *im;
	struct elfsyms *e;
	const char *why = NULL;
	int fd = as_file(&m, 1ULL << 30), err = 0;

	seed(&m, "hostile-over-cap");

	CHECK(fd >= 0);
	im = elfimage__open(fd, ELFIMAGE_SYMS | ELFIMAGE_DWARF | ELFIMAGE_READ, &err);
	CHECK(im != NULL);
	if (im) {
		CHECK_EQ_INT(elfimage__refused(im, &why), 2);
		CHECK(why && strstr(why, "over the"));
		/* Left out: nothing names the code, and nothing read 300 MiB. */
		e = elfsyms__from_elf(elfimage__elf(im), &err);
		CHECK(e && !find(e, 0x1110));
		elfsyms__free(e);
		CHECK(elfimage__mem(im) < 64 * 1024);
	}
	elfimage__free(im);
	close(fd);
	free(m.b);
}

TEST(elfimage_compressed_section_inflating_past_cap)
{
	/* A zlib-compressed .debug_info whose header says it inflates to 4 GiB. */
	Elf64_Chdr ch = { .ch_type = ELFCOMPRESS_ZLIB, .ch_size = 4ULL << 30, .ch_addralign = 1 };
	unsigned char z[sizeof(ch) + 16] = { 0 };
	unsigned char zd[] = "ZLIB\0\0\0\x01\0\0\0\0xxxx";	/* .zdebug: 4 GiB, big-endian */
	struct sec_spec s[] = {
		{ ".debug_info", SHT_PROGBITS, 0, SHF_COMPRESSED, 0, z, sizeof(z) },
		{ ".zdebug_line", SHT_PROGBITS, 0, 0, 0, zd, sizeof(zd) },
	};
	struct img m;
	struct elfimage *im;
	int fd, err = 0;

	memcpy(z, &ch, sizeof(ch));
	m = build(s, 2);
	seed(&m, "hostile-inflate");
	fd = as_file(&m, 0);
	im = elfimage__open(fd, ELFIMAGE_DWARF | ELFIMAGE_READ, &err);
	CHECK(im != NULL);
	if (im)
		CHECK_EQ_INT(elfimage__refused(im, NULL), 2);
	elfimage__free(im);
	close(fd);
	free(m.b);
}

TEST(elfimage_headers_beyond_reach)
{
	struct img m = build(NULL, 0);
	Elf64_Ehdr eh;
	int fd, err = 0;

	/* Section headers said to lie 2 TiB in: refused before anything is laid out. */
	memcpy(&eh, m.b, sizeof(eh));
	eh.e_shoff = 2ULL << 40;
	memcpy(m.b, &eh, sizeof(eh));
	fd = as_file(&m, 0);
	CHECK(elfimage__open(fd, ELFIMAGE_SYMS | ELFIMAGE_READ, &err) == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	close(fd);
	/* 65535 sections of the wrong size, and a file that is not ELF. */
	eh.e_shoff = 64;
	eh.e_shnum = 65535;
	eh.e_shentsize = 12;
	memcpy(m.b, &eh, sizeof(eh));
	fd = as_file(&m, 0);
	CHECK(elfimage__open(fd, ELFIMAGE_SYMS | ELFIMAGE_READ, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	close(fd);
	m.b[1] = 'X';
	fd = as_file(&m, 0);
	CHECK(elfimage__open(fd, ELFIMAGE_SYMS | ELFIMAGE_READ, &err) == NULL);
	close(fd);
	free(m.b);
}

TEST(elfimage_sh_link_loops)
{
	/* .symtab links to .dynsym, which links back; one links to itself; one out of range. */
	struct sec_spec s[] = {
		{ ".text", SHT_PROGBITS, 0, SHF_ALLOC | SHF_EXECINSTR, 0x1000, "\xc3", 1 },
		{ ".symtab", SHT_SYMTAB, 3, 0, 0, syms, sizeof(syms) },
		{ ".dynsym", SHT_DYNSYM, 2, 0, 0, syms, sizeof(syms) },
		{ ".symtab", SHT_SYMTAB, 4, 0, 0, syms, sizeof(syms) },
		{ ".symtab", SHT_SYMTAB, 60000, 0, 0, syms, sizeof(syms) },
	};
	struct img m = build(s, 5);
	struct elfimage *im;
	struct elfsyms *e;
	double t0 = now_s();
	int fd = as_file(&m, 0), err = 0;

	seed(&m, "hostile-sh-link-loops");

	im = elfimage__open(fd, ELFIMAGE_SYMS | ELFIMAGE_READ, &err);
	CHECK(im != NULL);
	if (im) {
		/* No string table anywhere: no names, no crash, no loop. */
		e = elfsyms__from_elf(elfimage__elf(im), &err);
		CHECK(e != NULL);
		CHECK(!find(e, 0x1110));
		elfsyms__free(e);
	}
	elfimage__free(im);
	/* The same bytes straight from memory (the vDSO path, the fuzz target). */
	e = elfsyms__from_mem(m.b, m.n, &err);
	CHECK(!find(e, 0x1110));
	elfsyms__free(e);
	CHECK(now_s() - t0 < 2.0);
	close(fd);
	free(m.b);
}

/* A build-id note: namesz 4 "GNU", then descsz bytes (claimed), as given. */
static size_t note(unsigned char *buf, uint32_t namesz, uint32_t descsz, size_t real_desc)
{
	uint32_t h[3] = { namesz, descsz, NT_GNU_BUILD_ID };
	size_t n = 0, i;

	memcpy(buf, h, sizeof(h));
	n = sizeof(h);
	memcpy(buf + n, "GNU", 4);
	n += 4;
	for (i = 0; i < real_desc; i++)
		buf[n++] = 0xa0 + i;
	return n;
}

TEST(build_id_odd_note_sizes)
{
	static const struct {
		uint32_t descsz;
		size_t real;
		const char *want;
	} cases[] = {
		{ 0, 0, "" },			/* empty: no build id */
		{ 20, 20, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3" },
		{ 3, 3, "a0a1a2" },		/* unaligned size: the note's padding is implied */
		{ 21, 21, "" },			/* longer than SHA-1: not a build id flamed uses */
		{ 0xfffffff0u, 20, "" },	/* claims 4 GiB inside a 40-byte section */
		{ 0xffffffffu, 20, "" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char buf[64] = { 0 };
		size_t n = note(buf, 4, cases[i].descsz, cases[i].real);
		struct sec_spec s[] = {
			{ ".note.gnu.build-id", SHT_NOTE, 0, SHF_ALLOC, 0, buf, (n + 3) & ~3UL },
		};
		struct img m = build(s, 1);
		struct elfimage *im;
		char hex[41], name[64];
		int fd = as_file(&m, 0), err = 0;

		snprintf(name, sizeof(name), "hostile-build-id-%zu", i);
		seed(&m, name);

		im = elfimage__open(fd, ELFIMAGE_NOTES | ELFIMAGE_READ, &err);
		CHECK(im != NULL);
		if (im) {
			elfsyms__read_build_id(elfimage__elf(im), hex);
			CHECK_EQ_STR(hex, cases[i].want);
		}
		elfimage__free(im);
		close(fd);
		free(m.b);
	}
}

TEST(minidebug_xz_bomb_capped)
{
	/* 128 MiB of zeros xz-compress to 20 KiB: the expansion must stop at the 64 MiB cap. */
	size_t big = 128ULL << 20, clen = 0, len = 0;
	unsigned char *zeros = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *xz = malloc(1 << 20);
	lzma_stream z = LZMA_STREAM_INIT;
	double t0;
	void *out;
	int err = 0;

	CHECK(zeros != MAP_FAILED && xz);
	if (zeros == MAP_FAILED || !xz)
		return;
	CHECK(lzma_easy_encoder(&z, 0, LZMA_CHECK_CRC32) == LZMA_OK);
	z.next_in = zeros;
	z.avail_in = big;
	z.next_out = xz;
	z.avail_out = 1 << 20;
	CHECK(lzma_code(&z, LZMA_FINISH) == LZMA_STREAM_END);
	clen = z.total_out;
	lzma_end(&z);
	munmap(zeros, big);
	t0 = now_s();
	out = debuginfo__unxz(xz, clen, DEBUGINFO_MINIDEBUG_MAX, &len, &err);
	CHECK(out == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	CHECK(now_s() - t0 < 5.0);
	free(out);
	free(xz);
}

TEST(xz_dictionary_over_memlimit)
{
	/* An .xz header asking for a 1.5 GiB dictionary: refused before it is allocated. */
	lzma_options_lzma opt;
	lzma_filter f[2];
	unsigned char in[16] = "abc", xz[4096];
	size_t pos = 0, len = 0;
	void *out;
	int err = 0;

	lzma_lzma_preset(&opt, 0);
	opt.dict_size = 1536u << 20;
	f[0] = (lzma_filter){ LZMA_FILTER_LZMA2, &opt };
	f[1] = (lzma_filter){ LZMA_VLI_UNKNOWN, NULL };
	CHECK(lzma_stream_buffer_encode(f, LZMA_CHECK_CRC32, NULL, in, 3, xz, &pos, sizeof(xz)) ==
	      LZMA_OK);
	out = debuginfo__unxz(xz, pos, DEBUGINFO_MINIDEBUG_MAX, &len, &err);
	CHECK(out == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	free(out);
}

/* .eh_frame bytes: a CIE, then FDEs as given; code at 0x1000..0x2000. */
struct eh {
	unsigned char b[4096];
	size_t n;
};

static void eh_u32(struct eh *e, uint32_t v)
{
	memcpy(e->b + e->n, &v, 4);
	e->n += 4;
}

static void eh_cie(struct eh *e)
{
	/* length, id 0, version 1, "zR", code 1, data -8, ra 16, aug len 1, pcrel|sdata4,
	 * def_cfa rsp+8, offset ra at cfa-8, padding */
	static const unsigned char body[] = { 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b,
					      0x0c, 7, 8, 0x90, 1, 0, 0 };

	eh_u32(e, sizeof(body));
	memcpy(e->b + e->n, body, sizeof(body));
	e->n += sizeof(body);
}

/* An FDE whose CIE pointer is cie_delta (as stored: offset back from the pointer itself). */
static void eh_fde(struct eh *e, uint32_t cie_delta, uint64_t sec_addr, uint64_t pc, uint32_t len)
{
	int32_t rel;

	eh_u32(e, 16);
	eh_u32(e, cie_delta);
	rel = (int32_t)(pc - (sec_addr + e->n));
	eh_u32(e, (uint32_t)rel);
	eh_u32(e, len);
	e->b[e->n++] = 0;	/* no augmentation data */
	e->b[e->n++] = 0;
	e->b[e->n++] = 0;
	e->b[e->n++] = 0;
}

static struct unwind_table *table_of(const struct eh *e, int *err, const char *name)
{
	struct sec_spec s[] = {
		{ ".text", SHT_PROGBITS, 0, SHF_ALLOC | SHF_EXECINSTR, 0x1000, "\xc3", 1 },
		{ ".eh_frame", SHT_PROGBITS, 0, SHF_ALLOC, 0x3000, e->b, e->n },
	};
	struct img m = build(s, 2);
	struct unwind_table *t = NULL;
	struct elfimage *im;
	int fd = as_file(&m, 0);

	seed(&m, name);

	im = elfimage__open(fd, ELFIMAGE_CFI | ELFIMAGE_READ, err);
	if (im)
		t = unwind_table__from_elf(elfimage__elf(im), err);
	elfimage__free(im);
	close(fd);
	free(m.b);
	return t;
}

TEST(eh_frame_absurd_lengths_and_cie_loops)
{
	struct unwind_table *t;
	struct eh e = { .n = 0 };
	double t0 = now_s();
	int err = 0;

	/* A good CIE and FDE, then an FDE whose CIE pointer is its own entry (a loop). */
	eh_cie(&e);
	eh_fde(&e, e.n + 4, 0x3000, 0x1100, 0x20);
	eh_fde(&e, 4, 0x3000, 0x1200, 0x20);
	/* An FDE pointing "back" past the start of the section, and one at the next entry. */
	eh_fde(&e, 0x7fffffff, 0x3000, 0x1300, 0x20);
	eh_fde(&e, (uint32_t)-40, 0x3000, 0x1400, 0x20);
	/* Then an entry of absurd length (4 GiB - 16), then a 64-bit length of 2^63. */
	eh_u32(&e, 0xfffffff0u);
	eh_u32(&e, 0xffffffffu);
	eh_u32(&e, 0);
	eh_u32(&e, 0x80000000u);
	t = table_of(&e, &err, "hostile-eh-frame-loops");
	CHECK(t != NULL);
	if (t) {
		/* The good FDE is kept; the others are skipped, the rest of the section refused. */
		CHECK(unwind_table__find(t, 0x1100) != NULL);
		CHECK(unwind_table__stats(t)->fdes_skipped >= 3);
	}
	unwind_table__free(t);
	CHECK(now_s() - t0 < 2.0);

	/* Only a length that runs past the end: nothing usable, an error, no crash. */
	e.n = 0;
	eh_u32(&e, 0x1000);
	eh_u32(&e, 0);
	t = table_of(&e, &err, "hostile-eh-frame-past-end");
	CHECK(t == NULL || unwind_table__nr_rows(t) == 0);
	unwind_table__free(t);
}

/* Sections naming never reads: never read into an image, hidden from libdw. */
TEST(elfimage_dwarf_unused_sections)
{
	CHECK(elfimage__dwarf_unused(".debug_loclists"));
	CHECK(elfimage__dwarf_unused(".debug_loc"));
	CHECK(elfimage__dwarf_unused(".zdebug_loc"));
	CHECK(elfimage__dwarf_unused(".debug_macro"));
	CHECK(elfimage__dwarf_unused(".debug_frame"));
	CHECK(!elfimage__dwarf_unused(".debug_info"));
	CHECK(!elfimage__dwarf_unused(".debug_line"));
	CHECK(!elfimage__dwarf_unused(".debug_line_str"));
	CHECK(!elfimage__dwarf_unused(".debug_rnglists"));
	CHECK(!elfimage__dwarf_unused(".debug_str_offsets"));
	CHECK(!elfimage__dwarf_unused(".debug_loclists.dwo"));
	CHECK(!elfimage__dwarf_unused(".eh_frame"));
	CHECK(!elfimage__dwarf_unused("loc"));
}
