// SPDX-License-Identifier: GPL-2.0-only
/*
 * The runtimes' shared scaffolding (src/runtime/rtbase.c): reads of this process's own memory
 * across a page boundary, the name cache across its growth and its trim, the process table's
 * trim and its refusal count, and the file cache on this test's own executable.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "harness.h"
#include "base/util.h"
#include "sample/procs.h"
#include "runtime/rtbase.h"

TEST(rtbase_read_across_a_page_boundary)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[64];
	uint64_t v64 = 0;
	uint32_t v32 = 0;
	uint32_t pid = getpid();

	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	memcpy(p + pg - 4, "abcdefgh", 8);
	/* Both pages readable: the whole range, in two parts. */
	CHECK_EQ_INT(rtbase__read(pid, (uint64_t)(uintptr_t)(p + pg - 4), buf, 8), 8);
	CHECK(!memcmp(buf, "abcdefgh", 8));
	CHECK_EQ_INT(rtbase__read_u64(pid, (uint64_t)(uintptr_t)(p + pg - 4), &v64), 0);
	CHECK(!memcmp(&v64, "abcdefgh", 8));
	CHECK_EQ_INT(rtbase__read_u32(pid, (uint64_t)(uintptr_t)(p + pg - 2), &v32), 0);
	CHECK(!memcmp(&v32, "cdef", 4));
	/* The second page gone: what the first holds, and no whole value. */
	CHECK_EQ_INT(mprotect(p + pg, pg, PROT_NONE), 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(rtbase__read(pid, (uint64_t)(uintptr_t)(p + pg - 4), buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "abcd", 4));
	CHECK_EQ_INT(rtbase__read_all(pid, (uint64_t)(uintptr_t)(p + pg - 4), buf, 8), -EFAULT);
	CHECK_EQ_INT(rtbase__read_all(pid, (uint64_t)(uintptr_t)(p + pg - 4), buf, 4), 0);
	CHECK_EQ_INT(rtbase__read_u64(pid, (uint64_t)(uintptr_t)(p + pg - 4), &v64), -EFAULT);
	CHECK_EQ_INT(rtbase__read(pid, (uint64_t)(uintptr_t)(p + pg), buf, 8), 0);
	CHECK_EQ_INT(rtbase__read(pid, 0, buf, 8), 0);
	munmap(p, 2 * pg);
}

/* A runtime's name: the header, then what it holds. */
struct test_name {
	struct rt_name h;
	char *s;
	uint64_t v;
};

static int cleared;

static void test_name_clear(void *ctx, void *entry)
{
	struct test_name *n = entry;

	free(n->s);
	memset(n, 0, sizeof(*n));
	cleared++;
}

static void *add_name(struct rt_names *t, uint32_t pid, uint64_t addr)
{
	struct test_name n = { .v = addr * 3 + pid };
	char s[32];

	snprintf(s, sizeof(s), "%u:%llu", pid, (unsigned long long)addr);
	n.s = strdup(s);
	return rtbase__name_add(t, pid, addr, &n);
}

