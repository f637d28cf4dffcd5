// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symbol sources without root: perf maps, xz and CRC helpers, demangling options, confined
 * opens, kept mapping files, DWARF inline frames of this very binary, debug files found by
 * build id, and the symbolizer over a hand-made stack (ELF, inline and JIT frames).
 */
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <limits.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "symbolize/debuginfo.h"
#include "symbolize/dwinfo.h"
#include "symbolize/elfsyms.h"
#include "harness.h"
#include "sample/mapfiles.h"
#include "symbolize/perfmap.h"
#include "sample/procs.h"
#include "aggregate/profile.h"
#include "base/rootfs.h"
#include "aggregate/stacks.h"
#include "symbolize/symbolize.h"
#include "symbolize/symfile.h"
#include "../../bpf/python.h"

TEST(perfmap_parse_and_find)
{
	const char *txt = "1000 100 LazyCompile:*hot /app/x.js:3:13\n"
			  "0x2000 0x10 JS:~cold file:///app/y.js:9\n"
			  "junk line\n"
			  "3000 zz bad size\n"
			  "1000 80 recompiled hot\n"	/* same start, later: wins */
			  "1040 20 stub inside\n"
			  "4000 10 with\ttab and spaces   \r\n";
	struct perfmap *m = perfmap__parse(txt, strlen(txt));

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ_INT(perfmap__count(m), 4);
	CHECK_EQ_STR(perfmap__find(m, 0x1000), "recompiled hot");
	CHECK_EQ_STR(perfmap__find(m, 0x1045), "stub inside");
	CHECK_EQ_STR(perfmap__find(m, 0x107f), "recompiled hot");
	CHECK(perfmap__find(m, 0x1080) == NULL);
	CHECK_EQ_STR(perfmap__find(m, 0x200f), "JS:~cold file:///app/y.js:9");
	CHECK(perfmap__find(m, 0x2010) == NULL);
	CHECK_EQ_STR(perfmap__find(m, 0x4001), "with\ttab and spaces   ");
	CHECK(perfmap__find(m, 0xfff) == NULL);
	perfmap__free(m);
	m = perfmap__parse("", 0);
	CHECK(m && perfmap__count(m) == 0 && !perfmap__find(m, 1));
	perfmap__free(m);
}

TEST(unxz_roundtrip_and_limits)
{
	static char plain[100000];
	uint8_t packed[200000];
	size_t plen = 0, len = 0, i;
	char *out;
	int err;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = "flamegraph"[i % 10] + (i % 7);
	CHECK_EQ_INT(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (uint8_t *)plain,
					     sizeof(plain), packed, &plen, sizeof(packed)),
		     LZMA_OK);
	out = debuginfo__unxz(packed, plen, 1 << 20, &len, &err);
	CHECK(out != NULL && err == 0);
	CHECK_EQ_INT(len, sizeof(plain));
	CHECK(out && !memcmp(out, plain, sizeof(plain)));
	free(out);
	/* Over the limit: refused, not truncated. */
	CHECK(debuginfo__unxz(packed, plen, 4096, &len, &err) == NULL);
	CHECK_EQ_INT(err, -EFBIG);
	/* Corrupt input. */
	packed[plen / 2] ^= 0x55;
	CHECK(debuginfo__unxz(packed, plen, 1 << 20, &len, &err) == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	CHECK(debuginfo__unxz("not xz at all", 13, 1 << 20, &len, &err) == NULL);
}

TEST(crc32_of_file)
{
	char path[] = "/tmp/flamed-crc.XXXXXX";
	int fd = mkstemp(path);
	uint32_t crc = 0;

	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, "123456789", 9), 9);
	CHECK_EQ_INT(debuginfo__crc32_fd(fd, &crc), 0);
	/* The check value of CRC-32 (ISO-HDLC), the one gdb's debuglink uses. */
	CHECK_EQ_INT(crc, 0xcbf43926);
	close(fd);
	unlink(path);
}

