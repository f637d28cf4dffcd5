// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "base/util.h"
#include "sample/sampler.h"
#include "profile.skel.h"
#include "min_btf.h"
#include "../../bpf/unwind.h"

#define MAX_CPUS 4096
/*
 * A chunked array of the BPF side (unwind_rows, unwind_pages): chunks of UNWIND_CHUNK entries
 * made as needed, each mapped at its place in one reserved range, so the unwinder writes one
 * array and neither the kernel nor flamed holds memory for entries never used.
 */
struct unwind_array {
	const char *name;
	int outer_fd;		/* the array of maps */
	void *mem;		/* max entries of address space, the first cap mapped */
	size_t len;		/* of the reserved range */
	size_t elem;
	uint32_t cap, max;	/* entries in the chunks made, and at most */
	int *chunks;		/* their fds */
};

struct sampler {
	struct profile_bpf *skel;
	struct sampler_opts opts;
	int nr_cpus;		/* possible CPUs: per-CPU map values */
	bool stacks_derived;	/* opts.max_stacks from sampler__stacks_for_rate() */
	int first_chunks_err;	/* first_chunks()'s */
	bool ending;		/* sampler__end(): no drain after the next */
	int *pfds;		/* perf event fds, one per online CPU */
	struct bpf_link **links;
	int nr_links;
	int inner_fd;		/* fd of barrier_inner, written into barrier to wait for programs */
	int nr_online;		/* CPUs online at attach */
	struct bpf_link *switch_link, *flush_link;
	struct sample_key *keys;
	size_t keys_cap;
	struct ustack_val *uval;
	sampler_chunk_fn chunk_fn;	/* NULL: bpf_map_create() here */
	void *chunk_ctx;
	struct unwind_array rows;	/* unwind_rows */
	struct unwind_array pages;	/* unwind_pages */
	struct ustack_val *kval;	/* an off-CPU kernel stack being drained */
	struct ring_buffer *new_rb;	/* new_stacks, with announce_new_stacks */
	sampler_new_stack_fn new_fn;
	void *new_ctx;
};

