// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include <stdlib.h>

#include "harness.h"

static struct test_case *head, **tail = &head;

void harness_register(struct test_case *t)
{
	*tail = t;
	tail = &t->next;
}

int main(int argc, char **argv)
{
	const char *ci = getenv("CI");
	bool strict = ci && !strcmp(ci, "true");
	int passed = 0, failed = 0, skipped = 0;
	struct test_case *t;

	for (t = head; t; t = t->next) {
		int f = 0;

		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		if (t->hook && (argc < 2 || strcmp(t->name, argv[1])))
			continue;
		t->fn(&f);
		if (f == HARNESS_SKIPPED && strict) {
			printf("FAIL %s (skipped, and CI=true allows no skip)\n", t->name);
			failed++;
		} else if (f == HARNESS_SKIPPED) {
			printf("skip %s\n", t->name);
			skipped++;
		} else if (f) {
			printf("FAIL %s\n", t->name);
			failed++;
		} else {
			printf("ok   %s\n", t->name);
			passed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