TEST(demangle_options)
{
	char *s = symbolize__demangle_opts("_ZN2ns6MatrixIdLi96EEmlERKS1_", false);

	CHECK_EQ_STR(s, "ns::Matrix<double, 96>::operator*");
	free(s);
	s = symbolize__demangle_opts("_ZNK2ns6MatrixIdLi96EE3sumEv", true);
	CHECK_EQ_STR(s, "ns::Matrix<double, 96>::sum() const");
	free(s);
	/* Rust v0, as rustfilt prints it. */
	s = symbolize__demangle_opts(
		"_RINvCs6GmmlP4bgsG_1r4workNtNtCslNYArtu3iFV_5alloc6string6StringEB2_", true);
	CHECK_EQ_STR(s, "r::work::<alloc::string::String>");
	free(s);
	/* Rust legacy: the hash goes. */
	s = symbolize__demangle_opts("_ZN4core3fmt5write17h01234567890abcdeE", false);
	CHECK_EQ_STR(s, "core::fmt::write");
	free(s);
	CHECK(symbolize__demangle_opts("_Znot_really", true) == NULL);
	CHECK(symbolize__demangle_opts("plain_c", true) == NULL);
}

TEST(rootfs_stays_inside)
{
	char dir[] = "/tmp/flamed-root.XXXXXX", path[PATH_MAX], buf[16] = "";
	int root, fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/etc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/hostname", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK_EQ_INT(write(fd, "inside", 6), 6);
	close(fd);
	/* An absolute symlink and a "../.." walk both try to leave the root. */
	snprintf(path, sizeof(path), "%s/abs", dir);
	CHECK_EQ_INT(symlink("/etc/hostname", path), 0);
	snprintf(path, sizeof(path), "%s/up", dir);
	CHECK_EQ_INT(symlink("../../../../etc/hostname", path), 0);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(root >= 0);
	fd = rootfs__openat(root, "/abs");
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ_INT(read(fd, buf, sizeof(buf) - 1), 6);
		CHECK_EQ_STR(buf, "inside");
		close(fd);
	}
	memset(buf, 0, sizeof(buf));
	fd = rootfs__openat(root, "up");
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ_INT(read(fd, buf, sizeof(buf) - 1), 6);
		CHECK_EQ_STR(buf, "inside");
		close(fd);
	}
	CHECK_EQ_INT(rootfs__openat(root, "/nonexistent"), -ENOENT);
	close(root);
	/* Our own root: the ordinary file system. */
	fd = rootfs__open(getpid(), "/proc/self/exe");
	CHECK(fd < 0);	/* a magic link: refused */
	fd = rootfs__open(0, "/etc/passwd");
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(rootfs__same_root(getpid()));
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_EQ_INT(system(path), 0);
}

/* The mapping of our own executable that holds fn. */
static int self_mapping(const void *fn, struct map_entry *out, char *path, size_t size)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int found = 0;

	while (f && (n = getline(&line, &cap, f)) > 0) {
		struct map_entry m;
		size_t plen;

		if (maps__parse_line(line, n, &m, &plen) != 1 || (uint64_t)(uintptr_t)fn < m.start ||
		    (uint64_t)(uintptr_t)fn >= m.end)
			continue;
		snprintf(path, size, "%.*s", (int)plen, m.path);
		*out = m;
		out->path = path;
		found = 1;
		break;
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

__attribute__((noinline)) int symtest_noinline(int x)
{
	return x * 5 + 3;
}

TEST(mapfiles_keep_and_evict)
{
	struct mapfiles *k = mapfiles__new(1);
	struct mapfiles_stats st;
	struct map_entry m, other;
	char path[PATH_MAX];
	struct stat a, b;
	int fd;

	CHECK(k != NULL && self_mapping((void *)symtest_noinline, &m, path, sizeof(path)));
	if (!k)
		return;
	CHECK_EQ_INT(mapfiles__open(k, &m), -ENOENT);
	mapfiles__note(k, getpid(), &m, path, strlen(path));
	mapfiles__note(k, getpid(), &m, path, strlen(path));
	fd = mapfiles__open(k, &m);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(!fstat(fd, &a) && !stat("/proc/self/exe", &b) && a.st_ino == b.st_ino);
		close(fd);
	}
	/* A second file pushes the first out (cap 1). */
	CHECK(self_mapping((void *)fopen, &other, path, sizeof(path)));
	mapfiles__note(k, getpid(), &other, path, strlen(path));
	CHECK_EQ_INT(mapfiles__open(k, &m), -ENOENT);
	fd = mapfiles__open(k, &other);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	mapfiles__stats(k, &st);
	CHECK_EQ_INT(st.kept, 1);
	CHECK_EQ_INT(st.opened, 2);
	CHECK_EQ_INT(st.evicted, 1);
	CHECK_EQ_INT(st.hits, 1);
	mapfiles__free(k);
}

