/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny unit-test harness: TEST(name) defines a test, CHECK* record failures without stopping,
 * and the runner prints "N passed, N failed" as its last line.
 */
#ifndef FLAMED_HARNESS_H
#define FLAMED_HARNESS_H

#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(int *failed);
	struct test_case *next;
};

void harness_register(struct test_case *t);

#define TEST(n)                                                                                    \
	static void test_##n(int *failed);                                                         \
	static struct test_case tc_##n = { #n, test_##n, NULL };                                   \
	__attribute__((constructor)) static void reg_##n(void)                                     \
	{                                                                                          \
		harness_register(&tc_##n);                                                         \
	}                                                                                          \
	static void test_##n(int *failed)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			*failed = 1;                                                               \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, \
				_a, _b);                                                           \
			*failed = 1;                                                               \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b)) {                                                \
			fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,      \
				__LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");             \
			*failed = 1;                                                               \
		}                                                                                  \
	} while (0)

#endif
