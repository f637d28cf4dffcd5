// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keeps the BPF unwinder's view in line with the profiled processes: one unwind table per file
 * (by device + inode, whatever number of processes map it) in the shared row array, and one
 * mapping index per process.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include "base/log.h"
#include "sample/procs.h"
#include "base/elfimage.h"
#include "sample/sampler.h"
#include "unwind/unwind_table.h"
#include "unwind/unwinder.h"
#include "base/util.h"

struct seg {
	uint64_t off, filesz, vaddr;
	bool exec;
};

/* A file's table in the row array; row_count == 0 when it has none (frame pointers). */
struct utable {
	uint32_t maj, min;
	uint64_t ino;
	uint32_t row_start, row_count;
	uint32_t page_start, nr_pages, first_page;
	struct seg *segs;
	size_t nr_segs;
	struct utable *next;
};

struct unwinder {
	struct sampler *smp;
	int procs_fd;
	struct unwind_row *rows;
	uint32_t cap, used;
	uint64_t *pages;
	uint32_t pages_cap, pages_used;
	struct utable *tables[512];
	struct utable *vdso;
	struct unwind_proc *scratch;
	struct unwinder_stats st;
	bool cap_warned;
	uint64_t created_ns;
	unwinder_proc_fn hook;
	void *hook_ctx;
};

struct unwinder *unwinder__new(struct sampler *smp)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->smp = smp;
	u->procs_fd = sampler__unwind_procs_fd(smp);
	u->rows = sampler__unwind_rows(smp, &u->cap);
	u->pages = sampler__unwind_pages(smp, &u->pages_cap);
	u->scratch = calloc(1, sizeof(*u->scratch));
	if (u->procs_fd < 0 || !u->rows || !u->pages || !u->scratch) {
		unwinder__free(u);
		return NULL;
	}
	u->st.rows_cap = u->cap;
	u->created_ns = now_mono_ns();
	return u;
}

void unwinder__free(struct unwinder *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < ARRAY_SIZE(u->tables); i++) {
		struct utable *t, *next;

		for (t = u->tables[i]; t; t = next) {
			next = t->next;
			free(t->segs);
			free(t);
		}
	}
	if (u->vdso)
		free(u->vdso->segs);
	free(u->vdso);
	free(u->scratch);
	free(u);
}

/*
 * The page index: for each 4 KiB page of the table's address range, the first row at or after
 * it, plus a final entry (row_count). Without room, the table is searched whole.
 */
static void index_pages(struct unwinder *u, struct utable *t, const struct unwind_row *rows)
{
	uint32_t first, last, n, i, r = 0;

	if (!t->row_count)
		return;
	first = rows[0].pc >> 12;
	last = rows[t->row_count - 1].pc >> 12;
	n = last - first + 1;
	if (n + 1 > u->pages_cap - u->pages_used)
		return;
	for (i = 0; i <= n; i++) {
		uint64_t page = (uint64_t)(first + i) << 12;

		while (r < t->row_count && rows[r].pc < page)
			r++;
		u->pages[u->pages_used + i] = r;
	}
	t->page_start = u->pages_used;
	t->nr_pages = n;
	t->first_page = first;
	u->pages_used += n + 1;
}

/* Builds the table of an open ELF into the row array; 0 or negative errno. */
static int load_elf(struct unwinder *u, struct utable *t, Elf *elf, const char *path)
{
	struct unwind_table *tab = NULL;
	uint64_t t0 = now_mono_ns();
	size_t nph, i, n;
	int err = 0;

	if (elf_getphdrnum(elf, &nph)) {
		err = -EINVAL;
		goto cleanup;
	}
	t->segs = calloc(nph ? nph : 1, sizeof(*t->segs));
	if (!t->segs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
			t->segs[t->nr_segs++] = (struct seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr,
							      ph.p_flags & PF_X };
	}
	tab = unwind_table__from_elf(elf, &err);
	if (!tab)
		goto cleanup;
	n = unwind_table__nr_rows(tab);
	if (n > u->cap - u->used) {
		err = -ENOSPC;
		u->st.tables_over_cap++;
		if (!u->cap_warned)
			pr_warn("unwind table memory cap reached (%u rows, %.1f MiB): %s falls back "
				"to frame pointers (raise --unwind-max-mb; -v names every binary "
				"that does not fit)",
				u->cap, u->cap * sizeof(struct unwind_row) / 1048576.0, path);
		else
			pr_info("unwind table cap: %s falls back to frame pointers", path);
		u->cap_warned = true;
		goto cleanup;
	}
	memcpy(u->rows + u->used, unwind_table__rows(tab), n * sizeof(struct unwind_row));
	t->row_start = u->used;
	t->row_count = n;
	u->used += n;
	index_pages(u, t, u->rows + t->row_start);
	u->st.rows_used = u->used;
	u->st.tables++;
	u->st.build_ns += now_mono_ns() - t0;
	pr_debug("unwind table for %s: %zu rows", path, n);
cleanup:
	if (err && err != -ENOSPC) {
		u->st.tables_failed++;
		pr_debug("no unwind table for %s: %s", path, strerror(-err));
	}
	unwind_table__free(tab);
	return err;
}