static volatile int inl_sink;

static inline __attribute__((always_inline)) int symtest_inlined_leaf(int x)
{
	/* Enough work that it keeps its own instructions inside the caller. */
	for (int i = 0; i < x; i++)
		inl_sink += i * x;
	return inl_sink;
}

__attribute__((noinline)) int symtest_inline_caller(int x)
{
	return symtest_inlined_leaf(x) + 1;
}

/* Finds an address of fn whose frames are [inner inlined, fn]; 0 if none. */
static uint64_t find_inlined(struct symfile *sf, uint64_t vaddr, const char *inner)
{
	struct sym_frame fr[8];
	uint64_t a;

	for (a = vaddr; a < vaddr + 256; a++) {
		int n = symfile__lookup(sf, a, SYMFILE_INLINE | SYMFILE_LINES, fr, 8);

		if (n == 2 && fr[0].inlined && fr[0].name && !strcmp(fr[0].name, inner) &&
		    fr[1].name && !strcmp(fr[1].name, "symtest_inline_caller"))
			return a;
	}
	return 0;
}

TEST(symfile_self_inline_frames)
{
	struct symfile_ctx ctx = { .dwarf = true };
	struct map_entry m;
	char path[PATH_MAX];
	struct sym_frame fr[8];
	struct symfile *sf;
	uint64_t vaddr, a;
	int fd, err = 0, n;

	CHECK(self_mapping((void *)symtest_inline_caller, &m, path, sizeof(path)));
	fd = open("/proc/self/exe", O_RDONLY);
	sf = symfile__open(fd, &ctx, &err);
	close(fd);
	CHECK(sf != NULL);
	if (!sf)
		return;
	CHECK(symfile__has_dwarf(sf));
	CHECK_EQ_INT(symfile__off_to_vaddr(sf, (uintptr_t)symtest_noinline - m.start + m.pgoff,
					   &vaddr), 0);
	n = symfile__lookup(sf, vaddr, SYMFILE_INLINE, fr, 8);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(fr[0].name, "symtest_noinline");
	CHECK_EQ_INT(symfile__off_to_vaddr(sf,
					   (uintptr_t)symtest_inline_caller - m.start + m.pgoff,
					   &vaddr), 0);
	a = find_inlined(sf, vaddr, "symtest_inlined_leaf");
	CHECK(a != 0);
	if (a) {
		n = symfile__lookup(sf, a, SYMFILE_INLINE | SYMFILE_LINES, fr, 8);
		CHECK(n == 2 && fr[0].file && strstr(fr[0].file, "test_symbols.c"));
		CHECK(n == 2 && fr[0].line > 0 && fr[1].line > fr[0].line);
		/* Without inline frames: the function, at the line of the inlined call. */
		n = symfile__lookup(sf, a, SYMFILE_LINES, fr, 8);
		CHECK_EQ_INT(n, 1);
		CHECK_EQ_STR(fr[0].name, "symtest_inline_caller");
		CHECK(!fr[0].inlined);
		n = symfile__lookup(sf, a, 0, fr, 8);
		CHECK_EQ_INT(n, 1);
		CHECK_EQ_STR(fr[0].name, "symtest_inline_caller");
	}
	symfile__free(sf);
}

