// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mapping records applied out of order: the kernel writes them to one ring per CPU, and a
 * ring read in a later batch can hold records older than ones already applied. Crafted
 * record sequences go through procs__apply, the pure part of procs__consume.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/mman.h>

#include "harness.h"
#include "sample/procs.h"
#include "aggregate/stacks.h"
#include "base/util.h"

#define VDSO 0x7fff0000ULL
#define LIBC 0x7f000000ULL
#define OLD 0x400000ULL

struct recbuf {
	char b[4096] __attribute__((aligned(8)));
	size_t len;
};

/* Appends a record whose body is body[0..n), then the sample_id_all time. */
static void put(struct recbuf *rb, uint32_t type, uint16_t misc, const void *body, size_t n,
		uint64_t time)
{
	struct perf_event_header h = { .type = type, .misc = misc };
	size_t size = (sizeof(h) + n + 8 + 7) & ~(size_t)7;

	h.size = size;
	memset(rb->b + rb->len, 0, size);
	memcpy(rb->b + rb->len, &h, sizeof(h));
	memcpy(rb->b + rb->len + sizeof(h), body, n);
	memcpy(rb->b + rb->len + size - 8, &time, 8);
	rb->len += size;
}

static void put_mmap(struct recbuf *rb, uint32_t pid, uint64_t addr, uint64_t ino,
		     const char *path, uint64_t time)
{
	struct {
		uint32_t pid, tid;
		uint64_t addr, len, pgoff;
		uint32_t maj, min;
		uint64_t ino, ino_generation;
		uint32_t prot, flags;
		char filename[24];
	} r = { pid, pid, addr, 0x2000, 0, 8, 1, ino, 0, PROT_READ | PROT_EXEC, MAP_PRIVATE };

	strncpy(r.filename, path, sizeof(r.filename) - 1);
	put(rb, PERF_RECORD_MMAP2, 0, &r, sizeof(r), time);
}

static void put_exec(struct recbuf *rb, uint32_t pid, const char *comm, uint64_t time)
{
	struct {
		uint32_t pid, tid;
		char comm[16];
	} r = { pid, pid };

	strncpy(r.comm, comm, sizeof(r.comm) - 1);
	put(rb, PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC, &r, sizeof(r), time);
}

static void put_task(struct recbuf *rb, uint32_t type, uint32_t pid, uint32_t ppid, uint64_t time)
{
	struct {
		uint32_t pid, ppid, tid, ptid;
		uint64_t time;
	} r = { pid, ppid, pid, ppid, time };

	put(rb, type, 0, &r, sizeof(r), time);
}

static const char *path_at(struct procs *p, uint32_t pid, uint64_t addr)
{
	const struct map_entry *m = procs__find(p, pid, addr);

	return m ? m->path : NULL;
}

/* The exec's ring read after the new image's mmaps: the exec must not drop them. */
TEST(procs_exec_applied_after_its_mmaps)
{
	struct procs *p = procs__new(false, NULL);
	struct recbuf a = { .len = 0 }, b = { .len = 0 };

	procs__add_map(p, 50, &(struct map_entry){ OLD, OLD + 0x1000, 0, 8, 1, 9, "/bin/sh", 5 });
	/* CPU 1's ring: the new image's mappings, read in the first batch. */
	put_mmap(&a, 50, LIBC, 11, "/usr/lib/libc.so.6", 200);
	put_mmap(&a, 50, VDSO, 0, "[vdso]", 300);
	/* CPU 0's ring, read in the next batch: the exec that came first. */
	put_exec(&b, 50, "vdso", 100);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len), 0);
	CHECK_EQ_INT(procs__apply(p, b.b, b.len), 0);
	CHECK_EQ_STR(path_at(p, 50, VDSO + 8), "[vdso]");
	CHECK_EQ_STR(path_at(p, 50, LIBC), "/usr/lib/libc.so.6");
	/* The old image's mapping went with the exec, and is still found under its own name. */
	CHECK(procs__find(p, 50, OLD) == NULL);
	CHECK(procs__find_as(p, 50, "vdso", VDSO) != NULL);
	procs__free(p);
}

/* The same records in one batch, and in the order they happened: the same result. */
TEST(procs_exec_then_mmaps_in_order)
{
	struct procs *p = procs__new(false, NULL);
	struct recbuf a = { .len = 0 }, b = { .len = 0 };

	procs__add_map(p, 50, &(struct map_entry){ OLD, OLD + 0x1000, 0, 8, 1, 9, "/bin/sh", 5 });
	put_mmap(&a, 50, VDSO, 0, "[vdso]", 300);
	put_exec(&a, 50, "vdso", 100);
	put_mmap(&a, 50, LIBC, 11, "/usr/lib/libc.so.6", 200);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len), 0);
	CHECK_EQ_STR(path_at(p, 50, VDSO), "[vdso]");
	CHECK_EQ_STR(path_at(p, 50, LIBC + 0x1fff), "/usr/lib/libc.so.6");
	CHECK(procs__find(p, 50, OLD) == NULL);
	/* An old image's mmap read after the exec does not enter the new image. */
	put_mmap(&b, 50, OLD, 9, "/bin/sh", 50);
	CHECK_EQ_INT(procs__apply(p, b.b, b.len), 0);
	CHECK(procs__find(p, 50, OLD) == NULL);
	procs__free(p);
}

