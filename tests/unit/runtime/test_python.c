// SPDX-License-Identifier: GPL-2.0-only
/*
 * Python frames, the pure parts: layout selection by version, the version in a file name, the
 * frame encoding shared with BPF, str objects decoded from the bytes read from a process
 * (ASCII, Latin-1, UCS-2, UCS-4; cut, bogus and non-compact headers refused), and the layout
 * checked against what an interpreter says of itself (3.13's _Py_DebugOffsets, member tables).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "runtime/python.h"

TEST(python_layouts)
{
	struct python_layout l;
	unsigned int minor;

	for (minor = 6; minor <= 13; minor++) {
		CHECK_EQ_INT(python__layout(3, minor, &l), 0);
		CHECK_EQ_INT(l.minor, minor);
		CHECK(l.off.model == (minor <= 10 ? PY_MODEL_FRAMEOBJ
				      : minor == 11 ? PY_MODEL_ENTRY : PY_MODEL_SHIM));
		/* co_qualname from 3.11 on; every offset the BPF reads is inside its 128-byte window */
		CHECK((l.co_qualname != PY_NO_OFF) == (minor >= 11));
		CHECK(l.off.fr_code < 128 && l.off.fr_previous < 128 && l.off.fr_instr + 8 <= 128);
		CHECK_EQ_INT(l.str_ascii_size, minor >= 12 ? 40 : 48);
		/* only 3.6 finds its interpreter through the GIL holder's thread state */
		CHECK((l.off.ts_interp != 0) == (minor == 6));
	}
	CHECK_EQ_INT(python__layout(3, 5, &l), -ENOTSUP);
	CHECK_EQ_INT(python__layout(3, 14, &l), -ENOTSUP);
	CHECK_EQ_INT(python__layout(2, 7, &l), -ENOTSUP);
	/* Spot checks against the headers (3.11: _PyCFrame.current_frame, is_entry). */
	python__layout(3, 11, &l);
	CHECK_EQ_INT(l.off.cframe_current, 8);
	CHECK_EQ_INT(l.off.fr_entry, 68);
	python__layout(3, 13, &l);
	CHECK_EQ_INT(l.off.cframe_current, PY_NO_OFF);
	CHECK_EQ_INT(l.off.ts_frame, 72);
}

/* 3.13's _Py_DebugOffsets as 3.13.0 fills it (offsets of Include/internal/pycore_runtime.h). */
static void put_dbg(uint8_t *buf, size_t at, uint64_t v)
{
	memcpy(buf + at, &v, 8);
}

static void dbg313(uint8_t *buf)
{
	static const uint16_t f[][2] = {
		{ 40, 632 }, { 72, 7344 }, { 168, 8 }, { 184, 72 }, { 192, 152 }, { 232, 8 },
		{ 240, 0 }, { 248, 56 }, { 264, 70 }, { 280, 112 }, { 288, 120 }, { 296, 128 },
		{ 304, 136 }, { 312, 68 }, { 344, 200 }, { 560, 40 },
	};
	size_t i;

	memset(buf, 0, 600);
	memcpy(buf, "xdebugpy", 8);
	put_dbg(buf, 8, 0x030d00f0);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		put_dbg(buf, f[i][0], f[i][1]);
}

TEST(python_debug_offsets)
{
	struct python_layout l, t;
	uint8_t buf[600];

	python__layout(3, 13, &t);
	/* The table agrees with what 3.13.0 says of itself. */
	dbg313(buf);
	l = t;
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), 0);
	CHECK(!memcmp(&l, &t, sizeof(l)));
	/* A patch release that moved fields: theirs are adopted, counted. */
	put_dbg(buf, 288, 124);
	put_dbg(buf, 248, 64);
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), 2);
	CHECK_EQ_INT(l.co_name, 124);
	CHECK_EQ_INT(l.off.fr_instr, 64);
	CHECK_EQ_INT(l.co_filename, 112);
	/* Refused, l untouched: no cookie, cut, another version, free-threaded, out of reach. */
	l = t;
	dbg313(buf);
	buf[0] = 'X';
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), -EINVAL);
	dbg313(buf);
	CHECK_EQ_INT(python__debug_offsets(&l, buf, 400), -EINVAL);
	put_dbg(buf, 8, 0x030e00f0);
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), -ENOTSUP);
	dbg313(buf);
	put_dbg(buf, 16, 1);
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), -ENOTSUP);
	dbg313(buf);
	put_dbg(buf, 248, 200);	/* instr_ptr past BPF's 128-byte frame window */
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), -ENOTSUP);
	put_dbg(buf, 248, 56);
	put_dbg(buf, 280, 1 << 20);
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), -ENOTSUP);
	CHECK(!memcmp(&l, &t, sizeof(l)));
	/* Only 3.13's layout of the struct is known. */
	python__layout(3, 12, &l);
	dbg313(buf);
	put_dbg(buf, 8, 0x030c00f0);
	CHECK_EQ_INT(python__debug_offsets(&l, buf, sizeof(buf)), -ENOTSUP);
}

