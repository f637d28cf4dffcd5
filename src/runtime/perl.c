// SPDX-License-Identifier: GPL-2.0-only
/*
 * Perl in profiled processes: detection, the per-version layout for the BPF unwinder, its check
 * against the live interpreter, and names of the subs it reports.
 *
 * Detection: a mapping whose file is named like Perl's (perl, perl5.36.0, libperl.so.5.36)
 * exporting PL_curinterp, Perl_runops_standard and PL_revision, PL_version (Debian 12's
 * /usr/bin/perl has libperl built in and exports them in .dynsym). The version is the bytes
 * PL_revision and PL_version hold (5, 36), not the file's name; a version without a layout is
 * reported once and its processes profiled natively.
 *
 * The layout: facts from perl 5.36's intrpvar.h, cop.h, cv.h, gv.h, hv.h, hek and sv.h, built
 * threaded (useithreads, MULTIPLICITY: the interpreter's variables are fields of a
 * PerlInterpreter, PL_curinterp the first one made). Every offset was taken with offsetof
 * against Debian 12's headers (libperl-dev 5.36.0, x86_64) and read back from a running
 * plchain.pl through /proc/PID/mem by tests/tools/perl_layout_dump.py, which walks them
 * without flamed's code (docs/ARCHITECTURE.md, Perl part):
 *  - PerlInterpreter { Icurcop 208, Icurstack 216, Icurstackinfo 224, Iorigfilename 1472,
 *    Imain_cv 1800 };
 *  - struct stackinfo { si_cxstack 8, si_prev 16, si_cxix 32, si_cxmax 36, si_type 44 }
 *    (PERLSI_MAIN 1 at the bottom, PERLSI_SORT 3 for a sort block);
 *  - struct context: 104 bytes; cx_type at 0 (CXTYPEMASK 0xf: CXt_SUB 9, CXt_FORMAT 10),
 *    blk_oldcop 16, blk_sub.retop 48, blk_sub.cv 72;
 *  - COP { cop_line 36, cop_file 48 (a char *: ithreads) };
 *  - an SV: sv_any 0, sv_refcnt 8, sv_flags 12 (type in the low byte: SVt_PVGV 9, SVt_PVHV
 *    12, SVt_PVCV 13; SVf_OOK 0x02000000 on a hash with an aux part), sv_u 16;
 *  - XPVCV { xcv_stash 32, xcv_gv_u 56 (the name HEK instead with CVf_NAMED 0x8000: since
 *    5.22 a package's `sub foo {}` has no GV until one is needed, main::leaf among them, and
 *    lexical subs), xcv_file 64, xcv_flags 92 }; XPVGV { xivu_namehek 32, xgv_stash 40 };
 *    struct xpvhv_with_aux { xhv_aux at 32: xhv_name_u 0, xhv_name_count 28 } (the first of
 *    its names when the count is not 0); struct hek { hek_len 4, hek_key 8 }.
 * A build whose structures moved is caught twice: at attach, once the main interpreter runs,
 * its stackinfo, context stack, current COP and main CV must read as the layout says (types
 * in SV flags, bounds of si_cxix, the subs of its contexts named); when naming, a frame's CV
 * must be a CV whose GV and stash read as such. A process failing either is refused with one
 * warning: native frames only (FLAMED_PERL_LAYOUT_SKEW=n moves the Icurcop/Icurstackinfo and
 * xcv_gv offsets by n bytes, so tests/e2e/test_perl.sh can see that happen on a real perl).
 *
 * Threads: only the main interpreter's frames, in the main thread (bpf/perl_unwind.h); a
 * process that loaded threads.so is told once that its ithreads keep native frames only.
 *
 * Names are cached per (process, CV) and read as soon as samples are drained, while the
 * process lives; dropped after it exits and a profile has used them.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <bpf/bpf.h>

#include "base/elfimage.h"
#include "base/log.h"
#include "base/util.h"
#include "sample/procs.h"
#include "sample/sampler.h"
#include "unwind/unwinder.h"
#include "aggregate/profile.h"
#include "symbolize/symbolize.h"
#include "runtime/perl.h"

/* 5.36: Debian 12's perl 5.36.0 (the file's comment). */
static const struct perl_layout layouts[] = {
	{ 5, 36, { 208, 224, 8, 16, 32, 104, 16, 48, 72, 36, { 0, 0 } },
	  1800, 1472, 36, 44, 48, 12, 16, 32, 56, 64, 92, 32, 40, 32, 28, 4, 8 },
};