TEST(debug_file_by_build_id)
{
	char dir[] = "/tmp/flamed-dbg.XXXXXX", path[PATH_MAX], cmd[PATH_MAX * 2], bid[41], fake[41];
	const char *dirs[] = { dir, NULL };
	struct debuginfo_opts o = { .dirs = dirs };
	struct debuginfo *d = debuginfo__new(&o);
	struct debuginfo_stats st;
	enum debuginfo_source src = DEBUGINFO_NONE;
	int fd, dfd;
	Elf *elf;

	CHECK(d != NULL && mkdtemp(dir) != NULL);
	elf_version(EV_CURRENT);
	fd = open("/proc/self/exe", O_RDONLY);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	elfsyms__read_build_id(elf, bid);
	CHECK_EQ_INT(strlen(bid), 40);
	CHECK_EQ_INT(debuginfo__find(d, elf, bid, "/nowhere/prog", 0, &src), -ENOENT);
	snprintf(path, sizeof(path), "%s/.build-id", dir);
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s", dir, bid);
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe %s/%s.debug", getpid(), path, bid + 2);
	CHECK_EQ_INT(system(cmd), 0);
	dfd = debuginfo__find(d, elf, bid, "/nowhere/prog", 0, &src);
	CHECK(dfd >= 0);
	CHECK_EQ_INT(src, DEBUGINFO_BUILD_ID);
	if (dfd >= 0)
		close(dfd);
	/* A file under another build id's name is not that build id's debug file. */
	snprintf(fake, sizeof(fake), "%s", bid);
	fake[39] = fake[39] == '0' ? '1' : '0';
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe %s/%s.debug", getpid(), path, fake + 2);
	CHECK_EQ_INT(system(cmd), 0);
	dfd = debuginfo__find(d, elf, fake, "/nowhere/prog", 0, &src);
	CHECK_EQ_INT(dfd, -ENOENT);
	debuginfo__stats(d, &st);
	CHECK_EQ_INT(st.found[DEBUGINFO_BUILD_ID], 1);
	CHECK_EQ_INT(st.build_id_mismatch, 1);
	elf_end(elf);
	close(fd);
	debuginfo__free(d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

static const char *self_comm(void)
{
	static char comm[16];
	FILE *f = fopen("/proc/self/comm", "re");

	if (f && fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	if (f)
		fclose(f);
	return comm;
}

/* One profile from a hand-made stack: main-like frame -> inline caller -> JIT code. */
TEST(symbolizer_user_inline_jit)
{
	struct procs *procs = procs__new(false, NULL);
	struct stacks *st = stacks__new();
	struct profile *p = profile__new();
	struct symbolizer_opts o = { 0 };
	struct symfile_ctx ctx = { .dwarf = true };
	struct symbolizer_stats ss;
	struct symbolizer *s;
	struct symfile *sf;
	struct map_entry m;
	char path[PATH_MAX], map[64];
	uint64_t ustack[3], vaddr, a;
	void *jit;
	int fd, err = 0;
	size_t i;
	FILE *f;

	CHECK(procs && st && p);
	if (!procs || !st || !p)
		return;
	jit = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(jit != MAP_FAILED);
	snprintf(map, sizeof(map), "/tmp/perf-%d.map", getpid());
	f = fopen(map, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "%lx 40 JS:*hotLoop /app/x.js:1\n", (unsigned long)jit);
		fclose(f);
	}
	CHECK_EQ_INT(procs__scan(procs, getpid()), 0);
	/* An address inside the inlined leaf, found through our own DWARF. */
	CHECK(self_mapping((void *)symtest_inline_caller, &m, path, sizeof(path)));
	fd = open("/proc/self/exe", O_RDONLY);
	sf = symfile__open(fd, &ctx, &err);
	close(fd);
	a = 0;
	if (sf && !symfile__off_to_vaddr(sf, (uintptr_t)symtest_inline_caller - m.start + m.pgoff,
					 &vaddr))
		a = find_inlined(sf, vaddr, "symtest_inlined_leaf");
	symfile__free(sf);
	CHECK(a != 0);
	/* Leaf first: JIT code, then a return address inside the inlined leaf, then a function. */
	ustack[0] = (uintptr_t)jit + 0x10;
	ustack[1] = (uintptr_t)symtest_inline_caller + (a - vaddr) + 1;
	ustack[2] = (uintptr_t)symtest_noinline + 1;
	CHECK_EQ_INT(stacks__add(st, getpid(), self_comm(), self_comm(), ustack, 3, NULL, 0, 5), 0);
	/* The same stack under a name this pid never had: another process, not named. */
	CHECK_EQ_INT(stacks__add(st, getpid(), "other", "other", ustack, 3, NULL, 0, 1), 0);
	s = symbolizer__new(procs, &o);
	CHECK(s != NULL);
	CHECK_EQ_INT(symbolizer__build_profile(s, st, p), 0);
	CHECK_EQ_INT(profile__nr_samples(p), 2);
	for (i = 0; i < profile__nr_samples(p); i++) {
		const struct profile_sample *ps = profile__sample(p, i);
		const uint32_t *ids = profile__sample_frames(p, ps);
		const struct profile_frame *leaf = profile__frame(p, ids[ps->nframes - 1]);

		if (strcmp(profile__str(p, ps->comm), "other"))
			continue;
		CHECK_EQ_INT(ps->nframes, 3);
		CHECK_EQ_STR(profile__str(p, leaf->name), "[unknown]");
	}
	for (size_t si = 0; si < profile__nr_samples(p); si++) {
		const struct profile_sample *ps = profile__sample(p, si);
		const uint32_t *ids = profile__sample_frames(p, ps);
		static const char *const want[] = { "symtest_noinline", "symtest_inline_caller",
						    "symtest_inlined_leaf", "JS:*hotLoop /app/x.js:1" };
		static const uint32_t kinds[] = { FRAME_USER, FRAME_USER, FRAME_INLINE, FRAME_JIT };

		if (!strcmp(profile__str(p, ps->comm), "other"))
			continue;
		CHECK_EQ_INT(ps->nframes, 4);
		for (i = 0; i < ps->nframes && i < 4; i++) {
			const struct profile_frame *fr = profile__frame(p, ids[i]);

			CHECK_EQ_STR(profile__str(p, fr->name), want[i]);
			CHECK_EQ_INT(fr->kind, kinds[i]);
		}
	}
	symbolizer__stats(s, &ss);
	CHECK_EQ_INT(ss.frames_inline, 1);
	CHECK_EQ_INT(ss.frames_jit, 1);
	CHECK_EQ_INT(ss.perfmaps, 1);
	CHECK(ss.dwarf_files >= 1);
	/* A second window with the same stacks: files come from the cache. */
	CHECK_EQ_INT(symbolizer__build_profile(s, st, p), 0);
	symbolizer__stats(s, &ss);
	CHECK(ss.cache_hits >= 1);
	CHECK_EQ_INT(profile__nr_samples(p), 4);
	symbolizer__free(s);
	unlink(map);
	munmap(jit, 4096);
	profile__free(p);
	stacks__free(st);
	procs__free(procs);
}

/* A runtime that names every frame of its own with an empty file and function. */
static int empty_file_runtime(void *ctx, uint32_t pid, uint64_t frame, bool lines,
			      struct runtime_sym *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!PY_FRAME_IS(frame))
		return -ENOENT;
	ret->name = RUNTIME_FRAME_INSTR(frame) == 1 ? "" : "spin (?)";
	ret->func = "";
	ret->file = "";
	ret->line = 7;
	return FRAME_PYTHON;
}

/*
 * Empty strings read off a target (a script compiled from "", a file name read in a race)
 * are no names: the frame keeps what it has, and the profile is built. Their string id, 0,
 * had read as an allocation failure, and the whole profile was lost.
 */
TEST(symbolizer_runtime_empty_strings)
{
	struct procs *procs = procs__new(false, NULL);
	struct stacks *st = stacks__new();
	struct profile *p = profile__new();
	struct symbolizer_opts o = { .lines = true };
	struct symbolizer *s = NULL;
	uint64_t ustack[2] = { RUNTIME_FRAME(0x1000, 3), RUNTIME_FRAME(0x2000, 1) };
	int seen = 0;
	size_t i;

	CHECK(procs && st && p);
	if (!procs || !st || !p)
		goto cleanup;
	CHECK_EQ_INT(procs__scan(procs, getpid()), 0);
	CHECK_EQ_INT(stacks__add(st, getpid(), self_comm(), self_comm(), ustack, 2, NULL, 0, 3), 0);
	s = symbolizer__new(procs, &o);
	CHECK(s != NULL);
	if (!s)
		goto cleanup;
	CHECK_EQ_INT(symbolizer__add_runtime_hook(s, empty_file_runtime, NULL), 0);
	CHECK_EQ_INT(symbolizer__build_profile(s, st, p), 0);
	CHECK_EQ_INT(profile__nr_samples(p), 1);
	for (i = 0; i < profile__nr_samples(p); i++) {
		const struct profile_sample *ps = profile__sample(p, i);
		const uint32_t *ids = profile__sample_frames(p, ps);
		size_t k;

		for (k = 0; k < ps->nframes; k++) {
			const struct profile_frame *fr = profile__frame(p, ids[k]);
			const char *name = profile__str(p, fr->name);

			if (!strcmp(name, "spin (?)")) {
				CHECK_EQ_INT(fr->kind, FRAME_PYTHON);
				CHECK_EQ_INT(fr->file, 0);
				CHECK_EQ_INT(fr->func, 0);
				CHECK_EQ_INT(fr->line, 0);
				seen |= 1;
			} else if (!strcmp(name, "[unknown runtime frame]")) {
				seen |= 2;
			}
		}
	}
	CHECK_EQ_INT(seen, 3);
cleanup:
	symbolizer__free(s);
	profile__free(p);
	stacks__free(st);
	procs__free(procs);
}

/* Lines on, parameter lists off, a tiny cache: names change, eviction is counted. */
TEST(symbolizer_lines_and_cache_cap)
{
	struct procs *procs = procs__new(false, NULL);
	struct stacks *st = stacks__new();
	struct profile *p = profile__new();
	struct symbolizer_opts o = { .lines = true, .no_inline = true, .cache_mb = 1 };
	struct symbolizer_stats ss;
	struct symbolizer *s;
	uint64_t ustack[2];
	const char *name;

	CHECK(procs && st && p);
	if (!procs || !st || !p)
		return;
	procs__scan(procs, getpid());
	ustack[0] = (uintptr_t)symtest_noinline + 1;
	ustack[1] = (uintptr_t)fopen + 1;
	CHECK_EQ_INT(stacks__add(st, getpid(), self_comm(), self_comm(), ustack, 2, NULL, 0, 1), 0);
	s = symbolizer__new(procs, &o);
	CHECK_EQ_INT(symbolizer__build_profile(s, st, p), 0);
	/* The one stack must be there: the name checks below are the point of this test. */
	CHECK_EQ_INT(profile__nr_samples(p), 1);
	if (profile__nr_samples(p) == 1) {
		const struct profile_sample *ps = profile__sample(p, 0);
		const uint32_t *ids = profile__sample_frames(p, ps);
		char *end = NULL;

		CHECK_EQ_INT(ps->nframes, 2);
		name = ps->nframes == 2 ? profile__str(p, profile__frame(p, ids[1])->name) : NULL;
		/* "symtest_noinline (test_symbols.c:LINE)": the line is a number, then nothing. */
		CHECK(name && !strncmp(name, "symtest_noinline (test_symbols.c:", 33));
		if (name && strlen(name) > 33)
			CHECK(strtoul(name + 33, &end, 10) > 0 && !strcmp(end, ")"));
	}
	symbolizer__stats(s, &ss);
	/* Two files (this binary, libc) and a 1 MiB cap: the older one went. */
	CHECK_EQ_INT(ss.files, 2);
	CHECK(ss.cache_evictions >= 1);
	symbolizer__free(s);
	profile__free(p);
	stacks__free(st);
	procs__free(procs);
}

/*
 * Warming (a one-shot run's drains): the files a stack needs are read before the profile is
 * built, in steps that resume where the last one stopped; the build then reads none and names
 * as it would have. Nothing is counted as a frame while warming.
 */
TEST(symbolizer_warm_reads_files_before_the_build)
{
	struct procs *procs = procs__new(false, NULL);
	struct stacks *st = stacks__new();
	struct profile *p = profile__new();
	struct symbolizer_opts o = { .debuginfod = SYMBOLIZER_DEBUGINFOD_OFF };
	struct symbolizer_stats ss;
	struct symbolizer *s;
	uint64_t ustack[2];
	uint64_t files;

	CHECK(procs && st && p);
	if (!procs || !st || !p)
		return;
	procs__scan(procs, getpid());
	ustack[0] = (uintptr_t)symtest_noinline + 1;
	ustack[1] = (uintptr_t)fopen + 1;
	CHECK_EQ_INT(stacks__add(st, getpid(), self_comm(), self_comm(), ustack, 1, NULL, 0, 1), 0);
	s = symbolizer__new(procs, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ_INT(symbolizer__warm(s, st, 0, 1000000000ULL), 1);
	symbolizer__stats(s, &ss);
	CHECK_EQ_INT(ss.files, 1);	/* this binary */
	CHECK_EQ_INT(ss.frames, 0);
	/* A second stack: warming goes on from the first one not seen, and reads libc. */
	CHECK_EQ_INT(stacks__add(st, getpid(), self_comm(), self_comm(), ustack, 2, NULL, 0, 1), 0);
	CHECK_EQ_INT(symbolizer__warm(s, st, 1, 1000000000ULL), 2);
	CHECK_EQ_INT(symbolizer__warm(s, st, 2, 1000000000ULL), 2);
	symbolizer__stats(s, &ss);
	CHECK_EQ_INT(ss.files, 2);
	files = ss.files;
	CHECK_EQ_INT(symbolizer__build_profile(s, st, p), 0);
	symbolizer__stats(s, &ss);
	CHECK_EQ_INT(ss.files, files);	/* every file was warm */
	CHECK_EQ_INT(profile__nr_samples(p), 2);
	if (profile__nr_samples(p) >= 1) {
		const struct profile_sample *ps = profile__sample(p, 0);
		const uint32_t *ids = profile__sample_frames(p, ps);

		CHECK_EQ_INT(ps->nframes, 1);
		CHECK_EQ_STR(profile__str(p, profile__frame(p, ids[0])->name), "symtest_noinline");
	}
	symbolizer__free(s);
	profile__free(p);
	stacks__free(st);
	procs__free(procs);
}

/*
 * An output without source lines (SVG, folded): the same names, inline frames included, without
 * reading the line tables, which hold most of a DWARF file's memory.
 */
TEST(symbolizer_skip_lines_same_names_less_memory)
{
	struct procs *procs = procs__new(false, NULL);
	struct stacks *st = stacks__new();
	uint64_t ustack[2], mem[2] = { 0, 0 };
	const char *names[2][4] = { { 0 } };
	struct profile *p[2] = { profile__new(), profile__new() };
	int k;

	CHECK(procs && st && p[0] && p[1]);
	if (!procs || !st || !p[0] || !p[1])
		return;
	procs__scan(procs, getpid());
	ustack[0] = (uintptr_t)symtest_inline_caller + 1;
	ustack[1] = (uintptr_t)symtest_noinline + 1;
	CHECK_EQ_INT(stacks__add(st, getpid(), self_comm(), self_comm(), ustack, 2, NULL, 0, 1), 0);
	for (k = 0; k < 2; k++) {
		struct symbolizer_opts o = { .skip_lines = k == 1 };
		struct symbolizer *s = symbolizer__new(procs, &o);
		struct symbolizer_stats ss;

		CHECK(s != NULL);
		if (!s)
			break;
		CHECK_EQ_INT(symbolizer__build_profile(s, st, p[k]), 0);
		if (profile__nr_samples(p[k]) == 1) {
			const struct profile_sample *ps = profile__sample(p[k], 0);
			const uint32_t *ids = profile__sample_frames(p[k], ps);
			uint32_t i;

			for (i = 0; i < ps->nframes && i < 4; i++)
				names[k][i] = profile__str(p[k], profile__frame(p[k], ids[i])->name);
		}
		symbolizer__stats(s, &ss);
		mem[k] = ss.cache_bytes;
		symbolizer__free(s);
	}
	for (k = 0; k < 4; k++)
		CHECK((!names[0][k] && !names[1][k]) ||
		      (names[0][k] && names[1][k] && !strcmp(names[0][k], names[1][k])));
	CHECK(names[0][0] != NULL);
	CHECK(mem[1] > 0 && mem[1] < mem[0]);
	profile__free(p[0]);
	profile__free(p[1]);
	stacks__free(st);
	procs__free(procs);
}

/*
 * Continuous mode: a file no stack used for more than three windows is dropped (the busy host's
 * one-off binaries), one used in each window stays, and the dropped one is read again when a
 * stack needs it.
 */
TEST(symbolizer_drops_files_idle_for_windows)
{
	struct procs *procs = procs__new(false, NULL);
	struct stacks *both = stacks__new(), *self = stacks__new();
	struct symbolizer_opts o = { .debuginfod = SYMBOLIZER_DEBUGINFOD_OFF, .skip_lines = true };
	struct symbolizer_stats ss;
	struct symbolizer *s = NULL;
	uint64_t ustack[2], held;
	int w;

	CHECK(procs && both && self);
	if (!procs || !both || !self)
		goto cleanup;
	procs__scan(procs, getpid());
	ustack[0] = (uintptr_t)symtest_noinline + 1;
	ustack[1] = (uintptr_t)fopen + 1;
	CHECK_EQ_INT(stacks__add(both, getpid(), self_comm(), self_comm(), ustack, 2, NULL, 0, 1), 0);
	CHECK_EQ_INT(stacks__add(self, getpid(), self_comm(), self_comm(), ustack, 1, NULL, 0, 1), 0);
	s = symbolizer__new(procs, &o);
	CHECK(s != NULL);
	if (!s)
		goto cleanup;
	for (w = 0; w < 6; w++) {
		struct profile *p = profile__new();

		CHECK(p != NULL);
		if (!p)
			goto cleanup;
		CHECK_EQ_INT(symbolizer__build_profile(s, w ? self : both, p), 0);
		profile__free(p);
		symbolizer__stats(s, &ss);
		if (w == 0)
			held = ss.cache_bytes;
		/* libc, last used in window 0, stays through windows 1 to 4. */
		CHECK_EQ_INT(ss.files_idle, w < 5 ? 0 : 1);
		CHECK_EQ_INT(ss.files, 2);
	}
	CHECK(ss.cache_bytes < held);
	{
		struct profile *p = profile__new();

		CHECK(p && symbolizer__build_profile(s, both, p) == 0);
		profile__free(p);
	}
	symbolizer__stats(s, &ss);
	CHECK_EQ_INT(ss.files, 3);	/* libc read again */
	CHECK_EQ_INT(ss.files_idle, 1);	/* this binary was used in every window */
cleanup:
	symbolizer__free(s);
	stacks__free(both);
	stacks__free(self);
	procs__free(procs);
}

/* A perf map older than its process was left by an earlier process with the same pid. */
TEST(perfmap_load_checks)
{
	char map[64];
	struct perfmap *m;
	struct timeval old[2] = { { 1000, 0 }, { 1000, 0 } };
	int err = 0;
	FILE *f;

	snprintf(map, sizeof(map), "/tmp/perf-%d.map", getpid());
	f = fopen(map, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "1000 10 fresh\n");
	fclose(f);
	m = perfmap__load(getpid(), true, &err);
	CHECK(m != NULL);
	CHECK(m && perfmap__find(m, 0x1004) && !strcmp(perfmap__find(m, 0x1004), "fresh"));
	perfmap__free(m);
	CHECK_EQ_INT(utimes(map, old), 0);
	CHECK(perfmap__load(getpid(), true, &err) == NULL);
	CHECK_EQ_INT(err, -ESTALE);
	/* After the process is gone there is nothing to compare with: read as it is. */
	m = perfmap__load(getpid(), false, &err);
	CHECK(m != NULL);
	perfmap__free(m);
	unlink(map);
	CHECK(perfmap__load(getpid(), true, &err) == NULL);
	CHECK_EQ_INT(err, -ENOENT);
	CHECK_EQ_INT(perfmap__ns_pid(getpid()), getpid());
}
