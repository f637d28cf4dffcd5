/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny unit-test harness: TEST(name) defines a test, CHECK* record failures without stopping,
 * SKIP(why) records that (part of) a test did not run, and the runner prints
 * "N passed, N failed, N skipped" as its last line. A skip is never counted as a pass; under
 * CI=true it is a failure (CI runs as root with every tool installed).
 */
#ifndef FLAMED_HARNESS_H
#define FLAMED_HARNESS_H

#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(int *failed);
	struct test_case *next;
	int hook;	/* runs only when named on the command line, and is no test otherwise */
};

void harness_register(struct test_case *t);

#define TEST_CASE(n, is_hook)                                                                      \
	static void test_##n(int *failed);                                                         \
	static struct test_case tc_##n = { #n, test_##n, NULL, is_hook };                          \
	__attribute__((constructor)) static void reg_##n(void)                                     \
	{                                                                                          \
		harness_register(&tc_##n);                                                         \
	}                                                                                          \
	static void test_##n(int *failed)

#define TEST(n) TEST_CASE(n, 0)
/* A helper an end-to-end script runs by name (with its inputs in the environment). */
#define TEST_HOOK(n) TEST_CASE(n, 1)

/* *failed: 0 passed, 1 failed, HARNESS_SKIPPED skipped (a later failure still wins). */
#define HARNESS_SKIPPED (-1)

#define SKIP(why)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "  skip: %s\n", (why));                                           \
		if (!*failed)                                                                      \
			*failed = HARNESS_SKIPPED;                                                 \
	} while (0)

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
