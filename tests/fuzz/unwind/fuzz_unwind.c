// SPDX-License-Identifier: GPL-2.0-only
/*
 * CFI of a hostile object: .eh_frame / .debug_frame compiled into unwind rows
 * (unwind_table__from_elf on an elf_memory image), then lookups and reference unwind steps
 * over a made-up stack.
 */
#include <errno.h>
#include <libelf.h>
#include <stdlib.h>

#include "fuzz.h"
#include "unwind/unwind_table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	elf_version(EV_CURRENT);
	return 0;
}

/* Memory of the made-up stack: any address reads as a value derived from it. */
static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	uint64_t v = addr * 0x9e3779b97f4a7c15ULL;

	if (addr & 7)
		return -EFAULT;
	memset(buf, 0, len);
	memcpy(buf, &v, len < 8 ? len : 8);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t pc = fuzz__hash(data, size);
	const struct unwind_table_stats *st;
	const struct unwind_row *rows;
	struct unwind_table *t;
	size_t n, i;
	int err = 0;
	char *buf;
	Elf *elf;

	fuzz__quiet();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	elf = elf_memory(buf, size);
	if (!elf)
		goto cleanup;
	t = unwind_table__from_elf(elf, &err);
	if (!t) {
		if (err >= 0)
			abort();
		goto cleanup;
	}
	n = unwind_table__nr_rows(t);
	rows = unwind_table__rows(t);
	st = unwind_table__stats(t);
	if (st->nr_rows != n)
		abort();
	/* Rows are sorted by pc: the BPF side binary-searches them. */
	for (i = 1; i < n; i++)
		if (rows[i - 1].pc > rows[i].pc)
			abort();
	for (i = 0; i < 4; i++) {
		struct unwind_regs r = { .ip = pc, .sp = 0x7ff000000000ULL, .bp = 0x7ff000001000ULL };
		const struct unwind_row *row = unwind_table__find(t, pc);

		if (row && (row < rows || row >= rows + n))
			abort();
		unwind_table__step(t, pc, &r, read_mem, NULL);
		if (n)
			pc = rows[pc % n].pc + (pc & 3);
	}
	unwind_table__free(t);
cleanup:
	elf_end(elf);
	free(buf);
	return 0;
}
