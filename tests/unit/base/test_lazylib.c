// SPDX-License-Identifier: GPL-2.0-only
/* Libraries opened at first use: loaded once, every later call the same; failures say why. */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "harness.h"
#include "base/lazylib.h"

#define Z_SYMS(X) X(zlibVersion) X(crc32)
LAZYLIB(zlib, "libz.so.1", Z_SYMS);

/* A function the library does not have: the declaration only lends its type. */
int no_such_function_in_zlib(void);
#define BAD_SYMS(X) X(zlibVersion) X(no_such_function_in_zlib)
LAZYLIB(badsym, "libz.so.1", BAD_SYMS);

#define NOLIB_SYMS(X) X(zlibVersion)
LAZYLIB(nolib, "libflamed-no-such-library.so.9", NOLIB_SYMS);

TEST(lazylib_loads_once_and_calls)
{
	CHECK_EQ_INT(lazylib__load(&zlib), 0);
	CHECK_EQ_INT(lazylib__load(&zlib), 0);
	CHECK_EQ_STR(zlib_fn.zlibVersion(), zlibVersion());
	CHECK_EQ_INT(zlib_fn.crc32(0, (const Bytef *)"abc", 3), 0x352441c2);
}

TEST(lazylib_failures_say_why)
{
	CHECK_EQ_INT(lazylib__load(&badsym), -ENOENT);
	CHECK(strstr(lazylib__why(&badsym), "no_such_function_in_zlib") != NULL);
	CHECK(badsym.handle == NULL);
	CHECK_EQ_INT(lazylib__load(&nolib), -ENOENT);
	CHECK(strstr(lazylib__why(&nolib), "libflamed-no-such-library.so.9") != NULL);
	/* Not retried: the same answer. */
	CHECK_EQ_INT(lazylib__load(&nolib), -ENOENT);
}
