// SPDX-License-Identifier: GPL-2.0-only
/* Pure parsers of outside bytes: /proc/PID/maps lines, kallsyms, CPU lists, ELF symbols. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "symbolize/elfsyms.h"
#include "harness.h"
#include "symbolize/ksyms.h"
#include "sample/procs.h"
#include "sample/sampler.h"
#include "../../bpf/unwind.h"
#include "aggregate/stacks.h"
#include "symbolize/symbolize.h"
#include "base/util.h"

TEST(maps_parse_exec_line)
{
	const char *l = "7f1c2a028000-7f1c2a1bd000 r-xp 00028000 fd:01 1835081                    "
			"/usr/lib/x86_64-linux-gnu/libc.so.6\n";
	struct map_entry e;
	size_t plen;

	CHECK_EQ_INT(maps__parse_line(l, strlen(l), &e, &plen), 1);
	CHECK(e.start == 0x7f1c2a028000ULL && e.end == 0x7f1c2a1bd000ULL);
	CHECK_EQ_INT(e.pgoff, 0x28000);
	CHECK_EQ_INT(e.maj, 0xfd);
	CHECK_EQ_INT(e.min, 1);
	CHECK_EQ_INT(e.ino, 1835081);
	CHECK_EQ_INT(plen, strlen("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	CHECK(!strncmp(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6", plen));
}

TEST(maps_parse_special_and_malformed)
{
	struct map_entry e;
	size_t plen;
	const char *vdso = "7ffd4a5f0000-7ffd4a5f2000 r-xp 00000000 00:00 0                  [vdso]";
	const char *data = "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0 [heap]";
	const char *deleted = "400000-401000 r-xp 00000000 08:02 42 /tmp/a b (deleted)";
	static const char *const bad[] = {
		"", "zzzz", "1000-", "2000-1000 r-xp 00000000 00:00 0",
		"1000-2000 r-xp 0 00:00", "1000-2000 r-xp 00000000 00:00 x",
		"10000000000000000-2 r-xp 00000000 00:00 0", "1000-2000",
	};
	size_t i;

	CHECK_EQ_INT(maps__parse_line(vdso, strlen(vdso), &e, &plen), 1);
	CHECK(plen == 6 && !strncmp(e.path, "[vdso]", 6));
	CHECK_EQ_INT(maps__parse_line(data, strlen(data), &e, &plen), 0);
	CHECK_EQ_INT(maps__parse_line(deleted, strlen(deleted), &e, &plen), 1);
	CHECK(plen == strlen("/tmp/a b (deleted)"));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ_INT(maps__parse_line(bad[i], strlen(bad[i]), &e, &plen), -EINVAL);
}

TEST(procs_find_and_replace)
{
	struct procs *p = procs__new(false, NULL);
	struct map_entry a = { 0x1000, 0x3000, 0, 8, 1, 10, "/bin/a" };
	struct map_entry b = { 0x5000, 0x6000, 0, 8, 1, 11, "/bin/b" };
	struct map_entry c = { 0x2000, 0x5800, 0, 8, 1, 12, "/bin/c" };

	CHECK(p != NULL);
	CHECK_EQ_INT(procs__add_map(p, 7, &a), 0);
	CHECK_EQ_INT(procs__add_map(p, 7, &b), 0);
	CHECK_EQ_STR(procs__find(p, 7, 0x1000)->path, "/bin/a");
	CHECK_EQ_STR(procs__find(p, 7, 0x5fff)->path, "/bin/b");
	CHECK(procs__find(p, 7, 0x4000) == NULL);
	CHECK(procs__find(p, 8, 0x1000) == NULL);
	/* A new mapping over both replaces them (no munmap records exist). */
	CHECK_EQ_INT(procs__add_map(p, 7, &c), 0);
	CHECK_EQ_STR(procs__find(p, 7, 0x2500)->path, "/bin/c");
	CHECK(procs__find(p, 7, 0x1000) == NULL);
	CHECK(procs__find(p, 7, 0x5900) == NULL);
	procs__free(p);
	procs__free(NULL);
}