int parse_cpu_list(const char *s, bool *cpus, int max)
{
	int n = 0;

	memset(cpus, 0, max * sizeof(*cpus));
	while (*s && *s != '\n') {
		char *end;
		long a, b;

		errno = 0;
		a = strtol(s, &end, 10);
		if (end == s || errno || a < 0)
			return -EINVAL;
		b = a;
		s = end;
		if (*s == '-') {
			s++;
			b = strtol(s, &end, 10);
			if (end == s || errno || b < a)
				return -EINVAL;
			s = end;
		}
		if (b >= max)
			return -ERANGE;
		for (; a <= b; a++) {
			n += !cpus[a];
			cpus[a] = true;
		}
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return n;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_max_level < LOG_DEBUG)
		return 0;
	if (level != LIBBPF_WARN && log_max_level < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char *perm_hint(int err)
{
	if (err == -EACCES && geteuid() == 0)
		return " (the kernel's verifier refused it; -vv shows its log)";
	if (err == -EPERM || err == -EACCES)
		return " (run as root, or grant CAP_BPF and CAP_PERFMON)";
	return "";
}

/*
 * Hash maps allocated as they fill (BPF_F_NO_PREALLOC) may be used by perf_event programs
 * since Linux 6.1 (the BPF memory allocator); before that they must be preallocated.
 */
static bool kernel_allows_dynamic_maps(void)
{
	struct utsname u;

	return !uname(&u) && kernel_release_at_least(u.release, 6, 1);
}

static void preallocate(struct bpf_map *m)
{
	bpf_map__set_map_flags(m, bpf_map__map_flags(m) & ~BPF_F_NO_PREALLOC);
}

/* Reserves a's address range (no memory: PROT_NONE, nothing mapped) for its max entries. */
static int unwind_array__init(struct unwind_array *a)
{
	size_t chunk = (size_t)UNWIND_CHUNK * a->elem;

	a->len = (a->max + UNWIND_CHUNK - 1) / UNWIND_CHUNK * chunk;
	a->chunks = calloc(a->len / chunk, sizeof(*a->chunks));
	if (!a->chunks)
		return -ENOMEM;
	a->mem = mmap(NULL, a->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->mem == MAP_FAILED) {
		a->mem = NULL;
		return -errno;
	}
	return 0;
}

/* One more chunk: made, mapped at its place in the range, then handed to the BPF side. */
static int unwind_array__grow(struct unwind_array *a, sampler_chunk_fn fn, void *ctx)
{
	struct bpf_map_create_opts opts = { .sz = sizeof(opts), .map_flags = BPF_F_MMAPABLE };
	uint32_t i = a->cap / UNWIND_CHUNK;
	size_t chunk = (size_t)UNWIND_CHUNK * a->elem;
	void *mem;
	int fd, err;

	if (fn)
		fd = fn(ctx, a->elem);
	else
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), a->elem, UNWIND_CHUNK,
				    &opts);
	if (fd < 0) {
		err = fn ? fd : -errno;
		pr_err("cannot grow the %s: %s", a->name, strerror(-err));
		return err;
	}
	mem = mmap((char *)a->mem + i * chunk, chunk, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		   fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		pr_err("cannot map the %s: %s", a->name, strerror(-err));
		close(fd);
		return err;
	}
	/* Mapped before the BPF side can see it: its entries are the loader's to fill first. */
	if (bpf_map_update_elem(a->outer_fd, &i, &fd, BPF_ANY)) {
		err = -errno;
		pr_err("cannot add to the %s: %s", a->name, strerror(-err));
		/* Back to reserved: the range stays ours, so no other mapping lands in it. */
		if (mmap((char *)a->mem + i * chunk, chunk, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
			pr_warn("cannot release the %s's chunk %u: %s", a->name, i, strerror(errno));
		close(fd);
		return err;
	}
	a->chunks[i] = fd;
	a->cap = MIN((uint64_t)a->cap + UNWIND_CHUNK, a->max);
	return 0;
}

/* Room for at least n entries, chunk by chunk, up to a->max; -ENOSPC past it. */
static int unwind_array__reserve(struct unwind_array *a, uint32_t n, sampler_chunk_fn fn,
				 void *ctx)
{
	int err;

	if (n > a->max)
		return -ENOSPC;
	while (a->cap < n) {
		err = unwind_array__grow(a, fn, ctx);
		if (err)
			return err;
	}
	return 0;
}

/*
 * An array of maps for a (unwind_rows, unwind_pages) made here rather than by libbpf, so that
 * its first chunk can be added while the programs are verified: 0, or -errno.
 */
static int unwind_array__outer(struct bpf_map *m, size_t elem, uint32_t nchunks)
{
	struct bpf_map_create_opts inner_opts = { .sz = sizeof(inner_opts),
						   .map_flags = BPF_F_MMAPABLE };
	struct bpf_map_create_opts opts = { .sz = sizeof(opts) };
	int tmpl, fd, err;

	tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), elem, UNWIND_CHUNK,
			      &inner_opts);
	if (tmpl < 0)
		return -errno;
	opts.inner_map_fd = tmpl;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, bpf_map__name(m), sizeof(__u32),
			    sizeof(__u32), nchunks, &opts);
	err = fd < 0 ? -errno : 0;
	close(tmpl);
	if (err)
		return err;
	err = bpf_map__reuse_fd(m, fd);
	close(fd);
	return err;
}

/* The first chunk of each array: updating an array of maps waits for an RCU grace period. */
static void *first_chunks(void *arg)
{
	struct sampler *s = arg;
	int err;

	err = unwind_array__init(&s->rows);
	if (!err)
		err = unwind_array__init(&s->pages);
	if (!err)
		err = unwind_array__reserve(&s->rows, 1, NULL, NULL);
	if (!err)
		err = unwind_array__reserve(&s->pages, 1, NULL, NULL);
	s->first_chunks_err = err;
	return NULL;
}

static void unwind_array__free(struct unwind_array *a)
{
	uint32_t i;

	if (a->mem)
		munmap(a->mem, a->len);
	a->mem = NULL;
	for (i = 0; a->chunks && i < (a->cap + UNWIND_CHUNK - 1) / UNWIND_CHUNK; i++)
		close(a->chunks[i]);
	free(a->chunks);
	a->chunks = NULL;
}