/* sv.h (5.36). */
#define PL_SVTYPEMASK 0xff
#define PL_SVT_PVGV 9
#define PL_SVT_PVHV 12
#define PL_SVT_PVCV 13
#define PL_SVT_LAST 17		/* SVt_LAST */
#define PL_SVF_OOK 0x02000000U
#define PL_CVF_NAMED 0x8000U	/* cv.h */
#define PL_PERLSI_MAIN 1	/* cop.h */

int perl__layout(unsigned int major, unsigned int minor, struct perl_layout *ret)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		if (layouts[i].major == major && layouts[i].minor == minor) {
			*ret = layouts[i];
			return 0;
		}
	}
	return -ENOTSUP;
}

bool perl__is_perl_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	if (strncmp(b, "perl", 4))
		return false;
	b += 4;
	/* perl, perl5.36.0, libperl.so.5.36: not "perldoc" or "perlbug". */
	return !*b || *b == '.' || (*b >= '0' && *b <= '9');
}

int perl__sv_type(uint32_t flags)
{
	uint32_t t = flags & PL_SVTYPEMASK;

	/* A freed SV has type SVTYPEMASK (sv.h SVTYPEMASK, sv_free's mark). */
	return t < PL_SVT_LAST ? (int)t : -1;
}

int perl__format_name(char *out, size_t outlen, const char *pkg, const char *sub,
		      const char *file, uint32_t line)
{
	const char *base = file ? strrchr(file, '/') : NULL;

	base = base ? base + 1 : file;
	if (!base || !*base)
		base = "?";
	if (!pkg || !*pkg)
		pkg = "?";
	if (!sub || !*sub)
		sub = "?";
	if (line)
		return snprintf(out, outlen, "%s::%s (%s:%u)", pkg, sub, base, line);
	return snprintf(out, outlen, "%s::%s (%s)", pkg, sub, base);
}

/* A process with Perl, as told to BPF. */
struct plproc {
	uint32_t pid;
	bool exited;
	bool refused;		/* its memory did not read as the layout says: native only */
	bool checked;		/* the layout was checked on its running interpreter */
	bool threads_told;	/* "ithreads keep native frames" said */
	unsigned int good, bad;	/* CVs named / that contradicted the layout */
	uint64_t curinterp;	/* address of PL_curinterp */
	struct perl_layout l;
};

/* A named CV of a process. */
struct plname {
	uint32_t pid;
	uint64_t cv;		/* 0: empty slot */
	char *pkg;		/* "main", "Outer" */
	char *sub;		/* "leaf", "RUNTIME" for the main program */
	char *file;		/* CvFILE */
	char *qual;		/* "main::leaf": pprof's function name */
};

/* What one file (by identity) holds, so each process's sync does not reread it. */
struct plfile {
	uint32_t maj, min;
	uint64_t ino;
	bool ok;		/* symbols and a version */
	unsigned int major, minor, patch;
	uint64_t curinterp, runops, runops_size;	/* ELF vaddrs */
	uint64_t x_off, x_vaddr;	/* the executable segment: offset -> vaddr */
	struct plfile *next;
};

#define PERL_MAX_NAMES 200000
/* CVs in a row, none named before, that contradict the layout before it is refused. */
#define PERL_BAD_NAMES 8
#define PERL_NAME_MAX 512
#define PERL_STR_MAX 400
/* Contexts the attach-time check looks at. */
#define PERL_CHECK_CONTEXTS 256
#define PERL_CHECK_TRIES 2

