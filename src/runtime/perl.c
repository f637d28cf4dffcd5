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
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "base/log.h"
#include "base/util.h"
#include "sample/procs.h"
#include "sample/sampler.h"
#include "unwind/unwinder.h"
#include "aggregate/profile.h"
#include "symbolize/symbolize.h"
#include "runtime/rtbase.h"
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
	struct rt_proc h;	/* h.checked: the layout was checked on its running interpreter */
	bool threads_told;	/* "ithreads keep native frames" said */
	uint64_t curinterp;	/* address of PL_curinterp */
	struct perl_layout l;
};

/* A named CV of a process (h.addr). */
struct plname {
	struct rt_name h;
	char *pkg;		/* "main", "Outer" */
	char *sub;		/* "leaf", "RUNTIME" for the main program */
	char *file;		/* CvFILE */
	char *qual;		/* "main::leaf": pprof's function name */
};

/* What one file (by identity) holds, so each process's sync does not reread it. */
struct plfile {
	struct rt_file h;	/* h.ok: symbols and a version */
	unsigned int major, minor, patch;
	uint64_t curinterp, runops, runops_size;	/* ELF vaddrs */
	uint64_t rev, ver, sub;		/* PL_revision, PL_version, PL_subversion */
};

#define PERL_NAME_MAX 512
#define PERL_STR_MAX 400
/* Contexts the attach-time check looks at. */
#define PERL_CHECK_CONTEXTS 256
#define PERL_CHECK_TRIES 2

struct perl {
	struct sampler *smp;
	int skew;		/* FLAMED_PERL_LAYOUT_SKEW: a layout made wrong, for tests */
	struct rt_procs procs;	/* struct plproc */
	struct rt_names names;	/* struct plname */
	struct rt_files files;	/* struct plfile */
	char disp[PERL_NAME_MAX + 16];
};

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

static const struct rt_sym file_syms[] = {
	{ "PL_curinterp", offsetof(struct plfile, curinterp), RT_SYM_NO_SIZE },
	{ "Perl_runops_standard", offsetof(struct plfile, runops),
	  offsetof(struct plfile, runops_size) },
	{ "PL_revision", offsetof(struct plfile, rev), RT_SYM_NO_SIZE },
	{ "PL_version", offsetof(struct plfile, ver), RT_SYM_NO_SIZE },
	{ "PL_subversion", offsetof(struct plfile, sub), RT_SYM_NO_SIZE },
};

/* The symbols and version of a Perl file. */
static void file_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct plfile *f = (struct plfile *)rf;

	rtbase__file_find_symbols(elf, file_syms, ARRAY_SIZE(file_syms), f);
	if (f->curinterp && f->runops && f->runops_size && f->rev && f->ver) {
		f->major = file_byte(elf, fd, f->rev);
		f->minor = file_byte(elf, fd, f->ver);
		f->patch = file_byte(elf, fd, f->sub);
		f->h.ok = f->major == 5;
	}
	if (!f->h.ok)
		pr_debug("perl: %s has no PL_curinterp, Perl_runops_standard or PL_version",
			 m->path);
}

/*
 * A file name at addr (cut at PERL_STR_MAX): 0, -EPROTO, -EFAULT, -ENOMEM. Not empty, UTF-8
 * without control bytes: what a freed name holds instead is malloc's link, a heap pointer's
 * bytes, or nothing.
 */
