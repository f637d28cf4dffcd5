// SPDX-License-Identifier: GPL-2.0-only
/*
 * Python frames, the pure parts: layout selection by version, the version in a file name, the
 * frame encoding shared with BPF, and str objects decoded from the bytes read from a process
 * (ASCII, Latin-1, UCS-2, UCS-4; cut, bogus and non-compact headers refused).
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

	for (minor = 7; minor <= 13; minor++) {
		CHECK_EQ_INT(python__layout(3, minor, &l), 0);
		CHECK_EQ_INT(l.minor, minor);
		CHECK(l.off.model == (minor <= 10 ? PY_MODEL_FRAMEOBJ
				      : minor == 11 ? PY_MODEL_ENTRY : PY_MODEL_SHIM));
		/* co_qualname from 3.11 on; every offset the BPF reads is inside its 128-byte window */
		CHECK((l.co_qualname != PY_NO_OFF) == (minor >= 11));
		CHECK(l.off.fr_code < 128 && l.off.fr_previous < 128 && l.off.fr_instr + 8 <= 128);
		CHECK_EQ_INT(l.str_ascii_size, minor >= 12 ? 40 : 48);
	}
	CHECK_EQ_INT(python__layout(3, 6, &l), -ENOTSUP);
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

	for (minor = 7; minor <= 13; minor++) {
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