struct perl {
	struct sampler *smp;
	int procs_fd;
	int skew;		/* FLAMED_PERL_LAYOUT_SKEW: a layout made wrong, for tests */
	struct plproc *procs;
	size_t nr_procs, cap_procs;
	struct plname *names;
	size_t nr_names, cap_names;
	struct plfile *files;
	char disp[PERL_NAME_MAX + 16];
};

static struct plproc *proc_find(struct perl *pl, uint32_t pid)
{
	size_t i;

	for (i = 0; i < pl->nr_procs; i++)
		if (pl->procs[i].pid == pid)
			return &pl->procs[i];
	return NULL;
}

/* The byte at vaddr of the file (PL_revision, PL_version): 0 when not in a loaded segment. */
static unsigned int file_byte(Elf *elf, int fd, uint64_t vaddr)
{
	size_t nph, i;
	uint8_t b = 0;

	if (!vaddr || elf_getphdrnum(elf, &nph))
		return 0;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
		    vaddr >= ph.p_vaddr + ph.p_filesz)
			continue;
		if (pread(fd, &b, 1, ph.p_offset + (vaddr - ph.p_vaddr)) != 1)
			return 0;
		return b;
	}
	return 0;
}

/* The symbols, executable segment and version of a Perl file. */
static void file_scan(struct plfile *f, Elf *elf, int fd)
{
	Elf_Scn *scn = NULL;
	size_t nph, i;
	uint64_t rev = 0, ver = 0, sub = 0;

	if (elf_getphdrnum(elf, &nph))
		return;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			f->x_off = ph.p_offset;
			f->x_vaddr = ph.p_vaddr;
			break;
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t k, n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (k = 0; k < n; k++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, k, &sym) || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || name[0] != 'P')
				continue;
			if (!strcmp(name, "PL_curinterp")) {
				f->curinterp = sym.st_value;
			} else if (!strcmp(name, "Perl_runops_standard")) {
				f->runops = sym.st_value;
				f->runops_size = sym.st_size;
			} else if (!strcmp(name, "PL_revision")) {
				rev = sym.st_value;
			} else if (!strcmp(name, "PL_version")) {
				ver = sym.st_value;
			} else if (!strcmp(name, "PL_subversion")) {
				sub = sym.st_value;
			}
		}
	}
	if (!f->curinterp || !f->runops || !f->runops_size || !rev || !ver)
		return;
	f->major = file_byte(elf, fd, rev);
	f->minor = file_byte(elf, fd, ver);
	f->patch = file_byte(elf, fd, sub);
	f->ok = f->major == 5;
}

static struct plfile *file_of(struct perl *pl, uint32_t pid, const struct map_entry *m)
{
	struct plfile *f;
	struct elfimage *im;
	int fd, err = 0;

	for (f = pl->files; f; f = f->next)
		if (f->ino == m->ino && f->maj == m->maj && f->min == m->min)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->maj = m->maj;
	f->min = m->min;
	f->ino = m->ino;
	f->next = pl->files;
	pl->files = f;
	fd = procs__open_mapping(pid, true, m);
	if (fd < 0) {
		pr_debug("perl: cannot open %s: %s", m->path, strerror(-fd));
		return f;
	}
	im = elfimage__open(fd, ELFIMAGE_SYMS, &err);
	if (!im) {
		pr_debug("perl: cannot read %s: %s", m->path, strerror(-err));
		close(fd);
		return f;
	}
	file_scan(f, elfimage__elf(im), fd);
	elfimage__free(im);
	close(fd);
	if (!f->ok)
		pr_debug("perl: %s has no PL_curinterp, Perl_runops_standard or PL_version",
			 m->path);
	return f;
}

/* Reads up to len bytes at addr of pid; stops at the first unreadable page. Bytes read. */
static size_t read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote[2];
	uint64_t first = ((addr | 4095) + 1) - addr;
	ssize_t r;
	int nr = 1;

	remote[0].iov_base = (void *)addr;
	remote[0].iov_len = len;
	if (first < len) {
		remote[0].iov_len = first;
		remote[1].iov_base = (void *)(addr + first);
		remote[1].iov_len = len - first;
		nr = 2;
	}
	r = process_vm_readv(pid, &local, 1, remote, nr, 0);
	return r > 0 ? (size_t)r : 0;
}