TEST(python_members)
{
	struct python_layout l;

	python__layout(3, 8, &l);
	CHECK_EQ_INT(python__member(&l, false, "co_name", 112), 0);
	CHECK_EQ_INT(python__member(&l, false, "co_name", 120), 1);
	CHECK_EQ_INT(l.co_name, 120);
	CHECK_EQ_INT(python__member(&l, false, "co_lnotab", 128), 1);
	CHECK_EQ_INT(l.co_linetable, 128);
	CHECK_EQ_INT(python__member(&l, false, "co_linetable", 64), -ENOENT);
	CHECK_EQ_INT(python__member(&l, false, "co_qualname", 64), -ENOENT);
	CHECK_EQ_INT(python__member(&l, false, "co_argcount", 16), -ENOENT);
	CHECK_EQ_INT(python__member(&l, true, "f_lasti", 104), 0);
	CHECK_EQ_INT(python__member(&l, true, "f_back", 32), 1);
	CHECK_EQ_INT(l.off.fr_previous, 32);
	CHECK_EQ_INT(python__member(&l, true, "f_code", 124), -ENOTSUP);
	CHECK_EQ_INT(l.off.fr_code, 32);
	/* 3.10 reads co_linetable, not co_lnotab (a computed attribute there) */
	python__layout(3, 10, &l);
	CHECK_EQ_INT(python__member(&l, false, "co_lnotab", 64), -ENOENT);
	CHECK_EQ_INT(python__member(&l, false, "co_linetable", 120), 0);
	/* 3.11+ frames are not objects: their member table is not flamed's layout */
	python__layout(3, 12, &l);
	CHECK_EQ_INT(python__member(&l, true, "f_back", 8), -ENOENT);
	CHECK_EQ_INT(python__member(&l, false, "co_qualname", 128), 0);
}