/*
 * The load's cost at -v: its time (mostly the verifier's, as system time) and each program's
 * verified instructions, so bench/sample/footprint.sh and a user see what start-up pays for.
 */
static void log_load(const struct sampler *s, uint64_t ns, bool builtin)
{
	char buf[512];
	struct bpf_program *p;
	size_t len = 0;

	buf[0] = 0;
	bpf_object__for_each_program(p, s->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 info_len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &info_len))
			continue;
		len += snprintf(buf + len, len < sizeof(buf) ? sizeof(buf) - len : 0, "%s%s %u",
				len ? ", " : "", bpf_program__name(p), info.verified_insns);
		if (len >= sizeof(buf))
			break;
	}
	pr_info("BPF programs loaded in %.0f ms (kernel types: %s); verified instructions: %s; "
		"stacks a drain can hold: %u (%s)",
		ns / 1e6, builtin ? "built in for this kernel" : "/sys/kernel/btf/vmlinux", buf,
		s->opts.max_stacks, s->stacks_derived ? "from the rate and CPUs" : "--max-stacks");
}

int sampler__kernel_id(const unsigned char *notes, size_t n, long long btf_size, char *out,
		       size_t outlen)
{
	size_t i, len = 0;
	int r;

	for (i = 0; i < n; i++) {
		if (len + 3 > outlen)
			return -ENOSPC;
		len += snprintf(out + len, 3, "%02x", notes[i]);
	}
	r = snprintf(out + len, outlen - len, "\n%lld", btf_size);
	return r < 0 || (size_t)r >= outlen - len ? -ENOSPC : 0;
}

/*
 * The kernel types cut from this kernel's BTF at build time (Makefile, min_btf.h) as a file
 * for libbpf, when this is the kernel they were cut from: an fd, or -1 to read the whole BTF.
 */
