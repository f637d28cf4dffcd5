// SPDX-License-Identifier: GPL-2.0-only
/*
 * Spins on a stack whose top is the end of a mapping, followed by an inaccessible page: the
 * unwinder's reads near the outermost frames cannot run past the stack's end (makecontext
 * stacks, fibers, coroutines and small thread stacks look like this).
 * Usage: ctxstack SECONDS
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#include "workload.h"

static double end;
static ucontext_t main_ctx, fiber_ctx;

__attribute__((noinline)) void fiber_leaf(void)
{
	SPIN_UNTIL(end);
}

__attribute__((noinline)) void fiber_mid(void)
{
	fiber_leaf();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void fiber_entry(void)
{
	fiber_mid();
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	size_t page = 4096, size = 16 * page;
	char *stack;

	end = now() + (argc > 1 ? atof(argv[1]) : 2.0);
	/* The stack, then a guard page above its top. */
	stack = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED || mprotect(stack + size, page, PROT_NONE))
		return 1;
	getcontext(&fiber_ctx);
	fiber_ctx.uc_stack.ss_sp = stack;
	fiber_ctx.uc_stack.ss_size = size;
	fiber_ctx.uc_link = &main_ctx;
	makecontext(&fiber_ctx, fiber_entry, 0);
	swapcontext(&main_ctx, &fiber_ctx);
	return 0;
}