TEST(rtbase_names_keep_entries_across_a_rehash)
{
	struct rt_names t;
	struct test_name *n;
	uint64_t a;
	int bad = 0;

	rtbase__names_init(&t, sizeof(struct test_name), test_name_clear, NULL);
	CHECK(!rtbase__name_find(&t, 1, 0x1000));
	cleared = 0;
	/* 3000 names: the 1024 slots grown at 3/4 full, twice. */
	for (a = 1; a <= 3000; a++)
		if (!add_name(&t, 1 + a % 3, a * 16))
			bad++;
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(t.nr, 3000);
	CHECK_EQ_INT(t.cap, 4096);
	CHECK_EQ_INT(cleared, 0);
	for (a = 1; a <= 3000; a++) {
		uint32_t pid = 1 + a % 3;
		char s[32];

		snprintf(s, sizeof(s), "%u:%llu", pid, (unsigned long long)a * 16);
		n = rtbase__name_find(&t, pid, a * 16);
		if (!n || n->h.pid != pid || n->h.addr != a * 16 || n->v != a * 16 * 3 + pid ||
		    strcmp(n->s, s))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	/* Another process's same address is another name. */
	CHECK(!rtbase__name_find(&t, 4, 16));
	CHECK(!rtbase__name_find(&t, 1, 16 * 3001));
	rtbase__names_release(&t);
	CHECK_EQ_INT(cleared, 3000);
	CHECK_EQ_INT(t.nr, 0);
	rtbase__names_release(NULL);
}

/* A runtime's process: the header, then its own. */
struct test_proc {
	struct rt_proc h;
	uint64_t mine;
};

TEST(rtbase_trim_drops_exited_processes_names)
{
	struct rt_procs procs;
	struct rt_names names;
	struct test_proc *p;
	uint32_t pid;
	uint64_t a;
	int bad = 0;

	/* No BPF map here: fd -1, whose deletes fail harmlessly. */
	rtbase__procs_init(&procs, -1, sizeof(struct test_proc));
	rtbase__names_init(&names, sizeof(struct test_name), test_name_clear, NULL);
	for (pid = 100; pid < 110; pid++) {
		p = rtbase__proc_add(&procs, pid);
		CHECK(p != NULL);
		if (!p)
			return;
		p->mine = pid * 7;
	}
	CHECK_EQ_INT(procs.nr, 10);
	for (pid = 100; pid < 110; pid++)
		for (a = 1; a <= 100; a++)
			add_name(&names, pid, a * 8);
	CHECK_EQ_INT(names.nr, 1000);
	/* Nothing exited: nothing to trim. */
	CHECK(!rtbase__procs_trim(&procs));
	rtbase__proc_exited(&procs, 103);
	rtbase__proc_exited(&procs, 107);
	rtbase__proc_exited(&procs, 999);	/* never added: ignored */
	p = rtbase__proc_find(&procs, 103);
	CHECK(p && p->h.exited);
	/* Exited, their names stay until the trim (a profile still to be built uses them). */
	CHECK(rtbase__name_find(&names, 103, 8) != NULL);
	cleared = 0;
	CHECK(rtbase__procs_trim(&procs));
	rtbase__names_trim(&names, &procs);
	CHECK_EQ_INT(procs.nr, 8);
	CHECK_EQ_INT(names.nr, 800);
	CHECK_EQ_INT(cleared, 200);
	CHECK(!rtbase__proc_find(&procs, 103) && !rtbase__proc_find(&procs, 107));
	for (pid = 100; pid < 110; pid++) {
		bool gone = pid == 103 || pid == 107;

		p = rtbase__proc_find(&procs, pid);
		if (!gone && (!p || p->mine != pid * 7 || p->h.exited))
			bad++;
		for (a = 1; a <= 100; a++)
			if (!rtbase__name_find(&names, pid, a * 8) != gone)
				bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(!rtbase__procs_trim(&procs));
	rtbase__names_release(&names);
	rtbase__procs_release(&procs);
	rtbase__procs_release(NULL);
}

TEST(rtbase_proc_add_starts_over_and_judge_refuses)
{
	struct rt_procs procs;
	struct test_proc *p;
	int i;

	rtbase__procs_init(&procs, -1, sizeof(struct test_proc));
	p = rtbase__proc_add(&procs, 42);
	CHECK(p != NULL);
	if (!p)
		return;
	p->mine = 1;
	p->h.exited = true;
	p->h.good = 3;
	/* Told again (an exec): the same entry, as new. */
	CHECK(rtbase__proc_add(&procs, 42) == p);
	CHECK(p->h.pid == 42 && !p->h.exited && !p->h.good && !p->mine);
	CHECK_EQ_INT(procs.nr, 1);

	/* RTBASE_BAD_NAMES misreads with none good before: refused at the last, once. */
	for (i = 1; i < RTBASE_BAD_NAMES; i++)
		CHECK(!rtbase__proc_judge(&p->h, -EPROTO));
	CHECK(!rtbase__proc_judge(&p->h, -EFAULT));	/* unreadable: no verdict on the layout */
	CHECK(rtbase__proc_judge(&p->h, -EPROTO));
	CHECK(!rtbase__proc_judge(&p->h, -EPROTO));
	rtbase__proc_refuse(&procs, &p->h);
	CHECK(p->h.refused);

	/* One good name first: the layout fits, later misreads are not held against it. */
	p = rtbase__proc_add(&procs, 43);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(!rtbase__proc_judge(&p->h, 0));
	for (i = 0; i < 3 * RTBASE_BAD_NAMES; i++)
		CHECK(!rtbase__proc_judge(&p->h, -EPROTO));
	CHECK_EQ_INT(p->h.good, 1);
	rtbase__procs_release(&procs);
}

TEST(rtbase_file_bias)
{
	struct rt_file f = { .x_off = 0x1000, .x_vaddr = 0x401000 };
	struct map_entry m = { .start = 0x7f0000001000, .pgoff = 0x1000 };
	uint64_t bias = 0;

	CHECK(rtbase__file_bias(&f, &m, &bias));
	CHECK_EQ_INT(bias, 0x7f0000001000 - 0x401000);
	m.pgoff = 0;	/* the read-only segment before it */
	CHECK(!rtbase__file_bias(&f, &m, &bias));
	m.pgoff = 0x3000;	/* a later one */
	CHECK(!rtbase__file_bias(&f, &m, &bias));
}

static struct {
	int scans;
} scan_ctx;

struct test_file {
	struct rt_file h;
	bool found, dyn_found;		/* rtbase__read seen (in .dynsym) */
	unsigned int syms, dynsyms;	/* symbols seen (in .dynsym) */
	char *held;
	uint64_t read_at, read_size, u64_at;
};

static void test_sym(void *ctx, const char *name, const GElf_Sym *sym)
{
	struct test_file *f = ctx;

	f->syms++;
	if (!strcmp(name, "rtbase__read") && sym->st_value)
		f->found = true;
}

static void test_dynsym(void *ctx, const char *name, const GElf_Sym *sym)
{
	struct test_file *f = ctx;

	f->dynsyms++;
	if (!strcmp(name, "rtbase__read"))
		f->dyn_found = true;
}

static const struct rt_sym test_syms[] = {
	{ "rtbase__read", offsetof(struct test_file, read_at),
	  offsetof(struct test_file, read_size) },
	{ "rtbase__read_u64", offsetof(struct test_file, u64_at), RT_SYM_NO_SIZE },
};

static void test_scan(struct rt_file *rf, Elf *elf, int fd, const struct map_entry *m,
		      uint32_t pid)
{
	struct test_file *f = (struct test_file *)rf;

	scan_ctx.scans++;
	rtbase__file_symbols(elf, test_sym, f);
	rtbase__file_dynsyms(elf, test_dynsym, f);
	rtbase__file_find_symbols(elf, test_syms, ARRAY_SIZE(test_syms), f);
	f->h.ok = f->found && fd >= 0;
	f->held = strdup(m->path);
}

static int files_cleared;

static void test_file_clear(struct rt_file *rf)
{
	free(((struct test_file *)rf)->held);
	files_cleared++;
}

TEST(rtbase_file_of_reads_a_file_once)
{
	struct rt_files files = { "test", sizeof(struct test_file), test_scan, test_file_clear,
				  NULL };
	char exe[4096], line[8192], path[4096];
	struct map_entry m = { 0 };
	struct test_file *f, *g;
	FILE *maps;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	bool have = false;

	CHECK(n > 0);
	if (n <= 0)
		return;
	exe[n] = 0;
	maps = fopen("/proc/self/maps", "r");
	CHECK(maps != NULL);
	if (!maps)
		return;
	/* This test's own executable segment. */
	while (!have && fgets(line, sizeof(line), maps)) {
		size_t plen;

		if (maps__parse_line(line, strlen(line), &m, &plen) != 1 || plen >= sizeof(path))
			continue;
		memcpy(path, m.path, plen);
		path[plen] = 0;
		have = !strcmp(path, exe);
	}
	fclose(maps);
	CHECK(have);
	if (!have)
		return;
	m.path = path;
	memset(&scan_ctx, 0, sizeof(scan_ctx));
	files_cleared = 0;
	f = rtbase__file_of(&files, getpid(), &m);
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(f->h.ok);
	CHECK_EQ_STR(f->held, exe);
	/* The table's symbols, with the size where asked. */
	CHECK(f->read_at && f->read_size && f->u64_at && f->u64_at != f->read_at);
	/* .dynsym alone: not this executable's own functions (linked without -rdynamic). */
	CHECK(!f->dyn_found);
	CHECK(f->dynsyms < f->syms);
	/* The executable segment found for the runtime: this mapping is it. */
	{
		uint64_t bias;

		CHECK(f->h.x_vaddr != 0 || f->h.x_off != 0);
		CHECK(rtbase__file_bias(&f->h, &m, &bias));
		CHECK(f->h.x_vaddr + bias + (m.pgoff - f->h.x_off) == m.start);
	}
	/* Again: the same file, not scanned again. */
	g = rtbase__file_of(&files, getpid(), &m);
	CHECK(g == f);
	CHECK_EQ_INT(scan_ctx.scans, 1);
	/*
	 * Another identity (not this mapping, and the path names another inode): another file,
	 * kept though it cannot be opened, not scanned.
	 */
	m.ino++;
	m.start = m.end = 0;
	g = rtbase__file_of(&files, getpid(), &m);
	CHECK(g != NULL && g != f && !g->h.ok);
	CHECK_EQ_INT(scan_ctx.scans, 1);
	rtbase__files_release(&files);
	CHECK_EQ_INT(files_cleared, 2);
	CHECK(files.head == NULL);
	rtbase__files_release(NULL);
}