TEST(python_version_from_name)
{
	static const struct {
		const char *path;
		int ret;
		unsigned int minor;
	} cases[] = {
		{ "/usr/bin/python3.11", 0, 11 },
		{ "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0", 0, 12 },
		{ "/opt/lib/libpython3.7m.so.1.0", 0, 7 },
		{ "python3.13d", 0, 13 },
		{ "/usr/bin/python3", -EINVAL, 0 },
		{ "/usr/bin/python3.11-config", -EINVAL, 0 },
		{ "/usr/bin/python3.", -EINVAL, 0 },
		{ "/usr/lib/libpython2.7.so", -EINVAL, 0 },
		{ "/usr/bin/python3.1234", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	unsigned int major, minor;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = python__version_from_name(cases[i].path, &major, &minor);

		CHECK_EQ_INT(r, cases[i].ret);
		if (!r && !cases[i].ret) {
			CHECK_EQ_INT(major, 3);
			CHECK_EQ_INT(minor, cases[i].minor);
		}
	}
}

TEST(python_frame_encoding)
{
	uint64_t code = 0x7f12345678f0ULL, v = RUNTIME_FRAME(code, 42);

	CHECK(RUNTIME_FRAME_IS(v));
	CHECK_EQ_INT(RUNTIME_FRAME_CODE(v), code);
	CHECK_EQ_INT(RUNTIME_FRAME_INSTR(v), 42);
	/* Neither a user nor a kernel address is a runtime frame. */
	CHECK(!RUNTIME_FRAME_IS(0x7fffffffe000ULL));
	CHECK(!RUNTIME_FRAME_IS(0xffffffff81000000ULL));
	CHECK(!RUNTIME_FRAME_IS(0));
}

/* A str object of layout l: header with length and state, then the characters. */
static size_t make_str(const struct python_layout *l, uint8_t *buf, int kind, int ascii,
		       int compact, const void *chars, int64_t length)
{
	uint32_t state = (uint32_t)kind << 2 | (uint32_t)compact << 5 | (uint32_t)ascii << 6;
	size_t data = ascii ? l->str_ascii_size : l->str_compact_size;

	memset(buf, 0xa5, data);
	memcpy(buf + 16, &length, 8);
	memcpy(buf + 32, &state, 4);
	memcpy(buf + data, chars, (size_t)length * kind);
	return data + (size_t)length * kind;
}

TEST(python_decode_str)
{
	struct python_layout l;
	uint8_t buf[512];
	char out[64];
	const uint16_t ucs2[] = { 'c', 0x00e9, 0x4e2d };
	const uint32_t ucs4[] = { 'x', 0x1f600 };
	const uint32_t bad4[] = { 0xd800, 0x110000 };
	size_t n;
	unsigned int minor;

	for (minor = 6; minor <= 13; minor++) {
		python__layout(3, minor, &l);
		n = make_str(&l, buf, 1, 1, 1, "outer", 5);
		CHECK_EQ_INT(python__decode_str(&l, buf, n, out, sizeof(out)), 5);
		CHECK_EQ_STR(out, "outer");
		/* Cut: only what was read. */
		CHECK_EQ_INT(python__decode_str(&l, buf, n - 2, out, sizeof(out)), 3);
		CHECK_EQ_STR(out, "out");
		/* Cut by the output size, never past it. */
		CHECK_EQ_INT(python__decode_str(&l, buf, n, out, 4), 3);
		CHECK_EQ_STR(out, "out");
	}
	python__layout(3, 11, &l);
	n = make_str(&l, buf, 1, 0, 1, "caf\xe9", 4);	/* Latin-1 */
	CHECK_EQ_INT(python__decode_str(&l, buf, n, out, sizeof(out)), 5);
	CHECK_EQ_STR(out, "caf\xc3\xa9");
	n = make_str(&l, buf, 2, 0, 1, ucs2, 3);
	CHECK(python__decode_str(&l, buf, n, out, sizeof(out)) > 0);
	CHECK_EQ_STR(out, "c\xc3\xa9\xe4\xb8\xad");
	n = make_str(&l, buf, 4, 0, 1, ucs4, 2);
	CHECK(python__decode_str(&l, buf, n, out, sizeof(out)) > 0);
	CHECK_EQ_STR(out, "x\xf0\x9f\x98\x80");
	/* Surrogates and out-of-range code points become U+FFFD, never invalid UTF-8. */
	n = make_str(&l, buf, 4, 0, 1, bad4, 2);
	CHECK(python__decode_str(&l, buf, n, out, sizeof(out)) > 0);
	CHECK_EQ_STR(out, "\xef\xbf\xbd\xef\xbf\xbd");
	/* Refused: not compact, ASCII flag with a wide kind, kind 3, negative length, short. */
	n = make_str(&l, buf, 1, 1, 0, "abc", 3);
	CHECK_EQ_INT(python__decode_str(&l, buf, n, out, sizeof(out)), -EINVAL);
	CHECK_EQ_STR(out, "");
	n = make_str(&l, buf, 2, 1, 1, ucs2, 3);
	CHECK_EQ_INT(python__decode_str(&l, buf, n, out, sizeof(out)), -EINVAL);
	n = make_str(&l, buf, 3, 0, 1, "abcdef", 2);
	CHECK_EQ_INT(python__decode_str(&l, buf, n, out, sizeof(out)), -EINVAL);
	n = make_str(&l, buf, 1, 1, 1, "", 0);
	memcpy(buf + 16, &(int64_t){ -1 }, 8);
	CHECK_EQ_INT(python__decode_str(&l, buf, n, out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(python__decode_str(&l, buf, 20, out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(python__decode_str(&l, buf, n, out, 0), -EINVAL);
}

/*
 * Line tables made by CPython itself, for this function (first line 1), compiled by 3.8, 3.10,
 * 3.11 and 3.13: each table, then the line of each instruction (code unit) as CPython gives it
 * (co_lines() from 3.10 on, 0 where it has none; dis.findlinestarts in 3.8).
 *
 * def f(n):
 *     x = 0
 *
 *     for i in range(n):
 *         if i % 3:
 *             x += i
 *         else:
 *             x -= 1
 *     try:
 *         y = 1 / 0
 *     except ZeroDivisionError:
 *         y = 2
 *     return x + y
 */
/* 3.8 */
static const uint8_t tab_38[] = {0, 1, 4, 2, 12, 1, 8, 1, 10, 2, 10, 1, 2, 1, 12, 1, 14, 1, 10, 1};
static const uint16_t lines_38[] = {
	2, 2, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 8, 8, 8, 8, 8, 9, 10, 10, 10, 10, 10, 10,
	11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 13, 13, 13, 13
};
/* 3.10 */
static const uint8_t tab_310[] = {
	4, 1, 12, 2, 8, 1, 10, 1, 10, 2, 2, 1, 10, 1, 8, 3, 12, 254, 6, 1, 8, 1, 2, 254
};
static const uint16_t lines_310[] = {
	2, 2, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 8, 8, 8, 8, 8, 9, 10, 10, 10, 10, 10, 13,
	13, 13, 13, 11, 11, 11, 11, 11, 11, 12, 12, 12, 13, 13, 13, 13, 11
};
/* 3.13 */
static const uint8_t tab_313[] = {
	128, 0, 216, 8, 9, 128, 65, 228, 13, 18, 144, 49, 142, 88, 136, 1, 216, 11, 12, 136, 113,
	143, 53, 216, 12, 13, 137, 70, 138, 65, 224, 12, 13, 144, 17, 137, 70, 138, 65, 241, 9, 0,
	14, 22, 240, 10, 3, 5, 14, 216, 12, 13, 144, 1, 137, 69, 136, 1, 240, 6, 0, 12, 13, 137, 53,
	128, 76, 248, 244, 5, 0, 12, 29, 243, 0, 1, 5, 14, 216, 12, 13, 137, 1, 216, 11, 12, 137,
	53, 128, 76, 240, 5, 1, 5, 14, 250
};
static const uint16_t lines_313[] = {
	1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6,
	6, 6, 8, 8, 8, 8, 8, 8, 8, 4, 4, 9, 10, 10, 10, 10, 10, 13, 13, 13, 13, 0, 11, 11, 11, 11,
	11, 11, 11, 11, 11, 12, 12, 12, 13, 13, 13, 13, 11, 0, 0, 0
};
/* 3.11 */
static const uint8_t tab_311[] = {
	128, 0, 216, 8, 9, 128, 65, 229, 13, 18, 144, 49, 137, 88, 140, 88, 240, 0, 4, 5, 19, 240,
	0, 4, 5, 19, 136, 1, 216, 11, 12, 136, 113, 137, 53, 240, 0, 3, 9, 19, 216, 12, 13, 144, 17,
	137, 70, 136, 65, 136, 65, 224, 12, 13, 144, 17, 137, 70, 136, 65, 136, 65, 240, 2, 3, 5,
	14, 216, 12, 13, 144, 1, 137, 69, 136, 1, 136, 1, 248, 221, 11, 28, 240, 0, 1, 5, 14, 240,
	0, 1, 5, 14, 240, 0, 1, 5, 14, 216, 12, 13, 136, 1, 136, 1, 136, 1, 240, 3, 1, 5, 14, 248,
	248, 248, 224, 11, 12, 136, 113, 137, 53, 128, 76
};
static const uint16_t lines_311[] = {
	1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6,
	8, 8, 8, 8, 8, 8, 9, 10, 10, 10, 10, 10, 10, 0, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12,
	12, 12, 11, 0, 0, 0, 13, 13, 13, 13, 13
};

static void check_lines(int *failed, unsigned int minor, const uint8_t *tab, size_t len, const uint16_t *want,
			size_t n)
{
	struct python_layout l;
	size_t i;

	CHECK_EQ_INT(python__layout(3, minor, &l), 0);
	for (i = 0; i < n; i++) {
		/* What BPF reports: f_lasti + 1 (bytes in 3.8, code units in 3.10), else index + 1. */
		uint32_t instr = l.line_format == PY_LINES_LNOTAB ? i * 2 + 1 : i + 1;

		CHECK_EQ_INT(python__line(&l, tab, len, 1, instr), want[i]);
	}
	/* Unknown instruction, and an empty table: no line (3.8's is the first line). */
	CHECK_EQ_INT(python__line(&l, tab, len, 1, 0), 0);
	CHECK_EQ_INT(python__line(&l, tab, 0, 1, 1), minor < 10 ? 1 : 0);
	/* Past the table's end: 3.8 keeps the last line, the others know none. */
	CHECK_EQ_INT(python__line(&l, tab, len, 1, 60000), minor < 10 ? want[n - 1] : 0);
	/* A cut table never reads past its length nor names a line past it. */
	for (i = 0; i < len; i++)
		python__line(&l, tab, i, 1, 40);
}

TEST(python_lines)
{
#define LINES(m) check_lines(failed, m, tab_3##m, sizeof(tab_3##m), lines_3##m, \
			       sizeof(lines_3##m) / sizeof(lines_3##m[0]))
	LINES(8);
	LINES(10);
	LINES(11);
	LINES(13);
#undef LINES
}
