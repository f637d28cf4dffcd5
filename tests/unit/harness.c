// SPDX-License-Identifier: GPL-2.0-only
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
	int passed = 0, failed = 0;
	struct test_case *t;

	for (t = head; t; t = t->next) {
		int f = 0;

		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		t->fn(&f);
		printf("%s %s\n", f ? "FAIL" : "ok  ", t->name);
		if (f)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