static int builtin_btf(void)
{
	unsigned char notes[4096];
	char id[2 * sizeof(notes) + 32];
	struct stat st;
	ssize_t n;
	int fd;

	if (!min_btf_kernel[0] || getenv("FLAMED_FULL_BTF") || stat("/sys/kernel/btf/vmlinux", &st))
		return -1;
	fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, notes, sizeof(notes));
	close(fd);
	if (n <= 0 || sampler__kernel_id(notes, n, st.st_size, id, sizeof(id)) ||
	    strcmp(id, min_btf_kernel))
		return -1;
	fd = memfd_create("flamed-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, min_btf, sizeof(min_btf)) != (ssize_t)sizeof(min_btf)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One record of new_stacks: checked, since its size is the kernel's word only. */
static int on_new_stack(void *ctx, void *data, size_t size)
{
	const struct new_stack *ns = data;
	struct sampler *s = ctx;
	int n;

	if (size < sizeof(*ns) || !s->new_fn)
		return 0;
	n = MIN(ns->stack.n, (uint32_t)MAX_STACK_DEPTH);
	n = sampler__user_frames((const uint64_t *)ns->stack.ips, n, ns->stack.flags);
	if (n > 0)
		s->new_fn(s->new_ctx, ns->tgid, (const uint64_t *)ns->stack.ips, n);
	return 0;
}

int sampler__new_stacks_fd(struct sampler *s)
{
	return s->new_rb ? ring_buffer__epoll_fd(s->new_rb) : -1;
}

int sampler__new_stacks(struct sampler *s, sampler_new_stack_fn fn, void *ctx)
{
	int n;

	if (!s->new_rb)
		return 0;
	s->new_fn = fn;
	s->new_ctx = ctx;
	n = ring_buffer__consume(s->new_rb);
	s->new_fn = NULL;
	return n < 0 ? n : 0;
}

uint32_t sampler__stacks_for_rate(uint32_t freq_hz, int nr_cpus, uint64_t drain_ns, bool offcpu)
{
	uint64_t want = (uint64_t)freq_hz * (nr_cpus > 0 ? nr_cpus : 1) * 4 * drain_ns / 1000000000ULL;
	uint32_t n = offcpu ? 16384 : 4096;

	while (n < want && n < (1U << 20))
		n <<= 1;
	return n;
}

struct sampler *sampler__new(const struct sampler_opts *o, int *ret_err)
{
	uint64_t t0;
	uint32_t ustacks, max_rows, max_pages;
	pthread_t chunker;
	bool chunking = false;
	struct sampler *s = calloc(1, sizeof(*s));
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	char btf_path[32];
	int err = 0, ncpu, btf_fd = -1;

	if (!s) {
		err = -ENOMEM;
		goto cleanup;
	}
	s->opts = *o;
	if (!s->opts.max_stacks) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);

		s->stacks_derived = true;
		s->opts.max_stacks = sampler__stacks_for_rate(
			o->oncpu ? o->freq_hz : 0, online > 0 ? (int)online : 1,
			o->drain_ns ? o->drain_ns : 1000000000ULL, o->offcpu);
	}
	libbpf_set_print(libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		err = -ENOTSUP;
		pr_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): flamed needs a kernel built "
		       "with CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or newer)");
		goto cleanup;
	}
	s->nr_cpus = libbpf_num_possible_cpus();
	if (s->nr_cpus <= 0) {
		err = s->nr_cpus ? s->nr_cpus : -EINVAL;
		pr_err("cannot count possible CPUs: %s", strerror(-err));
		goto cleanup;
	}
	btf_fd = builtin_btf();
	if (btf_fd >= 0)
		snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d", btf_fd);
	open_opts.btf_custom_path = btf_fd >= 0 ? btf_path : NULL;
	s->skel = profile_bpf__open_opts(&open_opts);
	if (!s->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(-err));
		goto cleanup;
	}
	s->skel->rodata->filter_pids = o->filter_pids;
	s->skel->rodata->filter_tids = o->filter_tids;
	s->skel->rodata->include_idle = o->include_idle;
	s->skel->rodata->follow_forks = o->follow_forks;
	s->skel->rodata->filter_cgroups = o->filter_cgroups;
	s->skel->rodata->cgroup_max_level = o->cgroup_max_level;
	s->skel->rodata->record_cgroup = o->record_cgroup;
	s->skel->rodata->offcpu_min_ns = o->offcpu_min_ns;
	s->skel->rodata->offcpu_sample = o->offcpu_sample > 1 ? o->offcpu_sample : 1;
	/* Not verified (a second of loading) when off-CPU time is not asked for. */
	bpf_program__set_autoload(s->skel->progs.on_switch, o->offcpu);
	bpf_program__set_autoload(s->skel->progs.offcpu_flush, o->offcpu);
	bpf_map__set_max_entries(s->skel->maps.counts0, s->opts.max_stacks);
	bpf_map__set_max_entries(s->skel->maps.counts1, s->opts.max_stacks);
	/*
	 * Kernel and user stacks share one map a generation, allocated as it fills: room for
	 * max_stacks of each. Preallocated (off-CPU, below), the switches' stacks and the samples'
	 * share max_stacks.
	 */
	ustacks = o->offcpu ? s->opts.max_stacks : 2 * s->opts.max_stacks;
	bpf_map__set_max_entries(s->skel->maps.ustacks0, ustacks);
	bpf_map__set_max_entries(s->skel->maps.ustacks1, ustacks);
	if (!o->filter_pids)
		bpf_map__set_max_entries(s->skel->maps.targets, 1);
	/*
	 * Off-CPU stacks are stored at switch-in, interrupts off: a map allocated as it fills
	 * has no memory at hand there until its cache is refilled (an irq_work), and the first
	 * stores of every CPU failed. Preallocated: max_stacks entries of 1 KiB per generation.
	 */
	if (o->offcpu) {
		preallocate(s->skel->maps.ustacks0);
		preallocate(s->skel->maps.ustacks1);
		preallocate(s->skel->maps.counts0);
		preallocate(s->skel->maps.counts1);
	}
	if (!kernel_allows_dynamic_maps()) {
		preallocate(s->skel->maps.counts0);
		preallocate(s->skel->maps.counts1);
		preallocate(s->skel->maps.targets);
		preallocate(s->skel->maps.unwind_procs);
		preallocate(s->skel->maps.ustacks0);
		preallocate(s->skel->maps.ustacks1);
	}
	s->skel->rodata->dwarf_unwind = o->dwarf;
	s->skel->rodata->announce_new_stacks = o->dwarf && o->announce_new_stacks;
	/* A ring buffer's smallest size (a page) when nothing is announced. */
	if (!s->skel->rodata->announce_new_stacks)
		bpf_map__set_max_entries(s->skel->maps.new_stacks, getpagesize());
	max_rows = o->unwind_rows ? o->unwind_rows : 1 << 22;
	/*
	 * A page entry per 4 KiB of code: tables have 50-60 rows per page (libc, libLLVM), so one
	 * entry per 16 rows leaves room. Without room a table is searched whole.
	 */
	max_pages = max_rows / 16 + 1024;
	if (o->dwarf) {
		bpf_map__set_max_entries(s->skel->maps.unwind_procs,
					 o->unwind_procs ? o->unwind_procs : 4096);
		ncpu = libbpf_num_possible_cpus();
		if (ncpu > 0)
			bpf_map__set_max_entries(s->skel->maps.row_cache, ncpu * ROW_CACHE_SIZE);
		err = unwind_array__outer(s->skel->maps.unwind_rows, sizeof(struct unwind_row),
					  (max_rows + UNWIND_CHUNK - 1) / UNWIND_CHUNK);
		if (!err)
			err = unwind_array__outer(s->skel->maps.unwind_pages, sizeof(__u64),
						  (max_pages + UNWIND_CHUNK - 1) / UNWIND_CHUNK);
		if (err) {
			pr_err("cannot create the unwind table arrays: %s%s", strerror(-err),
			       perm_hint(err));
			goto cleanup;
		}
		s->rows = (struct unwind_array){
			.name = "unwind table array", .elem = sizeof(struct unwind_row),
			.outer_fd = bpf_map__fd(s->skel->maps.unwind_rows), .max = max_rows,
		};
		s->pages = (struct unwind_array){
			.name = "unwind page index", .elem = sizeof(__u64),
			.outer_fd = bpf_map__fd(s->skel->maps.unwind_pages), .max = max_pages,
		};
		/*
		 * A chunk of each to start (1 MiB of rows: a command and its libraries; libc 0.1),
		 * added while the programs are verified: each addition waits for a grace period.
		 */
		err = -pthread_create(&chunker, NULL, first_chunks, s);
		if (err) {
			pr_err("cannot start a thread: %s", strerror(-err));
			goto cleanup;
		}
		chunking = true;
	}
	t0 = now_mono_ns();
	err = profile_bpf__load(s->skel);
	if (chunking)
		pthread_join(chunker, NULL);
	if (err) {
		pr_err("cannot load the BPF programs: %s%s", strerror(-err), perm_hint(err));
		goto cleanup;
	}
	err = s->first_chunks_err;	/* said by unwind_array__grow() */
	if (err)
		goto cleanup;
	log_load(s, now_mono_ns() - t0, btf_fd >= 0);
	if (btf_fd >= 0)
		close(btf_fd);
	btf_fd = -1;
	s->inner_fd = bpf_map__fd(s->skel->maps.barrier_inner);
	if (s->skel->rodata->announce_new_stacks) {
		s->new_rb = ring_buffer__new(bpf_map__fd(s->skel->maps.new_stacks), on_new_stack,
					     s, NULL);
		if (!s->new_rb) {
			err = -errno;
			pr_err("cannot read the new-stack ring buffer: %s", strerror(-err));
			goto cleanup;
		}
	}
	s->uval = calloc(1, sizeof(*s->uval));
	s->kval = calloc(1, sizeof(*s->kval));
	if (!s->uval || !s->kval) {
		err = -ENOMEM;
		goto cleanup;
	}
	return s;