/* fork, exec and mmap of a child spread over three batches in reverse order. */
TEST(procs_fork_exec_mmap_reversed)
{
	struct procs *p = procs__new(false, NULL);
	struct recbuf a = { .len = 0 }, b = { .len = 0 }, c = { .len = 0 };

	procs__add_map(p, 1, &(struct map_entry){ OLD, OLD + 0x1000, 0, 8, 1, 9, "/bin/sh", 5 });
	put_mmap(&a, 60, VDSO, 0, "[vdso]", 300);
	put_exec(&b, 60, "child", 200);
	put_task(&c, PERF_RECORD_FORK, 60, 1, 100);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len), 0);
	CHECK_EQ_INT(procs__apply(p, b.b, b.len), 0);
	CHECK_EQ_INT(procs__apply(p, c.b, c.len), 0);
	CHECK_EQ_STR(path_at(p, 60, VDSO), "[vdso]");
	CHECK(procs__find(p, 60, OLD) == NULL);
	CHECK(procs__alive(p, 60));
	procs__free(p);
}

/* The exit of an earlier process with that pid, read after the new one's fork. */
TEST(procs_pid_reuse_exit_late)
{
	struct procs *p = procs__new(false, NULL);
	struct recbuf a = { .len = 0 }, b = { .len = 0 };
	struct procs_stats st;

	procs__add_map(p, 1, &(struct map_entry){ OLD, OLD + 0x1000, 0, 8, 1, 9, "/bin/sh", 5 });
	put_task(&a, PERF_RECORD_FORK, 70, 1, 200);
	put_task(&b, PERF_RECORD_EXIT, 70, 70, 100);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len), 0);
	CHECK_EQ_INT(procs__apply(p, b.b, b.len), 0);
	CHECK(procs__alive(p, 70));
	CHECK_EQ_STR(path_at(p, 70, OLD), "/bin/sh");
	procs__stats(p, &st);
	CHECK_EQ_INT(st.records_stale, 1);
	procs__free(p);
}

/* Mappings the parent made after the fork are not the child's. */
TEST(procs_fork_copies_only_older_maps)
{
	struct procs *p = procs__new(false, NULL);
	struct recbuf a = { .len = 0 }, b = { .len = 0 };

	procs__add_map(p, 1, &(struct map_entry){ OLD, OLD + 0x1000, 0, 8, 1, 9, "/bin/sh", 5 });
	put_mmap(&a, 1, LIBC, 12, "/usr/lib/late.so", 300);
	put_task(&b, PERF_RECORD_FORK, 80, 1, 200);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len), 0);
	CHECK_EQ_INT(procs__apply(p, b.b, b.len), 0);
	CHECK_EQ_STR(path_at(p, 80, OLD), "/bin/sh");
	CHECK(procs__find(p, 80, LIBC) == NULL);
	procs__free(p);
}

TEST(procs_apply_rejects_bad_sizes)
{
	struct procs *p = procs__new(false, NULL);
	struct recbuf a = { .len = 0 };
	struct perf_event_header h = { .type = PERF_RECORD_MMAP2, .size = 4 };

	put_mmap(&a, 90, VDSO, 0, "[vdso]", 300);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len - 1), -EINVAL);
	CHECK_EQ_INT(procs__apply(p, &h, sizeof(h)), -EINVAL);
	h.size = sizeof(h);	/* a header alone: too short to apply, ignored */
	CHECK_EQ_INT(procs__apply(p, &h, sizeof(h)), 0);
	h.type = PERF_RECORD_EXIT;
	CHECK_EQ_INT(procs__apply(p, &h, sizeof(h)), 0);
	h.type = PERF_RECORD_FORK;
	CHECK_EQ_INT(procs__apply(p, &h, sizeof(h)), 0);
	CHECK(procs__find(p, 90, VDSO) == NULL);
	CHECK_EQ_INT(procs__apply(p, a.b, a.len), 0);
	CHECK_EQ_STR(path_at(p, 90, VDSO), "[vdso]");
	procs__free(p);
}

/* The window's aggregate stays within its bound: new stacks past it are refused and counted. */
TEST(stacks_memory_bound)
{
	struct stacks *st = stacks__new();
	uint64_t frames[20], refused_at = 0, i;
	int err = 0;

	stacks__set_max_bytes(st, 4u << 20);
	for (i = 1; i <= 200000 && !err; i++) {
		frames[0] = i;
		for (int k = 1; k < 20; k++)
			frames[k] = 0x1000 + k;
		err = stacks__add(st, 1, "a", "a", frames, 20, NULL, 0, 1);
		if (err)
			refused_at = i;
	}
	CHECK_EQ_INT(err, -ENOSPC);
	CHECK(refused_at > 1000);
	CHECK_EQ_INT(stacks__refused(st), 1);
	CHECK_EQ_INT(stacks__total(st), refused_at - 1);
	/* Known stacks still add up. */
	frames[0] = 1;
	CHECK_EQ_INT(stacks__add(st, 1, "a", "a", frames, 20, NULL, 0, 5), 0);
	CHECK_EQ_INT(stacks__total(st), refused_at + 4);
	/* A small next window: the burst's arrays are given back, and it still works. */
	stacks__reset(st);
	CHECK_EQ_INT(stacks__add(st, 1, "a", "a", frames, 20, NULL, 0, 1), 0);
	CHECK_EQ_INT(stacks__nr_samples(st), 1);
	stacks__reset(st);
	CHECK_EQ_INT(stacks__nr_samples(st), 0);
	stacks__free(st);
}
