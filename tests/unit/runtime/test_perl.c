// SPDX-License-Identifier: GPL-2.0-only
/*
 * Perl frames, the pure parts: layout selection by version, which file names are Perl's, SV
 * types, the frame encoding shared with BPF (tag 3, the fifth runtime's) and the names shown;
 * and a CV read as the layout says from fake structures in this process's own memory.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/perl.h"
#include "runtime/php.h"
#include "runtime/python.h"
#include "runtime/ruby.h"
#include "runtime/v8.h"

TEST(perl_layouts)
{
	struct perl_layout l;

	CHECK_EQ_INT(perl__layout(5, 36, &l), 0);
	/* BPF reads Icurcop, Icurstack, Icurstackinfo at once (three words). */
	CHECK_EQ_INT(l.off.i_curstackinfo, l.off.i_curcop + 16);
	/* The context fields BPF reads are inside its read (PL_CX_READ, 80). */
	CHECK(l.off.cx_size == 104 && l.off.cx_cv + 8 <= 80 && l.off.cx_retop + 8 <= 80 &&
	      l.off.cx_oldcop + 8 <= 80);
	/* stackinfo up to si_cxix in BPF's 40-byte read. */
	CHECK(l.off.si_cxix + 4 <= 40 && l.off.si_prev + 8 <= 40 && l.off.si_cxstack + 8 <= 40);
	CHECK_EQ_INT(l.off.i_curcop, 208);
	CHECK_EQ_INT(l.i_main_cv, 1800);
	CHECK_EQ_INT(perl__layout(5, 34, &l), -ENOTSUP);
	CHECK_EQ_INT(perl__layout(5, 38, &l), -ENOTSUP);
	CHECK_EQ_INT(perl__layout(7, 36, &l), -ENOTSUP);
}

TEST(perl_names)
{
	char buf[128];

	CHECK(perl__is_perl_name("/usr/bin/perl"));
	CHECK(perl__is_perl_name("/usr/bin/perl5.36.0"));
	CHECK(perl__is_perl_name("/usr/lib/x86_64-linux-gnu/libperl.so.5.36"));
	CHECK(!perl__is_perl_name("/usr/bin/perldoc"));
	CHECK(!perl__is_perl_name("/usr/lib/x86_64-linux-gnu/perl5/5.36/auto/List/Util/Util.so"));
	CHECK(!perl__is_perl_name("/usr/bin/ruby3.1"));

	CHECK_EQ_INT(perl__sv_type(0x0000800d), 13);	/* SVt_PVCV */
	CHECK_EQ_INT(perl__sv_type(0x020000ff), -1);	/* freed: SVTYPEMASK */

	perl__format_name(buf, sizeof(buf), "Outer", "mid", "/srv/app/chain.pl", 0);
	CHECK_EQ_STR(buf, "Outer::mid (chain.pl)");
	perl__format_name(buf, sizeof(buf), "main", "leaf", "chain.pl", 17);
	CHECK_EQ_STR(buf, "main::leaf (chain.pl:17)");
	perl__format_name(buf, sizeof(buf), NULL, NULL, NULL, 0);
	CHECK_EQ_STR(buf, "?::? (?)");
}

TEST(perl_frame_encoding)
{
	uint64_t cv = 0x55d1c27a9f48ULL, v = PERL_FRAME(cv, 17);

	CHECK(RUNTIME_FRAME_IS(v) && PERL_FRAME_IS(v));
	CHECK(!RUBY_FRAME_IS(v) && !PHP_FRAME_IS(v) && !PY_FRAME_IS(v) && !V8_FRAME_IS(v));
	CHECK(!PERL_FRAME_IS(RUBY_FRAME(cv, 17)) && !PERL_FRAME_IS(PHP_FRAME(cv, 17)));
	CHECK_EQ_INT(RUNTIME_FRAME_CODE(v), cv);
	CHECK_EQ_INT(RUNTIME_FRAME_INSTR(v), 17);
	/* Tag 3, bit 63 clear: never a user address (below 2^56) nor a kernel one. */
	CHECK(!(v >> 63) && v >> 56);
	CHECK(!RUNTIME_FRAME_IS(0x7fffffffe000ULL) && !RUNTIME_FRAME_IS(0xffffffff81000000ULL));
	CHECK(!RUNTIME_FRAME_IS(0x00ffffffffffffffULL) && !RUNTIME_FRAME_IS(0x1fffffffffffffffULL));
	CHECK(!RUNTIME_FRAME_IS(0x8000000000000000ULL) && !RUNTIME_FRAME_IS(0));
	/* Tag 2 is HotSpot's (interpreted Java frames), the lowest. */
	CHECK(RUNTIME_FRAME_IS(0x2000000000000000ULL) && RUNTIME_FRAME_IS(0x7fffffffffffffffULL));
}