TEST(procs_scan_self)
{
	struct procs *p = procs__new(false, NULL);
	const struct map_entry *m;

	CHECK_EQ_INT(procs__scan(p, getpid()), 0);
	m = procs__find(p, getpid(), (uint64_t)(uintptr_t)&procs__find);
	CHECK(m != NULL && strstr(m->path, "unit-tests"));
	CHECK_EQ_INT(procs__scan(p, 0x7ffffff0), -ESRCH);
	procs__free(p);
}

TEST(ksyms_parse_and_find)
{
	const char *txt = "ffffffff81000000 T _stext\n"
			  "ffffffff81000100 t do_one\n"
			  "ffffffff81000100 T alias_of_one\n"
			  "ffffffff81000200 D some_data\n"
			  "garbage line\n"
			  "ffffffffc0001000 t mod_func\t[ext4]\n"
			  "ffffffff81000300 W weak_fn\n";
	struct ksyms *k = ksyms__parse(txt, strlen(txt));
	uint64_t off;

	CHECK(k != NULL);
	if (!k)
		return;
	CHECK_EQ_INT(ksyms__count(k), 5);
	CHECK_EQ_STR(ksyms__find(k, 0xffffffff81000150ULL, &off), "do_one");
	CHECK_EQ_INT(off, 0x50);
	CHECK_EQ_STR(ksyms__find(k, 0xffffffff81000250ULL, &off), "do_one");
	CHECK_EQ_STR(ksyms__find(k, 0xffffffff81000300ULL, &off), "weak_fn");
	CHECK_EQ_STR(ksyms__find(k, 0xffffffffc0001010ULL, &off), "mod_func [ext4]");
	CHECK(ksyms__find(k, 0x1000, &off) == NULL);
	ksyms__free(k);
	CHECK(ksyms__parse("junk\n", 5) == NULL);
}

TEST(cpu_list)
{
	bool cpus[64];

	CHECK_EQ_INT(parse_cpu_list("0-3,8,10-11\n", cpus, 64), 7);
	CHECK(cpus[0] && cpus[3] && !cpus[4] && cpus[8] && cpus[11] && !cpus[12]);
	CHECK_EQ_INT(parse_cpu_list("0", cpus, 64), 1);
	CHECK_EQ_INT(parse_cpu_list("3-1", cpus, 64), -EINVAL);
	CHECK_EQ_INT(parse_cpu_list("0-100", cpus, 64), -ERANGE);
	CHECK_EQ_INT(parse_cpu_list("a", cpus, 64), -EINVAL);
}

/* A frame-pointer stack is cut at garbage that would pass for a runtime frame; an unwound one is whole. */
TEST(user_frames_garbage_cut)
{
	const uint64_t ips[] = { 0x55d0c0de1234, 0x7f0011223344, 0x4b6319799170ULL | 1ULL << 62,
				 0x55d0c0de9999 };

	CHECK_EQ_INT(sampler__user_frames(ips, 4, 0), 2);
	CHECK_EQ_INT(sampler__user_frames(ips, 4, USTACK_UNWOUND), 4);
	CHECK_EQ_INT(sampler__user_frames(ips, 2, 0), 2);
	CHECK_EQ_INT(sampler__user_frames(ips + 2, 2, 0), 0);
	/* Five-level page tables: user addresses up to 2^56 are kept. */
	CHECK_EQ_INT(sampler__user_frames((const uint64_t[]){ 0xff000000001000ULL }, 1, 0), 1);
}

