// SPDX-License-Identifier: GPL-2.0-only
/*
 * PHP frames, the pure parts: layout selection by version, the version a binary says it is,
 * which file names are PHP's, the frame encoding shared with BPF (and told apart from
 * Python's), and the names shown.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

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

/* A zend_string as PHP 8.2 lays it out (gc refcount, type_info, hash, len, val). */
struct fake_zstr {
	uint32_t refcount, type_info;
	uint64_t h, len;
	char val[32];
};

static void fake_zstr(struct fake_zstr *z, const char *s, uint32_t type_info)
{
	memset(z, 0, sizeof(*z));
	z->type_info = type_info;
	z->len = strlen(s);
	memcpy(z->val, s, z->len);
}

/*
 * The layout is checked on what it leads to: a function read from this process's own memory
 * (fake structures at the 8.2 offsets) is named when its strings are zend_strings, refused
 * with -EPROTO when they are not, and -EINVAL when it is no user function.
 */
TEST(php_read_function_checks_the_layout)
{
	static struct fake_zstr name, cname, file, notstr;
	static uint64_t ce[4];
	static unsigned char fn[256] __attribute__((aligned(8)));
	struct php_layout l;
	char out[128];
	uint64_t p;
	uint32_t pid = getpid();

	CHECK_EQ_INT(php__layout(8, 2, &l), 0);
	fake_zstr(&name, "mid", 6 | 0x40);	/* IS_STRING, interned */
	fake_zstr(&cname, "Outer", 6 | 0x40);
	fake_zstr(&file, "/srv/app.php", 6);
	fake_zstr(&notstr, "mid", 7);		/* an array's type */
	p = (uintptr_t)&cname;
	memcpy(&ce[l.ce_name / 8], &p, 8);
	memset(fn, 0, sizeof(fn));
	fn[l.off.fn_type] = 2;			/* ZEND_USER_FUNCTION */
	p = (uintptr_t)&name;
	memcpy(fn + l.fn_name, &p, 8);
	p = (uintptr_t)ce;
	memcpy(fn + l.fn_scope, &p, 8);
	p = (uintptr_t)&file;
	memcpy(fn + l.op_filename, &p, 8);
	CHECK_EQ_INT(php__read_function(pid, &l, (uintptr_t)fn, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "Outer::mid (/srv/app.php)");

	/* A function name that is not a string: the offsets do not fit. */
	p = (uintptr_t)&notstr;
	memcpy(fn + l.fn_name, &p, 8);
	CHECK_EQ_INT(php__read_function(pid, &l, (uintptr_t)fn, out, sizeof(out)), -EPROTO);
	/* No file at all: the same. */
	p = (uintptr_t)&name;
	memcpy(fn + l.fn_name, &p, 8);
	memset(fn + l.op_filename, 0, 8);
	CHECK_EQ_INT(php__read_function(pid, &l, (uintptr_t)fn, out, sizeof(out)), -EPROTO);
	/* An internal function (freed and reused memory looks like this): not a layout error. */
	fn[l.off.fn_type] = 1;
	CHECK_EQ_INT(php__read_function(pid, &l, (uintptr_t)fn, out, sizeof(out)), -EINVAL);
}