static void load_table(struct unwinder *u, struct utable *t, uint32_t pid, bool alive,
		       const struct map_entry *m)
{
	struct elfimage *im;
	const char *why;
	int fd, err = 0;

	fd = procs__open_mapping(pid, alive, m);
	if (fd < 0) {
		u->st.tables_failed++;
		pr_debug("no unwind table for %s: %s", m->path, strerror(-fd));
		return;
	}
	/* Only the CFI sections, each under a cap: a user's file can be made huge. */
	im = elfimage__open(fd, ELFIMAGE_CFI, &err);
	close(fd);
	if (!im || elfimage__refused(im, &why)) {
		if (im || err == -EFBIG) {
			u->st.tables_refused++;
			pr_info("no unwind table for %s: %s", m->path,
				im ? why : "ELF headers over the caps");
		}
		u->st.tables_failed++;
		elfimage__free(im);
		return;
	}
	load_elf(u, t, elfimage__elf(im), m->path);
	elfimage__free(im);
}

/* The vDSO has CFI too (clock_gettime and friends are hot): ours stands in for everyone's. */
static struct utable *vdso_table(struct unwinder *u)
{
	const void *base;
	size_t len;
	Elf *elf;

	if (u->vdso)
		return u->vdso;
	u->vdso = calloc(1, sizeof(*u->vdso));
	if (!u->vdso || procs__self_vdso(&base, &len))
		return u->vdso;
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)base, len);
	if (elf) {
		load_elf(u, u->vdso, elf, "[vdso]");
		elf_end(elf);
	}
	return u->vdso;
}

static struct utable *table_for(struct unwinder *u, uint32_t pid, const struct map_entry *m)
{
	size_t b = hash_mix(m->ino ^ ((uint64_t)m->maj << 40 | m->min)) % ARRAY_SIZE(u->tables);
	struct utable *t;

	for (t = u->tables[b]; t; t = t->next)
		if (t->ino == m->ino && t->maj == m->maj && t->min == m->min)
			return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->maj = m->maj;
	t->min = m->min;
	t->ino = m->ino;
	load_table(u, t, pid, true, m);
	t->next = u->tables[b];
	u->tables[b] = t;
	return t;
}

static void sync_proc(void *ctx, uint32_t pid, const struct map_entry *maps, size_t n, bool exited)
{
	struct unwinder *u = ctx;
	struct unwind_proc *up = u->scratch;
	size_t i, j;

	if (exited) {
		bpf_map_delete_elem(u->procs_fd, &pid);
		if (u->hook)
			u->hook(u->hook_ctx, pid, NULL, 0, true);
		return;
	}
	if (!sampler__is_target(u->smp, pid))
		return;
	if (u->hook)
		u->hook(u->hook_ctx, pid, maps, n, false);
	pr_debug("unwind index for process %u: %zu mappings, %.1f ms after start", pid, n,
		 (now_mono_ns() - u->created_ns) / 1e6);
	memset(up, 0, sizeof(*up));
	for (i = 0; i < n; i++) {
		const struct map_entry *m = &maps[i];
		struct unwind_map *um;
		struct utable *t = NULL;

		if (up->nr == UNWIND_MAX_MAPS) {
			u->st.maps_over_cap++;
			break;
		}
		um = &up->maps[up->nr++];
		um->start = m->start;
		um->end = m->end;
		if (m->ino)
			t = table_for(u, pid, m);
		else if (!strcmp(m->path, "[vdso]"))
			t = vdso_table(u);
		if (!t || !t->row_count)
			continue;
		/*
		 * The executable segment holding the mapping's file offset gives the address ->
		 * vaddr bias. Its first page may also hold the end of the previous (read-only)
		 * segment, whose offset-to-vaddr shift can differ: hence PF_X.
		 */
		for (j = 0; j < t->nr_segs; j++) {
			const struct seg *sg = &t->segs[j];

			if (sg->exec && m->pgoff >= (sg->off & ~4095ULL) &&
			    m->pgoff < sg->off + sg->filesz) {
				um->bias = m->start - (m->pgoff - sg->off + sg->vaddr);
				um->row_start = t->row_start;
				um->row_count = t->row_count;
				um->page_start = t->page_start;
				um->nr_pages = t->nr_pages;
				um->first_page = t->first_page;
				break;
			}
		}
	}
	if (!bpf_map_update_elem(u->procs_fd, &pid, up, BPF_NOEXIST)) {
		u->st.procs++;
		return;
	}
	if (errno != EEXIST || bpf_map_update_elem(u->procs_fd, &pid, up, BPF_EXIST)) {
		if (!u->st.procs_failed++)
			pr_warn("cannot add process %u to the unwind index: %s (more processes than "
				"--unwind-procs?), ignoring", pid, strerror(errno));
	}
}

void unwinder__sync(struct unwinder *u, struct procs *procs)
{
	procs__visit_dirty(procs, sync_proc, u);
}

void unwinder__set_proc_hook(struct unwinder *u, unwinder_proc_fn fn, void *ctx)
{
	u->hook = fn;
	u->hook_ctx = ctx;
}

void unwinder__stats(const struct unwinder *u, struct unwinder_stats *st)
{
	*st = u->st;
}