/* The running kernel's name, as the Makefile writes the build kernel's into min_btf.h. */
TEST(kernel_id_like_the_makefile)
{
	const unsigned char notes[] = { 0x04, 0x00, 0xff, 0x4c, 0x69 };
	char id[32];

	CHECK_EQ_INT(sampler__kernel_id(notes, sizeof(notes), 5481434, id, sizeof(id)), 0);
	CHECK_EQ_STR(id, "0400ff4c69\n5481434");
	CHECK_EQ_INT(sampler__kernel_id(notes, 0, 7, id, sizeof(id)), 0);
	CHECK_EQ_STR(id, "\n7");
	/* Too small for the notes, or for the size after them: refused, never cut. */
	CHECK_EQ_INT(sampler__kernel_id(notes, sizeof(notes), 5481434, id, 8), -ENOSPC);
	CHECK_EQ_INT(sampler__kernel_id(notes, sizeof(notes), 5481434, id, 12), -ENOSPC);
	CHECK_EQ_INT(sampler__kernel_id(notes, sizeof(notes), 5481434, id, 19), 0);
}

TEST(kernel_release)
{
	CHECK(kernel_release_at_least("6.1.0-18-amd64", 6, 1));
	CHECK(kernel_release_at_least("6.18.44-fc-v782", 6, 1));
	CHECK(kernel_release_at_least("7.0", 6, 1));
	CHECK(!kernel_release_at_least("6.0.12", 6, 1));
	CHECK(!kernel_release_at_least("5.19.0-50-generic", 6, 1));
	CHECK(!kernel_release_at_least("junk", 6, 1));
	CHECK(!kernel_release_at_least("6", 6, 1));
}

__attribute__((noinline)) int elfsyms_probe_function(int x)
{
	return x * 3 + 1;
}

TEST(elfsyms_self)
{
	int fd = open("/proc/self/exe", O_RDONLY), err = 0;
	struct elfsyms *e = elfsyms__from_fd(fd, &err);
	struct map_entry m;
	struct procs *p = procs__new(false, NULL);
	uint64_t addr = (uint64_t)(uintptr_t)&elfsyms_probe_function, vaddr, off;
	const struct map_entry *mp;

	CHECK(e != NULL);
	procs__scan(p, getpid());
	mp = procs__find(p, getpid(), addr + 4);
	CHECK(mp != NULL);
	if (e && mp) {
		m = *mp;
		CHECK_EQ_INT(elfsyms__off_to_vaddr(e, addr + 4 - m.start + m.pgoff, &vaddr), 0);
		CHECK_EQ_STR(elfsyms__find(e, vaddr, &off), "elfsyms_probe_function");
		CHECK_EQ_INT(off, 4);
		CHECK(strlen(elfsyms__build_id(e)) == 40);
	}
	elfsyms__free(e);
	procs__free(p);
	close(fd);
	fd = open("/etc/hostname", O_RDONLY);
	CHECK(elfsyms__from_fd(fd, &err) == NULL && err == -EINVAL);
	close(fd);
}

TEST(demangle)
{
	char *s = symbolize__demangle("_ZN2ns6MatrixIdLi96EEmlERKS1_");

	CHECK_EQ_STR(s, "ns::Matrix<double, 96>::operator*(ns::Matrix<double, 96> const&)");
	free(s);
	s = symbolize__demangle("_ZN3std2rt10lang_start17h0123456789abcdefE");
	CHECK_EQ_STR(s, "std::rt::lang_start");
	free(s);
	CHECK(symbolize__demangle("main") == NULL);
}

TEST(stacks_aggregate)
{
	struct stacks *st = stacks__new();
	uint64_t u1[] = { 0x10, 0x20, 0x30 }, u2[] = { 0x10, 0x20 }, k1[] = { 0xffff0001 };
	const uint64_t *r;
	uint32_t n;

	CHECK_EQ_INT(stacks__add(st, 5, "t1", "p", u1, 3, NULL, 0, 2), 0);
	CHECK_EQ_INT(stacks__add(st, 5, "t1", "p", u1, 3, NULL, 0, 3), 0);
	CHECK_EQ_INT(stacks__add(st, 5, "t2", "p", u1, 3, NULL, 0, 1), 0);
	CHECK_EQ_INT(stacks__add(st, 5, "t1", "p", u2, 2, k1, 1, 4), 0);
	CHECK_EQ_INT(stacks__nr_samples(st), 3);
	CHECK_EQ_INT(stacks__nr_raw(st), 3);
	CHECK_EQ_INT(stacks__total(st), 10);
	CHECK_EQ_INT(stacks__sample(st, 0)->count, 5);
	r = stacks__raw(st, stacks__sample(st, 2)->kstack, &n);
	CHECK(n == 1 && r[0] == 0xffff0001);
	stacks__reset(st);
	CHECK_EQ_INT(stacks__nr_samples(st), 0);
	CHECK_EQ_INT(stacks__add(st, 5, "t1", "p", u1, 3, NULL, 0, 2), 0);
	CHECK_EQ_INT(stacks__nr_raw(st), 1);
	stacks__free(st);
}

