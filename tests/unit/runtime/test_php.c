// SPDX-License-Identifier: GPL-2.0-only
/*
 * PHP frames, the pure parts: layout selection by version, the version a binary says it is,
 * which file names are PHP's, the frame encoding shared with BPF (and told apart from
 * Python's), and the names shown.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "runtime/php.h"
#include "runtime/python.h"

TEST(php_layouts)
{
	struct php_layout l;

	CHECK_EQ_INT(php__layout(8, 2, &l), 0);
	/* The fields BPF reads of a zend_execute_data are inside its read (PHP_ED_READ, 56). */
	CHECK(l.off.ed_opline + 8 <= 56 && l.off.ed_func + 8 <= 56 && l.off.ed_prev + 8 <= 56 &&
	      l.off.ed_call_info + 4 <= 56);
	CHECK_EQ_INT(l.off.eg_current, 488);
	CHECK_EQ_INT(php__layout(8, 1, &l), -ENOTSUP);
	CHECK_EQ_INT(php__layout(8, 3, &l), -ENOTSUP);
	CHECK_EQ_INT(php__layout(7, 4, &l), -ENOTSUP);
}

TEST(php_version_from_data)
{
	static const char data[] = "junk\0X-Powered-By: PHP/\0X-Powered-By: PHP/8.x\0"
				   "X-Powered-By: PHP/8.2.36\0more";
	unsigned int a = 0, b = 0, c = 0;

	CHECK_EQ_INT(php__version_from_data(data, sizeof(data), &a, &b, &c), 0);
	CHECK(a == 8 && b == 2 && c == 36);
	CHECK_EQ_INT(php__version_from_data(data, 30, &a, &b, &c), -ENOENT);
	/* Cut inside the version: not read past the end. */
	CHECK_EQ_INT(php__version_from_data("X-Powered-By: PHP/8.2", 21, &a, &b, &c), -ENOENT);
	CHECK_EQ_INT(php__version_from_data("X-Powered-By: PHP/7.4.0-dev", 27, &a, &b, &c), 0);
	CHECK(a == 7 && b == 4 && c == 0);
}

TEST(php_names)
{
	char buf[128];

	CHECK(php__is_php_name("/usr/bin/php8.2"));
	CHECK(php__is_php_name("/usr/local/bin/php"));
	CHECK(php__is_php_name("/usr/sbin/php-fpm8.2"));
	CHECK(php__is_php_name("/usr/lib/apache2/modules/libphp8.2.so"));
	CHECK(php__is_php_name("/usr/lib/libphp.so"));
	CHECK(!php__is_php_name("/usr/bin/phpize8.2"));
	CHECK(!php__is_php_name("/usr/bin/python3.11"));
	CHECK(!php__is_php_name("/usr/lib/x86_64-linux-gnu/libc.so.6"));

	php__format_name(buf, sizeof(buf), "Outer", "mid", false, "/srv/app/chain.php", 0);
	CHECK_EQ_STR(buf, "Outer::mid (chain.php)");
	php__format_name(buf, sizeof(buf), NULL, "leaf", false, "/srv/app/chain.php", 12);
	CHECK_EQ_STR(buf, "leaf (chain.php:12)");
	php__format_name(buf, sizeof(buf), "", NULL, false, "chain.php", 0);
	CHECK_EQ_STR(buf, "{main} (chain.php)");
	php__format_name(buf, sizeof(buf), NULL, NULL, true, NULL, 0);
	CHECK_EQ_STR(buf, "{eval} (?)");
}

TEST(php_frame_encoding)
{
	uint64_t func = 0x55d0c0ffee08ULL, v = PHP_FRAME(func, 12), py = RUNTIME_FRAME(func, 12);

	CHECK(RUNTIME_FRAME_IS(v) && RUNTIME_FRAME_IS(py));
	CHECK(PHP_FRAME_IS(v) && !PY_FRAME_IS(v));
	CHECK(PY_FRAME_IS(py) && !PHP_FRAME_IS(py));
	CHECK_EQ_INT(RUNTIME_FRAME_CODE(v), func);
	CHECK_EQ_INT(RUNTIME_FRAME_INSTR(v), 12);
	CHECK(!RUNTIME_FRAME_IS(0x7fffffffe000ULL));
	CHECK(!RUNTIME_FRAME_IS(0xffffffff81000000ULL));
	CHECK(!RUNTIME_FRAME_IS(0xffffffffffffff01ULL));	/* OFFCPU_STATE_ADDR */
}