cleanup:
	if (btf_fd >= 0)
		close(btf_fd);
	sampler__free(s);
	*ret_err = err;
	return NULL;
}

int sampler__add_pid(struct sampler *s, uint32_t tgid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.targets), &tgid, &one, BPF_ANY))
		return -errno;
	return 0;
}

int sampler__add_tid(struct sampler *s, uint32_t tid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.tid_targets), &tid, &one, BPF_ANY))
		return -errno;
	return 0;
}

int sampler__add_cgroup(struct sampler *s, uint64_t cgroup_id)
{
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.cgroup_targets), &cgroup_id, &one,
				BPF_ANY))
		return -errno;
	return 0;
}

static int open_perf_event(const struct sampler_opts *o, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = o->freq_hz,
	};

	if (o->event && !strcmp(o->event, "cycles")) {
		attr.type = PERF_TYPE_HARDWARE;
		attr.config = PERF_COUNT_HW_CPU_CYCLES;
	} else {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		if (o->offcpu) {
			/*
			 * Wall-clock time weighs a sample by 1/F s: a fixed period of CPU time
			 * makes that exact, where the frequency mode's adapting period does not
			 * (a third too many samples on a loaded machine).
			 */
			attr.freq = 0;
			attr.sample_period = 1000000000ULL / o->freq_hz;
		}
	}
	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* perf -C: only the listed CPUs are sampled; one that is not online is an error, as in perf. */