static int read_u64(uint32_t pid, uint64_t addr, uint64_t *v)
{
	return read_mem(pid, addr, v, 8) == 8 ? 0 : -EFAULT;
}

static int read_u32(uint32_t pid, uint64_t addr, uint32_t *v)
{
	return read_mem(pid, addr, v, 4) == 4 ? 0 : -EFAULT;
}

/* A NUL-terminated string at addr (cut at PERL_STR_MAX): 0, -EPROTO, -EFAULT, -ENOMEM. */
static int read_cstr(uint32_t pid, uint64_t addr, char **ret)
{
	char buf[PERL_STR_MAX + 1];
	size_t n, i;

	*ret = NULL;
	if (addr < 4096)
		return -EPROTO;
	n = read_mem(pid, addr, buf, PERL_STR_MAX);
	if (!n)
		return -EFAULT;
	buf[n] = 0;
	for (i = 0; i < n && buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20)
			return -EPROTO;	/* a file name or identifier has no control bytes */
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* A HEK's key: { hash, len, key[] } (hv.h). 0, -EPROTO, -EFAULT, -ENOMEM. */
static int read_hek(uint32_t pid, const struct perl_layout *l, uint64_t hek, char **ret)
{
	char buf[PERL_STR_MAX + 1];
	int32_t len;
	size_t i;

	*ret = NULL;
	if (hek < 4096 || (hek & 3))
		return -EPROTO;
	if (read_mem(pid, hek + l->hek_len, &len, 4) != 4)
		return -EFAULT;
	if (len < 0 || len > PERL_STR_MAX)
		return -EPROTO;
	if (read_mem(pid, hek + l->hek_key, buf, (size_t)len) != (size_t)len)
		return -EFAULT;
	buf[len] = 0;
	for (i = 0; i < (size_t)len; i++)
		if (!buf[i])
			buf[i] = '?';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* The type of the SV at sv, and its body (sv_any): -EPROTO when it is no live SV. */
static int read_sv(uint32_t pid, const struct perl_layout *l, uint64_t sv, uint64_t *any,
		   uint32_t *flags)
{
	int t;

	if (sv < 4096 || (sv & 7))
		return -EPROTO;
	if (read_u64(pid, sv, any) || read_u32(pid, sv + l->sv_flags, flags))
		return -EFAULT;
	t = perl__sv_type(*flags);
	return t < 0 ? -EPROTO : t;
}

/* The name of the stash (a package's symbol table) at hv. */
static int read_stash(uint32_t pid, const struct perl_layout *l, uint64_t hv, char **ret)
{
	uint64_t any, name;
	uint32_t flags;
	int32_t count;
	int t = read_sv(pid, l, hv, &any, &flags);

	*ret = NULL;
	if (t < 0)
		return t;
	if (t != PL_SVT_PVHV || !(flags & PL_SVF_OOK) || !any)
		return -EPROTO;
	if (read_u64(pid, any + l->hv_aux, &name) ||
	    read_mem(pid, any + l->aux_name_count, &count, 4) != 4)
		return -EFAULT;
	/* HvNAME_HEK_NN: with a count, name is an array of HEKs, the first one the name. */
	if (count && read_u64(pid, name, &name))
		return -EFAULT;
	return read_hek(pid, l, name, ret);
}

static void plname_clear(struct plname *n)
{
	free(n->pkg);
	free(n->sub);
	free(n->file);
	free(n->qual);
	memset(n, 0, sizeof(*n));
}

/*
 * Reads the CV at cv of pid into ret (main_cv: the main program, named main::RUNTIME as
 * Devel::NYTProf does, in the script). 0 or -errno: -EPROTO when it is no CV or its GV and
 * stash are not what the layout says, -EFAULT when unreadable.
 */
static int name_cv(uint32_t pid, const struct perl_layout *l, uint64_t cv, uint64_t interp,
		   struct plname *ret)
{
	uint64_t any, gv, gvany, stash = 0, file, main_cv = 0;
	uint32_t flags, cvflags, gvflags;
	int t, err;

	memset(ret, 0, sizeof(*ret));
	t = read_sv(pid, l, cv, &any, &flags);
	if (t < 0)
		return t;
	if (t != PL_SVT_PVCV || !any)
		return -EPROTO;
	if (read_u64(pid, any + l->xcv_gv, &gv) || read_u32(pid, any + l->xcv_flags, &cvflags) ||
	    read_u64(pid, any + l->xcv_file, &file))
		return -EFAULT;
	if (interp)
		read_u64(pid, interp + l->i_main_cv, &main_cv);
	if (cv == main_cv) {
		uint64_t orig;

		ret->pkg = strdup("main");
		ret->sub = strdup("RUNTIME");
		if (!read_u64(pid, interp + l->i_origfilename, &orig))
			read_cstr(pid, orig, &ret->file);
		if (!ret->pkg || !ret->sub) {
			plname_clear(ret);
			return -ENOMEM;
		}
		return 0;
	}
	if (cvflags & PL_CVF_NAMED) {
		/* No GV of its own (a package sub without one yet, a lexical sub): the HEK. */
		err = read_hek(pid, l, gv, &ret->sub);
		if (!err && !read_u64(pid, any + l->xcv_stash, &stash) && stash)
			err = read_stash(pid, l, stash, &ret->pkg);
	} else if (!gv) {
		/* No GV (gone, or never set): __ANON__ of its stash, as anonymous subs are. */
		ret->sub = strdup("__ANON__");
		err = ret->sub ? 0 : -ENOMEM;
		if (!err && !read_u64(pid, any + l->xcv_stash, &stash) && stash)
			err = read_stash(pid, l, stash, &ret->pkg);
	} else {
		t = read_sv(pid, l, gv, &gvany, &gvflags);
		err = t < 0 ? t : t != PL_SVT_PVGV || !gvany ? -EPROTO : 0;
		if (!err)
			err = read_u64(pid, gvany + l->xgv_stash, &stash);
		if (!err) {
			uint64_t hek;

			err = read_u64(pid, gvany + l->xgv_name, &hek);
			if (!err)
				err = read_hek(pid, l, hek, &ret->sub);
		}
		if (!err && stash)
			err = read_stash(pid, l, stash, &ret->pkg);
	}
	if (!err && file)
		err = read_cstr(pid, file, &ret->file) == -ENOMEM ? -ENOMEM : 0;
	if (err) {
		plname_clear(ret);
		return err;
	}
	return 0;
}

int perl__read_cv(uint32_t pid, const struct perl_layout *l, uint64_t cv, char *out,
		  size_t outlen)
{
	struct plname n;
	int err = name_cv(pid, l, cv, 0, &n);

	if (!err)
		perl__format_name(out, outlen, n.pkg, n.sub, n.file, 0);
	plname_clear(&n);
	return err;
}

/* The layout as it is to be used: FLAMED_PERL_LAYOUT_SKEW moves three offsets (tests). */
static void skewed(struct perl *pl, struct perl_layout *l)
{
	l->off.i_curcop += pl->skew;
	l->off.i_curstackinfo += pl->skew;
	l->xcv_gv += pl->skew;
}

/*
 * The layout checked on the process's main interpreter: 0 when it fits, -EPROTO when it does
 * not, -EAGAIN when there is nothing to check yet (no interpreter, or no main CV yet: the
 * script still compiling).
 */
static int check_live(struct plproc *pp)
{
	const struct perl_layout *l = &pp->l;
	uint64_t interp, w[3], si, cx, main_cv, cv, any;
	uint32_t pid = pp->pid, line, flags;
	int32_t ix, max, type;
	struct plname n;
	int i, err;

	if (read_u64(pid, pp->curinterp, &interp))
		return -EFAULT;
	if (!interp)
		return -EAGAIN;
	if (read_u64(pid, interp + l->i_main_cv, &main_cv))
		return -EPROTO;
	if (!main_cv)
		return -EAGAIN;
	/* Icurcop, Icurstack, Icurstackinfo: three words BPF reads at once. */
	if (l->off.i_curstackinfo != l->off.i_curcop + 16 ||
	    read_mem(pid, interp + l->off.i_curcop, w, sizeof(w)) != sizeof(w))
		return -EPROTO;
	if (!w[0] || read_u32(pid, w[0] + l->off.cop_line, &line) || line > (1U << 24))
		return -EPROTO;
	si = w[2];
	if (!si || read_mem(pid, si + l->off.si_cxix, &ix, 4) != 4 ||
	    read_mem(pid, si + l->si_cxmax, &max, 4) != 4 ||
	    read_u64(pid, si + l->off.si_cxstack, &cx))
		return -EPROTO;
	if (ix < -1 || ix > max || max > (1 << 20) || !cx)
		return -EPROTO;
	/* The bottom stackinfo is PERLSI_MAIN: si_prev NULL there. */
	for (i = 0; i < 64 && si; i++) {
		uint64_t prev;

		if (read_u64(pid, si + l->off.si_prev, &prev))
			return -EPROTO;
		if (!prev && (read_mem(pid, si + l->si_type, &type, 4) != 4 ||
			      type != PL_PERLSI_MAIN))
			return -EPROTO;
		si = prev;
	}
	err = name_cv(pid, l, main_cv, interp, &n);
	plname_clear(&n);
	if (err)
		return -EPROTO;
	for (i = ix; i >= 0 && ix - i < PERL_CHECK_CONTEXTS; i--) {
		uint8_t t;
		uint64_t at = cx + (uint64_t)i * l->off.cx_size;

		if (read_mem(pid, at, &t, 1) != 1)
			return -EPROTO;
		if ((t & PERL_CXTYPEMASK) != PERL_CXT_SUB)
			continue;
		if (read_u64(pid, at + l->off.cx_cv, &cv))
			return -EPROTO;
		if (read_sv(pid, l, cv, &any, &flags) != PL_SVT_PVCV)
			return -EPROTO;
		err = name_cv(pid, l, cv, interp, &n);
		plname_clear(&n);
		if (err)
			return -EPROTO;
	}
	return 0;
}

/*
 * Says once that the layout does not fit the process (at attach, or on its first CVs), and
 * profiles it natively from then on, as a version without a layout.
 */
static void refuse(struct perl *pl, struct plproc *pp, const char *what)
{
	pr_warn("perl: process %u (Perl %u.%u): %s do not read as the %u.%u layout says (a build "
		"whose structures moved?): its Perl frames are not named, native frames only",
		pp->pid, pp->l.major, pp->l.minor, what, pp->l.major, pp->l.minor);
	pp->refused = true;
	bpf_map_delete_elem(pl->procs_fd, &pp->pid);
}

/* Checks pp's layout on its live interpreter when it can be: refuses it when it does not fit. */
static void check_proc(struct perl *pl, struct plproc *pp)
{
	int err, tries;

	if (pp->checked || pp->refused || pp->exited)
		return;
	/*
	 * A wrong layout fails every time; an interpreter caught between two steps (a context
	 * half pushed) fails once: tried again twice before it is refused.
	 */
	for (tries = 0; (err = check_live(pp)) == -EPROTO && tries < PERL_CHECK_TRIES; tries++)
		usleep(20000);
	if (err == -EAGAIN || err == -EFAULT)
		return;	/* later: at the next sync, or on the first names */
	pp->checked = true;
	if (err)
		refuse(pl, pp, "its interpreter and context stack");
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct perl *pl = ctx;
	struct plproc *pp = proc_find(pl, pid);
	struct perl_layout l;
	struct perl_proc bp = { 0 };
	size_t i;

	if (exited) {
		if (pp) {
			pp->exited = true;
			bpf_map_delete_elem(pl->procs_fd, &pid);
		}
		return;
	}
	/* ithreads: threads.so loaded (their interpreters are not the main one). */
	for (i = 0; pp && !pp->threads_told && !pp->refused && i < n; i++) {
		const char *b = strrchr(maps[i].path, '/');

		if (b && !strcmp(b, "/threads.so")) {
			pr_warn("perl: process %u uses ithreads: only its main interpreter's "
				"frames are named (in the main thread), other threads keep native "
				"frames", pid);
			pp->threads_told = true;
		}
	}
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct plfile *f;
		uint64_t bias;

		if (!m->ino || !perl__is_perl_name(m->path))
			continue;
		f = file_of(pl, pid, m);
		if (!f || !f->ok)
			continue;
		/* The executable segment is this mapping: file offset -> vaddr -> address. */
		if (m->pgoff < (f->x_off & ~4095ULL) || m->pgoff > f->x_off + 4096)
			continue;
		if (perl__layout(f->major, f->minor, &l)) {
			/* Once per file: not ok, it is not looked at again. */
			pr_warn("perl: Perl %u.%u.%u (%s, process %u) has no known layout (5.36 is "
				"supported): its Perl frames are not named, native frames only",
				f->major, f->minor, f->patch, m->path, pid);
			f->ok = false;
			continue;
		}
		skewed(pl, &l);
		if (pp && !pp->exited && pp->l.major == l.major && pp->l.minor == l.minor) {
			check_proc(pl, pp);	/* told already: checked once Perl runs */
			return;
		}
		bias = m->start - (m->pgoff - f->x_off + f->x_vaddr);
		if (!pp) {
			if (grow_array((void **)&pl->procs, &pl->cap_procs, pl->nr_procs + 1,
				       sizeof(*pp)))
				return;
			pp = &pl->procs[pl->nr_procs++];
		}
		memset(pp, 0, sizeof(*pp));
		pp->pid = pid;
		pp->l = l;
		pp->curinterp = f->curinterp + bias;
		check_proc(pl, pp);
		if (pp->refused)
			return;
		bp.curinterp = pp->curinterp;
		bp.main_cv_at = l.i_main_cv;
		bp.runops_start = f->runops + bias;
		bp.runops_end = f->runops + f->runops_size + bias;
		bp.off = l.off;
		if (bpf_map_update_elem(pl->procs_fd, &pid, &bp, BPF_ANY))
			pr_warn("perl: cannot add process %u: %s, ignoring", pid, strerror(errno));
		else
			pr_debug("perl: process %u runs Perl %u.%u.%u (%s)%s", pid, f->major,
				 f->minor, f->patch, m->path,
				 pp->checked ? ", layout checked on its interpreter" : "");
		return;
	}
}

static struct plname *name_slot(struct perl *pl, uint32_t pid, uint64_t cv)
{
	size_t j;

	if (!pl->cap_names)
		return NULL;
	j = hash_mix(cv ^ (uint64_t)pid << 48 ^ pid) & (pl->cap_names - 1);
	while (pl->names[j].cv) {
		if (pl->names[j].cv == cv && pl->names[j].pid == pid)
			return &pl->names[j];
		j = (j + 1) & (pl->cap_names - 1);
	}
	return &pl->names[j];
}

/* Rebuilds the table at cap (a power of two), leaving out exited processes' names when trim. */
static int names_rehash(struct perl *pl, size_t cap, bool trim)
{
	struct plname *old = pl->names, *s;
	size_t oldcap = pl->cap_names, i;

	pl->names = calloc(cap, sizeof(*pl->names));
	if (!pl->names) {
		pl->names = old;
		return -ENOMEM;
	}
	pl->cap_names = cap;
	pl->nr_names = 0;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].cv)
			continue;
		if (trim && !proc_find(pl, old[i].pid)) {
			plname_clear(&old[i]);
			continue;
		}
		s = name_slot(pl, old[i].pid, old[i].cv);
		*s = old[i];
		pl->nr_names++;
	}
	free(old);
	return 0;
}

