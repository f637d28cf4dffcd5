// SPDX-License-Identifier: GPL-2.0-only
/*
 * Python str objects as read from a profiled process (src/runtime/python.c): the first byte
 * picks the CPython layout (3.7-3.13) and the output size, the rest is the object's bytes. The
 * process is hostile or racing (a freed, reused object): anything is refused or decoded into
 * NUL-terminated, valid UTF-8 within the output.
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
	struct python_layout l;
	char out[256];
	size_t outlen;
	int n;

	if (size < 1)
		return 0;
	if (python__layout(3, 7 + data[0] % 7, &l))
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
	return 0;
}