static int restrict_cpus(const char *list, bool *online)
{
	bool *want = calloc(MAX_CPUS, sizeof(bool));
	int cpu, err = 0;

	if (!want)
		return -ENOMEM;
	if (parse_cpu_list(list, want, MAX_CPUS) <= 0) {
		pr_err("invalid CPU list '%s'", list);
		err = -EINVAL;
		goto cleanup;
	}
	for (cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (want[cpu] && !online[cpu]) {
			pr_err("CPU %d of the list '%s' is not online", cpu, list);
			err = -EINVAL;
			goto cleanup;
		}
		online[cpu] = want[cpu];
	}
cleanup:
	free(want);
	return err;
}

int sampler__attach(struct sampler *s)
{
	bool *online = calloc(MAX_CPUS, sizeof(bool));
	char buf[4096];
	ssize_t n;
	int fd, cpu, err = 0, nr_online;

	if (!online)
		return -ENOMEM;
	fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		err = -errno;
		pr_err("cannot read /sys/devices/system/cpu/online: %s", strerror(errno));
		goto cleanup;
	}
	buf[n] = '\0';
	nr_online = parse_cpu_list(buf, online, MAX_CPUS);
	if (nr_online <= 0) {
		err = -EINVAL;
		pr_err("cannot parse the online CPU list '%s'", buf);
		goto cleanup;
	}
	if (s->opts.cpus) {
		err = restrict_cpus(s->opts.cpus, online);
		if (err)
			goto cleanup;
	}
	if (s->opts.filter_pids) {
		if (s->opts.follow_forks)
			s->skel->links.on_fork = bpf_program__attach(s->skel->progs.on_fork);
		s->skel->links.on_exit = bpf_program__attach(s->skel->progs.on_exit);
		if ((s->opts.follow_forks && !s->skel->links.on_fork) || !s->skel->links.on_exit) {
			err = -errno;
			pr_err("cannot attach the fork/exit tracepoints: %s%s", strerror(-err),
			       perm_hint(err));
			goto cleanup;
		}
	}
	s->nr_online = nr_online;
	if (s->opts.offcpu) {
		s->switch_link = bpf_program__attach(s->skel->progs.on_switch);
		s->flush_link = s->switch_link ? bpf_program__attach_iter(s->skel->progs.offcpu_flush,
									  NULL) : NULL;
		if (!s->switch_link || !s->flush_link) {
			err = -errno;
			pr_err("cannot attach the scheduler switch tracepoint: %s%s", strerror(-err),
			       perm_hint(err));
			goto cleanup;
		}
	}
	if (!s->opts.oncpu)
		goto cleanup;
	s->pfds = malloc(MAX_CPUS * sizeof(int));
	s->links = calloc(MAX_CPUS, sizeof(*s->links));
	if (!s->pfds || !s->links) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct bpf_link *l;

		if (!online[cpu])
			continue;
		fd = open_perf_event(&s->opts, cpu);
		if (fd < 0) {
			err = -errno;
			if (err == -ENODEV) {
				/* Went offline since we read the list: its samples are just absent. */
				pr_warn("CPU %d is offline, not sampling it, ignoring", cpu);
				err = 0;
				continue;
			}
			if (err == -EINVAL)
				pr_err("cannot open a %s sampling event at %u Hz on CPU %d: %s (is the "
				       "frequency above /proc/sys/kernel/perf_event_max_sample_rate?)",
				       s->opts.event ? s->opts.event : "cpu-clock", s->opts.freq_hz, cpu,
				       strerror(-err));
			else
				pr_err("cannot open a sampling perf event on CPU %d: %s%s", cpu,
				       strerror(-err), perm_hint(err));
			goto cleanup;
		}
		l = bpf_program__attach_perf_event(s->skel->progs.do_sample, fd);
		if (!l) {
			err = -errno;
			close(fd);
			pr_err("cannot attach the BPF program to CPU %d: %s%s", cpu, strerror(-err),
			       perm_hint(err));
			goto cleanup;
		}
		s->pfds[s->nr_links] = fd;
		s->links[s->nr_links++] = l;
	}
	if (!s->nr_links) {
		err = -ENODEV;
		pr_err("no online CPU could be sampled");
	}