static const struct plname *name_of(struct perl *pl, uint32_t pid, uint64_t cv)
{
	struct plproc *pp;
	struct plname *s, n;
	uint64_t interp = 0;
	int err;

	s = name_slot(pl, pid, cv);
	if (s && s->cv)
		return s;
	pp = proc_find(pl, pid);
	if (!pp || pp->exited || pp->refused || pl->nr_names >= PERL_MAX_NAMES)
		return NULL;
	read_u64(pid, pp->curinterp, &interp);
	err = name_cv(pid, &pp->l, cv, interp, &n);
	if (err == -EPROTO && !pp->good && ++pp->bad == PERL_BAD_NAMES)
		refuse(pl, pp, "its CVs");
	if (err)
		return NULL;
	pp->good++;
	if (asprintf(&n.qual, "%s::%s", n.pkg ? n.pkg : "?", n.sub ? n.sub : "?") < 0)
		n.qual = NULL;
	if ((pl->nr_names + 1) * 4 >= pl->cap_names * 3 &&
	    names_rehash(pl, pl->cap_names ? pl->cap_names * 2 : 1024, false)) {
		plname_clear(&n);
		return NULL;
	}
	s = name_slot(pl, pid, cv);
	*s = n;
	s->pid = pid;
	s->cv = cv;
	pl->nr_names++;
	return s;
}

