#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Unwind table build cost and size (src/unwind/unwind_table.c): for libc, python3 and libLLVM, the
# median of 5 builds with our CFA interpreter and with the libdw reference builder
# (dwarf_cfi_addrframe per state), rows, bytes, and the share of unsupported rows and code;
# then the table memory a python3 process needs (every file it maps executable). Tables of
# whole system directories, and agreement with libdw and readelf -wF, are covered by
# tests/unit/unwind/test_unwind_table.c.
# Usage: bench/unwind/unwind_tables.sh [FILE...]
set -eu
cd "$(dirname "$0")/../.."
T=$(mktemp -d)
PY=
trap '[ -n "$PY" ] && kill "$PY" 2>/dev/null; rm -rf "$T"' EXIT

cat >"$T/tabstat.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unwind_table.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @runs builds in ms; the last table is returned in *ret. */
static double build_ms(Elf *elf, bool libdw, int runs, struct unwind_table **ret, int *err)
{
	double t[16];
	int i;

	*ret = NULL;
	for (i = 0; i < runs; i++) {
		double t0 = now();
		struct unwind_table *tab = libdw ? unwind_table__from_elf_libdw(elf, err)
						 : unwind_table__from_elf(elf, err);

		t[i] = (now() - t0) * 1e3;
		if (!tab)
			return -1;
		unwind_table__free(*ret);
		*ret = tab;
	}
	qsort(t, runs, sizeof(t[0]), dcmp);
	return t[runs / 2];
}

static int do_time(int argc, char **argv)
{
	int i, j, runs = 5;

	printf("%-28s %9s %9s %8s %7s %9s %7s %10s %10s %8s\n", "file", "size MB", "FDEs",
	       "rows", "B/row", "table KB", "ms", "libdw ms", "unsup rows", "unsup code");
	for (i = 0; i < argc; i++) {
		struct unwind_table *t = NULL, *l = NULL;
		const struct unwind_table_stats *s;
		double ms, lms;
		uint64_t code = 0;
		size_t unsup;
		int err = 0, fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		Elf *elf;
		const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];

		if (fd < 0) {
			printf("%-28s missing\n", base);
			continue;
		}
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		ms = build_ms(elf, false, runs, &t, &err);
		if (ms < 0) {
			printf("%-28s no table: %s\n", base, strerror(-err));
			goto next;
		}
		lms = build_ms(elf, true, runs, &l, &err);
		s = unwind_table__stats(t);
		unsup = s->rows_by_cfa[CFA_UNSUPPORTED];
		for (j = 0; j < 8; j++)
			code += s->code_bytes_by_cfa[j];
		printf("%-28s %9.1f %9zu %8zu %7.1f %9.1f %7.1f %10.1f %9.3f%% %7.3f%%\n", base,
		       lseek(fd, 0, SEEK_END) / 1048576.0, s->nr_fdes, s->nr_rows,
		       (double)s->bytes / s->nr_rows, s->bytes / 1024.0, ms, lms,
		       100.0 * unsup / s->nr_rows,
		       code ? 100.0 * s->code_bytes_by_cfa[CFA_UNSUPPORTED] / code : 0);
		if (l && (unwind_table__nr_rows(l) != s->nr_rows ||
			  memcmp(unwind_table__rows(l), unwind_table__rows(t), s->bytes)))
			printf("  !! libdw builder disagrees\n");
		printf("  rows by CFA type: none %zu rsp %zu rbp %zu plt %zu end %zu deref-rbp %zu "
		       "unsupported %zu; padding gaps %zu\n",
		       s->rows_by_cfa[CFA_NONE], s->rows_by_cfa[CFA_RSP], s->rows_by_cfa[CFA_RBP],
		       s->rows_by_cfa[CFA_PLT], s->rows_by_cfa[CFA_END],
		       s->rows_by_cfa[CFA_DEREF_RBP], unsup, s->gaps_padding);
		if (unsup) {
			printf("  unsupported:");
			for (j = 0; j < UNSUP__MAX; j++)
				if (s->unsup_rows[j])
					printf(" %s %zu", unwind_unsup_names[j], s->unsup_rows[j]);
			printf("\n");
		}
next:
		unwind_table__free(t);
		unwind_table__free(l);
		elf_end(elf);
		close(fd);
	}
	return 0;
}

/* Table memory for one process: every distinct file it maps executable. */
static int do_proc(const char *pid)
{
	char path[64], line[4096], seen[64][1024];
	size_t rows = 0, bytes = 0;
	int nr = 0, i;
	double t0 = now();
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		char perms[8], file[1024] = "";
		struct unwind_table *t;
		int err = 0;

		if (sscanf(line, "%*s %7s %*s %*s %*s %1023[^\n]", perms, file) != 2 ||
		    perms[2] != 'x' || file[0] != '/')
			continue;
		for (i = 0; i < nr && strcmp(seen[i], file); i++)
			;
		if (i < nr || nr == 64)
			continue;
		snprintf(seen[nr++], sizeof(seen[0]), "%s", file);
		t = unwind_table__from_path(file, &err);
		if (!t) {
			printf("  %-48s no table: %s\n", file, strerror(-err));
			continue;
		}
		printf("  %-48s %8zu rows %9.1f KB\n", file, unwind_table__nr_rows(t),
		       unwind_table__stats(t)->bytes / 1024.0);
		rows += unwind_table__nr_rows(t);
		bytes += unwind_table__stats(t)->bytes;
		unwind_table__free(t);
	}
	fclose(f);
	printf("  total: %d files, %zu rows, %.1f KB, built in %.1f ms\n", nr, rows,
	       bytes / 1024.0, (now() - t0) * 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	elf_version(EV_CURRENT);
	if (argc > 2 && !strcmp(argv[1], "proc"))
		return do_proc(argv[2]);
	return do_time(argc - 1, argv + 1);
}
EOF

# Only our module: the benchmark must not depend on the rest of the tree building.
${CC:-cc} -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -Isrc "$T/tabstat.c" src/unwind/unwind_table.c src/base/rootfs.c \
	$(pkg-config --cflags --libs libelf libdw) -o "$T/tabstat"

LIB=/usr/lib/x86_64-linux-gnu
if [ $# -gt 0 ]; then
	FILES=("$@")
else
	FILES=("$(readlink -f $LIB/libc.so.6)" /usr/bin/python3.11)
	for f in $LIB/libLLVM-14.so.1 $LIB/libLLVM-15.so.1; do
		[ -e "$f" ] && FILES+=("$(readlink -f "$f")")
	done
fi
echo "== build time (median of 5) and size"
"$T/tabstat" "${FILES[@]}"

echo "== table memory of an idle python3.11 process"
/usr/bin/python3.11 -c 'import time; time.sleep(60)' &
PY=$!
sleep 1
"$T/tabstat" proc "$PY"