cleanup:
	free(online);
	return err;
}

int sampler__user_frames(const uint64_t *ips, int n, uint32_t flags)
{
	int i;

	if (flags & USTACK_UNWOUND)
		return n;
	for (i = 0; i < n; i++)
		if (ips[i] >> USER_ADDR_BITS)
			return i;
	return n;
}

/* Frames of the stack stored under id (0: none, an empty stack); -ENOENT when it is gone. */
static int fetch_stack(int fd, __u64 id, struct ustack_val *v)
{
	if (!id)
		return 0;
	if (bpf_map_lookup_elem(fd, &id, v))
		return -ENOENT;
	return MIN(v->n, MAX_STACK_DEPTH);
}

static void clear_ustacks(int fd)
{
	__u64 key, next;
	int have = 0;

	while (!bpf_map_get_next_key(fd, have ? &key : NULL, &next)) {
		bpf_map_delete_elem(fd, &next);
		key = next;
		have = 1;
	}
}

/*
 * Runs offcpu_flush over every task: threads switched out now get their time so far counted
 * in the generation about to be drained.
 */
static int flush_offcpu(struct sampler *s)
{
	char buf[64];
	int fd, err = 0;
	ssize_t n;

	fd = bpf_iter_create(bpf_link__fd(s->flush_link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

void sampler__end(struct sampler *s)
{
	s->ending = true;
}

int sampler__drain(struct sampler *s, sampler_sample_fn fn, void *ctx, uint64_t *lost_drain)
{
	uint64_t kstack[MAX_STACK_DEPTH + 1];
	__u32 old = s->skel->bss->gen, zero = 0;
	int counts_fd, ustacks_fd, err = 0;
	size_t nr = 0, i;
	struct sample_key *prev = NULL;

	if (s->flush_link) {
		err = flush_offcpu(s);
		if (err)
			pr_warn("cannot count the threads still off-CPU: %s, ignoring", strerror(-err));
		err = 0;
	}
	s->skel->bss->gen = !old;
	/*
	 * The kernel waits for an RCU grace period on map-in-map updates: after this call, no
	 * program still runs with the old generation. The last drain need not wait (17-20 ms
	 * here): a sample still being counted is one taken at the end, as one taken just after.
	 */
	if (!s->ending &&
	    bpf_map_update_elem(bpf_map__fd(s->skel->maps.barrier), &zero, &s->inner_fd, BPF_ANY))
		return -errno;
	counts_fd = bpf_map__fd(old ? s->skel->maps.counts1 : s->skel->maps.counts0);
	ustacks_fd = bpf_map__fd(old ? s->skel->maps.ustacks1 : s->skel->maps.ustacks0);

	for (;;) {
		if (nr == s->keys_cap) {
			size_t cap = s->keys_cap ? s->keys_cap * 2 : 1024;
			struct sample_key *k = realloc(s->keys, cap * sizeof(*k));

			if (!k)
				return -ENOMEM;
			s->keys = k;
			s->keys_cap = cap;
			prev = nr ? &s->keys[nr - 1] : NULL;
		}
		if (bpf_map_get_next_key(counts_fd, prev, &s->keys[nr]))
			break;
		prev = &s->keys[nr++];
	}
	for (i = 0; i < nr; i++) {
		const struct sample_key *k = &s->keys[i];
		const uint64_t *kst;
		int nu, nk;
		__u64 count;

		if (bpf_map_lookup_elem(counts_fd, k, &count))
			continue;
		const uint64_t *ustack = (const uint64_t *)s->uval->ips;

		nu = fetch_stack(ustacks_fd, k->ustack_hash, s->uval);
		if (nu > 0)
			nu = sampler__user_frames(ustack, nu, s->uval->flags);
		nk = fetch_stack(ustacks_fd, k->kstack_hash, s->kval);
		if (nk > 0)
			memcpy(kstack + 1, s->kval->ips, nk * sizeof(*kstack));
		if (nu < 0 || nk < 0) {
			*lost_drain += count;
			continue;
		}
		kst = kstack + 1;
		if (k->state) {
			/* The off-CPU state is a frame above the kernel stack: its leaf. */
			kstack[0] = OFFCPU_STATE_ADDR(MIN(k->state, OFFCPU_STATE_MAX));
			kst = kstack;
			nk++;
		}
		err = fn(ctx, k, count, ustack, nu, kst, nk);
		if (err)
			break;
	}
	for (i = 0; i < nr; i++)
		bpf_map_delete_elem(counts_fd, &s->keys[i]);
	clear_ustacks(ustacks_fd);
	return err;
}

int sampler__read_stats(struct sampler *s, uint64_t out[STAT_MAX])
{
	uint64_t *vals = calloc(s->nr_cpus, sizeof(*vals));
	int fd = bpf_map__fd(s->skel->maps.stats), c;
	__u32 i;

	if (!vals)
		return -ENOMEM;
	for (i = 0; i < STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (c = 0; c < s->nr_cpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int sampler__nr_cpus(const struct sampler *s)
{
	return s->opts.oncpu ? s->nr_links : s->nr_online;
}

bool sampler__is_target(struct sampler *s, uint32_t tgid)
{
	__u8 v;

	if (!s->opts.filter_pids)
		return true;
	return !bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.targets), &tgid, &v);
}

int sampler__unwind_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.unwind_procs) : -1;
}

int sampler__v8_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.v8_procs) : -1;
}