/* SVs laid out as 5.36 does: head { any, refcnt, flags, u }, bodies at the offsets cited. */
struct fake_sv {
	uint64_t any;
	uint32_t refcnt, flags;
	uint64_t u;
};

struct fake_hek {
	uint32_t hash;
	int32_t len;
	char key[16];
};

TEST(perl_read_cv_checks_the_layout)
{
	struct perl_layout l;
	static struct fake_sv cv, gv, hv;
	static uint64_t xcv[13], xgv[8], xhv[12];
	static struct fake_hek name = { 0, 4, "leaf" }, pkg = { 0, 5, "Outer" };
	static const char file[] = "/srv/chain.pl";
	/* Seen as a closure's file in a race: 0x564b93a4f9c0, a mangled tcache link. */
	static const char freed_link[] = "\xc0\xf9\xa4\x93KV";
	char buf[128];
	uint32_t pid = (uint32_t)getpid();

	CHECK_EQ_INT(perl__layout(5, 36, &l), 0);
	cv.any = (uint64_t)xcv;
	cv.flags = 13;				/* SVt_PVCV */
	xcv[l.xcv_gv / 8] = (uint64_t)&gv;
	xcv[l.xcv_file / 8] = (uint64_t)file;
	gv.any = (uint64_t)xgv;
	gv.flags = 9 | 0x8000;			/* SVt_PVGV, SVpgv_GP */
	xgv[l.xgv_name / 8] = (uint64_t)&name;
	xgv[l.xgv_stash / 8] = (uint64_t)&hv;
	hv.any = (uint64_t)xhv;
	hv.flags = 12 | 0x02000000;		/* SVt_PVHV, SVf_OOK */
	xhv[l.hv_aux / 8] = (uint64_t)&pkg;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Outer::leaf (chain.pl)");
	/* A lexical sub: CVf_NAMED, the HEK in xcv_gv_u, the stash the CV's. */
	xcv[l.xcv_gv / 8] = (uint64_t)&name;
	xcv[l.xcv_stash / 8] = (uint64_t)&hv;
	((uint32_t *)xcv)[l.xcv_flags / 4] = 0x8000;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Outer::leaf (chain.pl)");
	((uint32_t *)xcv)[l.xcv_flags / 4] = 0;
	/* No GV: an anonymous sub of the CV's stash. */
	xcv[l.xcv_gv / 8] = 0;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Outer::__ANON__ (chain.pl)");
	xcv[l.xcv_gv / 8] = (uint64_t)&gv;
	/*
	 * A CV freed as it is read: its file cleared (cv_undef's first step), or the string
	 * already free, holding malloc's link (a heap pointer's bytes) or nothing. Not named
	 * now (-EAGAIN), and so not kept: named at a later try.
	 */
	xcv[l.xcv_file / 8] = 0;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), -EAGAIN);
	xcv[l.xcv_file / 8] = (uint64_t)freed_link;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), -EAGAIN);
	xcv[l.xcv_file / 8] = (uint64_t)"";
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), -EAGAIN);
	xcv[l.xcv_file / 8] = (uint64_t)"/srv/\xc3\xa9t\xc3\xa9.pl";	/* UTF-8: a name */
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "Outer::leaf (\xc3\xa9t\xc3\xa9.pl)");
	xcv[l.xcv_file / 8] = (uint64_t)file;
	/* A layout whose GV offset is a word off: the GV is no GV. */
	l.xcv_gv += 8;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), -EPROTO);
	l.xcv_gv -= 8;
	/* Not a CV, a stash without its aux part: refused. */
	cv.flags = 9;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), -EPROTO);
	cv.flags = 13;
	hv.flags = 12;
	CHECK_EQ_INT(perl__read_cv(pid, &l, (uint64_t)&cv, buf, sizeof(buf)), -EPROTO);
}
