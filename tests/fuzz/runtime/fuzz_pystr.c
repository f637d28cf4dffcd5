// SPDX-License-Identifier: GPL-2.0-only
/*
 * Python str objects as read from a profiled process (src/runtime/python.c): the first byte
 * picks the CPython layout (3.6-3.13) and the output size, the rest is the object's bytes. The
 * process is hostile or racing (a freed, reused object): anything is refused or decoded into
 * NUL-terminated, valid UTF-8 within the output. The same bytes as 3.13's _Py_DebugOffsets
 * (read from the same process): refused with the layout untouched, or adopted with every
 * offset within what BPF reads.
 */
#include <stdlib.h>

#include "runtime/python.h"
#include "fuzz.h"

static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80)
			len = 1;
		else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			len = 2;
		else if ((c & 0xf0) == 0xe0)
			len = 3;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			len = 4;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct python_layout l, t;
	char out[256];
	size_t outlen;
	int n;

	if (size < 1)
		return 0;
	if (python__layout(3, 6 + data[0] % 8, &l))
		abort();
	outlen = 1 + (data[0] >> 3) * 8;	/* 1 to 249: cuts at every width */
	memset(out, 0x5a, sizeof(out));
	n = python__decode_str(&l, data + 1, size - 1, out, outlen);
	if (n >= 0) {
		if ((size_t)n >= outlen || out[n] || strlen(out) != (size_t)n ||
		    !valid_utf8((const unsigned char *)out, n))
			abort();
	}
	if (out[outlen - 1] != 0 && memchr(out, 0, outlen) == NULL)
		abort();
	if (out[outlen] != 0x5a)
		abort();	/* wrote past the output */

	if (python__layout(3, 13, &l))
		abort();
	t = l;
	n = python__debug_offsets(&l, data + 1, size - 1);
	if (n < 0 && memcmp(&l, &t, sizeof(l)))
		abort();
	if (n >= 0 && (l.off.fr_code > 120 || l.off.fr_previous > 120 || l.off.fr_instr > 120 ||
		       l.off.fr_entry > 127 || l.str_ascii_size > 72 || l.co_name >= PY_NO_OFF))
		abort();
	return 0;
}