int sampler__hotspot_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.hotspot_procs) : -1;
}

int sampler__python_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.py_procs) : -1;
}

int sampler__php_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.php_procs) : -1;
}

int sampler__ruby_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.ruby_procs) : -1;
}

int sampler__ruby_methods_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.ruby_methods) : -1;
}

int sampler__perl_procs_fd(struct sampler *s)
{
	return s->opts.dwarf ? bpf_map__fd(s->skel->maps.perl_procs) : -1;
}

void *sampler__unwind_rows(struct sampler *s, uint32_t *cap, uint32_t *max)
{
	if (!s->rows.mem)
		return NULL;
	*cap = s->rows.cap;
	*max = s->rows.max;
	return s->rows.mem;
}

void *sampler__unwind_pages(struct sampler *s, uint32_t *cap, uint32_t *max)
{
	if (!s->pages.mem)
		return NULL;
	*cap = s->pages.cap;
	*max = s->pages.max;
	return s->pages.mem;
}

void sampler__set_chunk_source(struct sampler *s, sampler_chunk_fn fn, void *ctx)
{
	s->chunk_fn = fn;
	s->chunk_ctx = ctx;
}

uint32_t sampler__max_chunks(const struct sampler *s)
{
	if (!s->rows.mem)
		return 0;
	return (s->rows.max + UNWIND_CHUNK - 1) / UNWIND_CHUNK +
	       (s->pages.max + UNWIND_CHUNK - 1) / UNWIND_CHUNK;
}

int sampler__unwind_reserve(struct sampler *s, uint32_t rows, uint32_t pages)
{
	int err;

	if (!s->rows.mem || !s->pages.mem)
		return -EINVAL;
	err = unwind_array__reserve(&s->rows, rows, s->chunk_fn, s->chunk_ctx);
	if (err)
		return err;
	return unwind_array__reserve(&s->pages, pages, s->chunk_fn, s->chunk_ctx);
}

void sampler__free(struct sampler *s)
{
	int i;

	if (!s)
		return;
	unwind_array__free(&s->rows);
	unwind_array__free(&s->pages);
	free(s->uval);
	free(s->kval);
	for (i = 0; i < s->nr_links; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->pfds[i]);
	}
	free(s->links);
	free(s->pfds);
	bpf_link__destroy(s->flush_link);
	bpf_link__destroy(s->switch_link);
	ring_buffer__free(s->new_rb);
	profile_bpf__destroy(s->skel);
	free(s->keys);
	free(s);
}