static int runtime_frame(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			 struct runtime_sym *ret)
{
	struct perl *pl = ctx;
	const struct plname *n;
	uint32_t line = RUNTIME_FRAME_INSTR(frame);

	if (!PERL_FRAME_IS(frame))
		return -ENOENT;	/* another runtime's */
	n = name_of(pl, pid, RUNTIME_FRAME_CODE(frame));
	memset(ret, 0, sizeof(*ret));
	ret->name = pl->disp;
	if (!n) {
		snprintf(pl->disp, sizeof(pl->disp), "[perl sub 0x%llx]",
			 (unsigned long long)RUNTIME_FRAME_CODE(frame));
		return FRAME_PERL;
	}
	perl__format_name(pl->disp, sizeof(pl->disp), n->pkg, n->sub, n->file,
			  lines ? line : 0);
	/* pprof's function: the qualified name, as Perl shows it (caller, NYTProf). */
	ret->func = n->qual;
	ret->file = n->file;
	ret->line = line;
	return FRAME_PERL;
}

void perl__prefetch(struct perl *pl, uint32_t pid, const uint64_t *ustack, int n)
{
	int i;

	if (!pl)
		return;
	for (i = 0; i < n; i++)
		if (PERL_FRAME_IS(ustack[i]))
			name_of(pl, pid, RUNTIME_FRAME_CODE(ustack[i]));
}