/* /proc/TID/status: the thread's process, and whether it still runs (-t). */
TEST(parse_status_tgid_and_state)
{
	uint32_t tgid = 0;

	CHECK_EQ_INT(procs__parse_status("Name:\ttids-b\nUmask:\t0022\nState:\tR (running)\n"
					 "Tgid:\t5498\nNgid:\t0\nPid:\t5501\n", &tgid), 0);
	CHECK_EQ_INT(tgid, 5498);
	CHECK_EQ_INT(procs__parse_status("Name:\ta\nState:\tS (sleeping)\nTgid:\t7\n", &tgid), 0);
	CHECK_EQ_INT(tgid, 7);
	/* A zombie leader whose other threads run, and a dead task: no running thread. */
	CHECK_EQ_INT(procs__parse_status("Name:\ta\nState:\tZ (zombie)\nTgid:\t7\n", &tgid), -ESRCH);
	CHECK_EQ_INT(procs__parse_status("Name:\ta\nState:\tX (dead)\nTgid:\t7\n", &tgid), -ESRCH);
	/* A thread named like a field does not fool it: the kernel escapes its newline. */
	CHECK_EQ_INT(procs__parse_status("Name:\tx\\nTgid: 1\nState:\tR (running)\nTgid:\t9\n",
					 &tgid), 0);
	CHECK_EQ_INT(tgid, 9);
	CHECK_EQ_INT(procs__parse_status("Name:\ta\nTgid:\t7\n", &tgid), -EINVAL);
	CHECK_EQ_INT(procs__parse_status("State:\tR (running)\n", &tgid), -EINVAL);
	CHECK_EQ_INT(procs__parse_status("State:\tR\nTgid:\tx\n", &tgid), -EINVAL);
	CHECK_EQ_INT(procs__parse_status("State:\tR\nTgid:\t0\n", &tgid), -EINVAL);
	CHECK_EQ_INT(procs__parse_status("State:\tR\nTgid:\t99999999999\n", &tgid), -EINVAL);
	CHECK_EQ_INT(procs__parse_status("", &tgid), -EINVAL);
}

TEST(sampler_stacks_for_rate)
{
	/* 99 Hz on 2 CPUs, drained every second: 792 samples in 4 drains, the floor holds. */
	CHECK_EQ_INT(sampler__stacks_for_rate(99, 2, 1000000000ULL, false), 4096);
	/* 999 Hz: 7,992, the next power of two. */
	CHECK_EQ_INT(sampler__stacks_for_rate(999, 2, 1000000000ULL, false), 8192);
	/* 64 CPUs at 999 Hz: 255,744, where a fixed 16,384 lost most of a late drain. */
	CHECK_EQ_INT(sampler__stacks_for_rate(999, 64, 1000000000ULL, false), 262144);
	/* Capped; off-CPU time keeps 16,384 at least; the drain period counts. */
	CHECK_EQ_INT(sampler__stacks_for_rate(99999, 1024, 1000000000ULL, false), 1 << 20);
	CHECK_EQ_INT(sampler__stacks_for_rate(99, 2, 1000000000ULL, true), 16384);
	CHECK_EQ_INT(sampler__stacks_for_rate(0, 2, 1000000000ULL, true), 16384);
	CHECK_EQ_INT(sampler__stacks_for_rate(999, 2, 4000000000ULL, false), 32768);
	CHECK_EQ_INT(sampler__stacks_for_rate(999, 0, 1000000000ULL, false), 4096);
}
