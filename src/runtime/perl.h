/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Perl frames (perl 5.36, threaded). Finds Perl in processes (libperl, or a perl binary with
 * it built in, exporting PL_curinterp, Perl_runops_standard and PL_version), tells the BPF
 * unwinder where the main interpreter pointer is and which native frames run Perl code
 * (bpf/perl.h), and names the frames it emitted: a CV read from the process becomes
 * "Package::sub (file.pl)". A language runtime module like src/runtime/ruby.c.
 */
#ifndef FLAMED_PERL_H
#define FLAMED_PERL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/perl.h"

/* The layout of one Perl version: what BPF needs, and what checks and naming need. */
struct perl_layout {
	unsigned int major, minor;
	struct perl_offsets off;
	uint16_t i_main_cv;		/* PerlInterpreter.Imain_cv */
	uint16_t i_origfilename;	/* PerlInterpreter.Iorigfilename: the script */
	uint16_t si_cxmax;		/* struct stackinfo.si_cxmax (an I32) */
	uint16_t si_type;		/* struct stackinfo.si_type (an I32) */
	uint16_t cop_file;		/* COP.cop_file: a char * under ithreads */
	uint16_t sv_flags;		/* struct sv.sv_flags */
	uint16_t sv_u;			/* struct sv.sv_u (HvARRAY of a hash) */
	uint16_t xcv_stash;		/* XPVCV.xcv_stash */
	uint16_t xcv_gv;		/* XPVCV.xcv_gv_u: a GV, or a HEK with CVf_NAMED */
	uint16_t xcv_file;		/* XPVCV.xcv_file: a char * */
	uint16_t xcv_flags;		/* XPVCV.xcv_flags (a U32) */
	uint16_t xgv_name;		/* XPVGV.xiv_u.xivu_namehek */
	uint16_t xgv_stash;		/* XPVGV.xnv_u.xgv_stash */
	uint16_t hv_aux;		/* struct xpvhv_with_aux.xhv_aux */
	uint16_t aux_name_count;	/* ... xhv_aux.xhv_name_count (an I32), name_u at hv_aux */
	uint16_t hek_len, hek_key;	/* struct hek.hek_len (an I32), .hek_key */
};

/* The layout of Perl 5.minor: 0, or -ENOTSUP for a version without a known layout. */
int perl__layout(unsigned int major, unsigned int minor, struct perl_layout *ret);

/* True for the file names Perl's binaries have: perl, perl5.36.0, libperl.so.5.36. */
bool perl__is_perl_name(const char *path);

/* sv_flags' type (SVt_PVCV...) or -1 when flags are not those of a live SV of that type. */
int perl__sv_type(uint32_t flags);

/* "Package::sub (file)" with the file's base name, ":line" when line is not 0. */
int perl__format_name(char *out, size_t outlen, const char *pkg, const char *sub,
		      const char *file, uint32_t line);

/*
 * The CV at cv of process pid read with layout l, as "Package::sub (file)" into out: 0;
 * -EPROTO when it, its GV or its stash is not what the layout says; -EFAULT when unreadable.
 */
int perl__read_cv(uint32_t pid, const struct perl_layout *l, uint64_t cv, char *out,
		  size_t outlen);

struct perl;
struct sampler;
struct unwinder;
struct symbolizer;

/* NULL without DWARF unwinding (Perl frames are found by the BPF unwinder) or on ENOMEM. */
struct perl *perl__new(struct sampler *smp, struct unwinder *uw);
void perl__use_symbolizer(struct perl *pl, struct symbolizer *sym);
void perl__free(struct perl *pl);
/* Names the Perl frames of a stack now, while the process lives. */
void perl__prefetch(struct perl *pl, uint32_t pid, const uint64_t *ustack, int n);
/* Forgets exited processes and their names (after a profile has used them). */
void perl__trim(struct perl *pl);

#endif