void perl__trim(struct perl *pl)
{
	size_t i, k = 0;

	if (!pl)
		return;
	for (i = 0; i < pl->nr_procs; i++)
		if (!pl->procs[i].exited)
			pl->procs[k++] = pl->procs[i];
	if (k == pl->nr_procs)
		return;
	pl->nr_procs = k;
	if (pl->cap_names)
		names_rehash(pl, pl->cap_names, true);
}

void perl__use_symbolizer(struct perl *pl, struct symbolizer *sym)
{
	if (pl && sym && symbolizer__add_runtime_hook(sym, runtime_frame, pl))
		pr_warn("perl: too many language runtimes for the symbolizer: Perl frames unnamed");
}

struct perl *perl__new(struct sampler *smp, struct unwinder *uw)
{
	struct perl *pl;
	const char *skew = getenv("FLAMED_PERL_LAYOUT_SKEW");
	int fd = sampler__perl_procs_fd(smp);

	if (fd < 0 || !uw)
		return NULL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->smp = smp;
	pl->procs_fd = fd;
	if (skew) {
		pl->skew = atoi(skew) & 0xff8;	/* whole words, inside the structures */
		pr_warn("perl: FLAMED_PERL_LAYOUT_SKEW=%d: the Perl layout is made wrong (tests)",
			pl->skew);
	}
	if (unwinder__add_proc_hook(uw, on_proc, pl)) {
		free(pl);
		return NULL;
	}
	return pl;
}

void perl__free(struct perl *pl)
{
	struct plfile *f, *next;
	size_t i;

	if (!pl)
		return;
	for (i = 0; i < pl->cap_names; i++)
		plname_clear(&pl->names[i]);
	free(pl->names);
	free(pl->procs);
	for (f = pl->files; f; f = next) {
		next = f->next;
		free(f);
	}
	free(pl);
}