static int read_cstr(uint32_t pid, uint64_t addr, char **ret)
{
	char buf[PERL_STR_MAX + 1];
	size_t n, i, k;
	uint32_t cp;

	*ret = NULL;
	if (addr < 4096)
		return -EPROTO;
	n = rtbase__read(pid, addr, buf, PERL_STR_MAX);
	if (!n)
		return -EFAULT;
	buf[n] = 0;
	if (!buf[0])
		return -EPROTO;
	for (i = 0; i < n && buf[i]; i += k) {
		k = utf8_decode((const unsigned char *)buf + i, n - i, &cp);
		if (!k || cp < 0x20)
			return -EPROTO;
	}
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
	if (rtbase__read(pid, hek + l->hek_len, &len, 4) != 4)
		return -EFAULT;
	if (len < 0 || len > PERL_STR_MAX)
		return -EPROTO;
	if (rtbase__read(pid, hek + l->hek_key, buf, (size_t)len) != (size_t)len)
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
	if (rtbase__read_u64(pid, sv, any) || rtbase__read_u32(pid, sv + l->sv_flags, flags))
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
	if (rtbase__read_u64(pid, any + l->hv_aux, &name) ||
	    rtbase__read(pid, any + l->aux_name_count, &count, 4) != 4)
		return -EFAULT;
	/* HvNAME_HEK_NN: with a count, name is an array of HEKs, the first one the name. */
	if (count && rtbase__read_u64(pid, name, &name))
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

static void name_clear(void *ctx, void *n)
{
	plname_clear(n);
}

/*
 * Reads the CV at cv of pid into ret (main_cv: the main program, named main::RUNTIME as
 * Devel::NYTProf does, in the script). 0 or -errno: -EPROTO when it is no CV or its GV and
 * stash are not what the layout says, -EFAULT when unreadable, -EAGAIN when being freed.
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
	if (rtbase__read_u64(pid, any + l->xcv_gv, &gv) ||
	    rtbase__read_u32(pid, any + l->xcv_flags, &cvflags) ||
	    rtbase__read_u64(pid, any + l->xcv_file, &file))
		return -EFAULT;
	if (interp)
		rtbase__read_u64(pid, interp + l->i_main_cv, &main_cv);
	if (cv == main_cv) {
		uint64_t orig;

		ret->pkg = strdup("main");
		ret->sub = strdup("RUNTIME");
		if (!rtbase__read_u64(pid, interp + l->i_origfilename, &orig))
			read_cstr(pid, orig, &ret->file);
		if (!ret->pkg || !ret->sub) {
			plname_clear(ret);
			return -ENOMEM;
		}
		return 0;
	}
	/*
	 * Every sub that runs has a file (an XSUB's is its C file): none is a CV being freed, as
	 * cv_undef clears CvFILE first, then its GV and stash, which would name it "__ANON__".
	 */
	if (!file)
		return -EAGAIN;
	if (cvflags & PL_CVF_NAMED) {
		/* No GV of its own (a package sub without one yet, a lexical sub): the HEK. */
		err = read_hek(pid, l, gv, &ret->sub);
		if (!err && !rtbase__read_u64(pid, any + l->xcv_stash, &stash) && stash)
			err = read_stash(pid, l, stash, &ret->pkg);
	} else if (!gv) {
		/* No GV (gone, or never set): __ANON__ of its stash, as anonymous subs are. */
		ret->sub = strdup("__ANON__");
		err = ret->sub ? 0 : -ENOMEM;
		if (!err && !rtbase__read_u64(pid, any + l->xcv_stash, &stash) && stash)
			err = read_stash(pid, l, stash, &ret->pkg);
	} else {
		t = read_sv(pid, l, gv, &gvany, &gvflags);
		err = t < 0 ? t : t != PL_SVT_PVGV || !gvany ? -EPROTO : 0;
		if (!err)
			err = rtbase__read_u64(pid, gvany + l->xgv_stash, &stash);
		if (!err) {
			uint64_t hek;

			err = rtbase__read_u64(pid, gvany + l->xgv_name, &hek);
			if (!err)
				err = read_hek(pid, l, hek, &ret->sub);
		}
		if (!err && stash)
			err = read_stash(pid, l, stash, &ret->pkg);
	}
	/* A file that does not read as one: a CV freed as it was read (name_cv_settled). */
	if (!err) {
		err = read_cstr(pid, file, &ret->file);
		if (err && err != -ENOMEM)
			err = -EAGAIN;
	}
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
	uint32_t pid = pp->h.pid, line, flags;
	int32_t ix, max, type;
	struct plname n;
	int i, err;

	if (rtbase__read_u64(pid, pp->curinterp, &interp))
		return -EFAULT;
	if (!interp)
		return -EAGAIN;
	if (rtbase__read_u64(pid, interp + l->i_main_cv, &main_cv))
		return -EPROTO;
	if (!main_cv)
		return -EAGAIN;
	/* Icurcop, Icurstack, Icurstackinfo: three words BPF reads at once. */
	if (l->off.i_curstackinfo != l->off.i_curcop + 16 ||
	    rtbase__read(pid, interp + l->off.i_curcop, w, sizeof(w)) != sizeof(w))
		return -EPROTO;
	if (!w[0] || rtbase__read_u32(pid, w[0] + l->off.cop_line, &line) || line > (1U << 24))
		return -EPROTO;
	si = w[2];
	if (!si || rtbase__read(pid, si + l->off.si_cxix, &ix, 4) != 4 ||
	    rtbase__read(pid, si + l->si_cxmax, &max, 4) != 4 ||
	    rtbase__read_u64(pid, si + l->off.si_cxstack, &cx))
		return -EPROTO;
	if (ix < -1 || ix > max || max > (1 << 20) || !cx)
		return -EPROTO;
	/* The bottom stackinfo is PERLSI_MAIN: si_prev NULL there. */
	for (i = 0; i < 64 && si; i++) {
		uint64_t prev;

		if (rtbase__read_u64(pid, si + l->off.si_prev, &prev))
			return -EPROTO;
		if (!prev && (rtbase__read(pid, si + l->si_type, &type, 4) != 4 ||
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

		if (rtbase__read(pid, at, &t, 1) != 1)
			return -EPROTO;
		if ((t & PERL_CXTYPEMASK) != PERL_CXT_SUB)
			continue;
		if (rtbase__read_u64(pid, at + l->off.cx_cv, &cv))
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
		pp->h.pid, pp->l.major, pp->l.minor, what, pp->l.major, pp->l.minor);
	rtbase__proc_refuse(&pl->procs, &pp->h);
}

/* Checks pp's layout on its live interpreter when it can be: refuses it when it does not fit. */
static void check_proc(struct perl *pl, struct plproc *pp)
{
	int err, tries;

	if (pp->h.checked || pp->h.refused || pp->h.exited)
		return;
	/*
	 * A wrong layout fails every time; an interpreter caught between two steps (a context
	 * half pushed) fails once: tried again twice before it is refused.
	 */
	for (tries = 0; (err = check_live(pp)) == -EPROTO && tries < PERL_CHECK_TRIES; tries++)
		usleep(20000);
	if (err == -EAGAIN || err == -EFAULT)
		return;	/* later: at the next sync, or on the first names */
	pp->h.checked = true;
	if (err)
		refuse(pl, pp, "its interpreter and context stack");
}

static void on_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct perl *pl = ctx;
	struct plproc *pp = rtbase__proc_find(&pl->procs, pid);
	struct perl_layout l;
	struct perl_proc bp = { 0 };
	size_t i;

	if (exited) {
		rtbase__proc_exited(&pl->procs, pid);
		return;
	}
	/* ithreads: threads.so loaded (their interpreters are not the main one). */
	for (i = 0; pp && !pp->threads_told && !pp->h.refused && i < n; i++) {
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
		f = rtbase__file_of(&pl->files, pid, m);
		/* The executable segment is this mapping: file offset -> vaddr -> address. */
		if (!f || !f->h.ok || !rtbase__file_bias(&f->h, m, &bias))
			continue;
		if (perl__layout(f->major, f->minor, &l)) {
			/* Once per file: not ok, it is not looked at again. */
			pr_warn("perl: Perl %u.%u.%u (%s, process %u) has no known layout (5.36 is "
				"supported): its Perl frames are not named, native frames only",
				f->major, f->minor, f->patch, m->path, pid);
			f->h.ok = false;
			continue;
		}
		skewed(pl, &l);
		if (pp && !pp->h.exited && pp->l.major == l.major && pp->l.minor == l.minor) {
			check_proc(pl, pp);	/* told already: checked once Perl runs */
			return;
		}
		pp = rtbase__proc_add(&pl->procs, pid);
		if (!pp)
			return;
		pp->l = l;
		pp->curinterp = f->curinterp + bias;
		check_proc(pl, pp);
		if (pp->h.refused)
			return;
		bp.curinterp = pp->curinterp;
		bp.main_cv_at = l.i_main_cv;
		bp.runops_start = f->runops + bias;
		bp.runops_end = f->runops + f->runops_size + bias;
		bp.off = l.off;
		if (bpf_map_update_elem(pl->procs.map_fd, &pid, &bp, BPF_ANY))
			pr_warn("perl: cannot add process %u: %s, ignoring", pid, strerror(errno));
		else
			pr_debug("perl: process %u runs Perl %u.%u.%u (%s)%s", pid, f->major,
				 f->minor, f->patch, m->path,
				 pp->h.checked ? ", layout checked on its interpreter" : "");
		return;
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * name_cv read twice, the same both times: -EAGAIN when not. The process runs on while it is
 * read, and a closure's CV lives one call (microseconds): threaded perls give each clone a
 * malloc'd copy of its file name (CvDYNFILE), freed with it and overwritten by malloc's own
 * links, and the next clone takes the same head, body and string again. A read across a free
 * had named the closure with a heap pointer's bytes as its file, kept for the CV's address:
 * half the samples of a List::Util::first block misnamed for the rest of the run. read_cstr
 * refuses what is no file name, and a second read, from the CV's head on, differs from a
 * torn first one. Namings are rare (once a CV): twice is cheap.
 */
static int name_cv_settled(uint32_t pid, const struct perl_layout *l, uint64_t cv,
			   uint64_t interp, struct plname *ret)
{
	struct plname again;
	int err = name_cv(pid, l, cv, interp, ret);

	if (err)
		return err;
	err = name_cv(pid, l, cv, interp, &again);
	if (!err && !(same_str(ret->pkg, again.pkg) && same_str(ret->sub, again.sub) &&
		      same_str(ret->file, again.file)))
		err = -EAGAIN;
	plname_clear(&again);
	if (err)
		plname_clear(ret);
	return err;
}

static const struct plname *name_of(struct perl *pl, uint32_t pid, uint64_t cv)
{
	struct plproc *pp;
	struct plname *s, n;
	uint64_t interp = 0;
	int err;

	s = rtbase__name_find(&pl->names, pid, cv);
	if (s)
		return s;
	pp = rtbase__proc_find(&pl->procs, pid);
	if (!pp || pp->h.exited || pp->h.refused || pl->names.nr >= RTBASE_MAX_NAMES)
		return NULL;
	rtbase__read_u64(pid, pp->curinterp, &interp);
	err = name_cv_settled(pid, &pp->l, cv, interp, &n);
	if (rtbase__proc_judge(&pp->h, err))
		refuse(pl, pp, "its CVs");
	if (err)
		return NULL;
	if (asprintf(&n.qual, "%s::%s", n.pkg ? n.pkg : "?", n.sub ? n.sub : "?") < 0)
		n.qual = NULL;
	return rtbase__name_add(&pl->names, pid, cv, &n);
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
	if (pl && rtbase__procs_trim(&pl->procs))
		rtbase__names_trim(&pl->names, &pl->procs);
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
	rtbase__procs_init(&pl->procs, fd, sizeof(struct plproc));
	rtbase__names_init(&pl->names, sizeof(struct plname), name_clear, pl);
	pl->files = (struct rt_files){ "perl", sizeof(struct plfile), file_scan, NULL, NULL };
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
	if (!pl)
		return;
	rtbase__names_release(&pl->names);
	rtbase__procs_release(&pl->procs);
	rtbase__files_release(&pl->files);
	free(pl);
}
