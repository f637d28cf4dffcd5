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
#include "base/gopclntab.h"
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
	uint32_t cap, max, used;	/* rows: now, at most (--unwind-max-mb), in use */
	uint64_t *pages;
	uint32_t pages_cap, pages_max, pages_used;
	struct utable *tables[512];
	struct utable *vdso;
	struct unwind_proc *scratch;
	struct unwinder_stats st;
	bool cap_warned;
	uint64_t created_ns;
	/* Language runtimes (src/runtime/) told of processes, UNWINDER_MAX_HOOKS at most. */
	struct {
		unwinder_proc_fn fn;
		void *ctx;
	} hooks[UNWINDER_MAX_HOOKS];
	int nr_hooks;
};

struct unwinder *unwinder__new(struct sampler *smp)
{
	struct unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->smp = smp;
	u->procs_fd = sampler__unwind_procs_fd(smp);
	u->rows = sampler__unwind_rows(smp, &u->cap, &u->max);
	u->pages = sampler__unwind_pages(smp, &u->pages_cap, &u->pages_max);
	u->scratch = calloc(1, sizeof(*u->scratch));
	if (u->procs_fd < 0 || !u->rows || !u->pages || !u->scratch) {
		unwinder__free(u);
		return NULL;
	}
	u->st.rows_cap = u->max;
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
 * Room for rows more rows and pages more page entries, more of the arrays mapped as needed
 * (flamed's RSS follows the tables loaded); false past the cap.
 */
static bool reserve(struct unwinder *u, uint64_t rows, uint64_t pages)
{
	int err;

	if (u->used + rows <= u->cap && u->pages_used + pages <= u->pages_cap)
		return true;
	if (u->used + rows > u->max || u->pages_used + pages > u->pages_max)
		return false;
	err = sampler__unwind_reserve(u->smp, u->used + rows, u->pages_used + pages);
	u->rows = sampler__unwind_rows(u->smp, &u->cap, &u->max);
	u->pages = sampler__unwind_pages(u->smp, &u->pages_cap, &u->pages_max);
	return !err;
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
	if (!reserve(u, 0, n + 1))
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

/* Copies a file's rows into the global array; -ENOSPC past the memory cap. */
static int install_rows(struct unwinder *u, struct utable *t, const struct unwind_row *rows,
			size_t n, const char *path)
{
	if (!reserve(u, n, 0)) {
		u->st.tables_over_cap++;
		if (!u->cap_warned)
			pr_warn("unwind table memory cap reached (%u rows, %.1f MiB): %s falls back "
				"to frame pointers (raise --unwind-max-mb; -v names every binary "
				"that does not fit)",
				u->cap, u->cap * sizeof(struct unwind_row) / 1048576.0, path);
		else
			pr_info("unwind table cap: %s falls back to frame pointers", path);
		u->cap_warned = true;
		return -ENOSPC;
	}
	memcpy(u->rows + u->used, rows, n * sizeof(struct unwind_row));
	t->row_start = u->used;
	t->row_count = n;
	u->used += n;
	index_pages(u, t, u->rows + t->row_start);
	u->st.rows_used = u->used;
	u->st.tables++;
	pr_debug("unwind table for %s: %zu rows", path, n);
	return 0;
}

/* The file's PT_LOAD segments into t. */
static int load_segs(struct utable *t, Elf *elf)
{
	size_t nph, i;

	if (elf_getphdrnum(elf, &nph))
		return -EINVAL;
	t->segs = calloc(nph ? nph : 1, sizeof(*t->segs));
	if (!t->segs)
		return -ENOMEM;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
			t->segs[t->nr_segs++] = (struct seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr,
							      ph.p_flags & PF_X };
	}
	return 0;
}

struct go_rows {
	struct unwind_row *rows;
	size_t nr, cap;
};

static int go_row(void *ctx, uint64_t start, uint64_t end, int32_t delta)
{
	struct go_rows *gr = ctx;
	struct unwind_row row = { .pc = (uint32_t)start };

	if (end > UINT32_MAX)
		return -E2BIG;
	/* No frame (yet, or any more): the return address is at rsp, rbp is the caller's. */
	if (!delta) {
		row.cfa_off = 8;
		row.type = UNWIND_TYPE(CFA_RSP, RBP_SAME);
	} else {
		row.type = UNWIND_TYPE(CFA_NONE, RBP_SAME);
	}
	if (gr->nr && gr->rows[gr->nr - 1].type == row.type &&
	    gr->rows[gr->nr - 1].cfa_off == row.cfa_off)
		return 0;
	if (gr->nr + 2 > gr->cap) {
		size_t cap = gr->cap ? gr->cap * 2 : 4096;
		struct unwind_row *r = realloc(gr->rows, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		gr->rows = r;
		gr->cap = cap;
	}
	gr->rows[gr->nr++] = row;
	return 0;
}

/*
 * A Go binary without CFI (Go's linker writes no .eh_frame, -w drops .debug_frame): rows from
 * its .gopclntab's stack-pointer deltas where a function has no frame (a frameless leaf, and
 * every function's entry and return), where frame pointers would skip the caller; frame
 * pointers everywhere else (CFA_NONE).
 */
static int load_go(struct unwinder *u, struct utable *t, Elf *elf, int fd, const char *path)
{
	struct go_rows gr = { 0 };
	struct gopclntab *g;
	uint64_t t0 = now_mono_ns(), lo, hi;
	int err = 0;

	g = gopclntab__from_elf(elf, fd, &err);
	if (!g)
		return err;
	err = gopclntab__sp_deltas(g, go_row, &gr);
	gopclntab__range(g, &lo, &hi);
	if (!err && gr.nr && hi <= UINT32_MAX) {
		gr.rows[gr.nr++] = (struct unwind_row){ .pc = (uint32_t)hi,
							.type = UNWIND_TYPE(CFA_NONE, RBP_SAME) };
		err = install_rows(u, t, gr.rows, gr.nr, path);
	} else if (!err) {
		err = -ENOENT;
	}
	if (!err) {
		u->st.build_ns += now_mono_ns() - t0;
		pr_debug("unwind rows for %s from its Go table: %zu rows", path, gr.nr);
	} else if (err != -ENOSPC) {
		pr_debug("no unwind rows for %s from its Go table: %s", path, strerror(-err));
	}
	free(gr.rows);
	gopclntab__free(g);
	return err;
}

/*
 * Builds the table of an open ELF into the row array, from its CFI, or for a Go binary without
 * any from its .gopclntab (fd: the file, -1 for an image in memory); 0 or negative errno.
 */
static int load_elf(struct unwinder *u, struct utable *t, Elf *elf, int fd, const char *path)
{
	struct unwind_table *tab = NULL;
	uint64_t t0 = now_mono_ns();
	int err;

	err = load_segs(t, elf);
	if (err)
		goto cleanup;
	tab = unwind_table__from_elf(elf, &err);
	if (!tab && err == -ENOENT && fd >= 0 && gopclntab__is_go(elf))
		err = load_go(u, t, elf, fd, path);
	if (!tab)
		goto cleanup;
	err = install_rows(u, t, unwind_table__rows(tab), unwind_table__nr_rows(tab), path);
	if (!err)
		u->st.build_ns += now_mono_ns() - t0;
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
	if (!im || elfimage__refused(im, &why)) {
		close(fd);
		if (im || err == -EFBIG) {
			u->st.tables_refused++;
			pr_info("no unwind table for %s: %s", m->path,
				im ? why : "ELF headers over the caps");
		}
		u->st.tables_failed++;
		elfimage__free(im);
		return;
	}
	load_elf(u, t, elfimage__elf(im), fd, m->path);
	close(fd);
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
		load_elf(u, u->vdso, elf, -1, "[vdso]");
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
	int k;

	if (exited) {
		bpf_map_delete_elem(u->procs_fd, &pid);
		for (k = 0; k < u->nr_hooks; k++)
			u->hooks[k].fn(u->hooks[k].ctx, pid, NULL, 0, true);
		return;
	}
	if (!sampler__is_target(u->smp, pid))
		return;
	for (k = 0; k < u->nr_hooks; k++)
		u->hooks[k].fn(u->hooks[k].ctx, pid, maps, n, false);
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

int unwinder__add_proc_hook(struct unwinder *u, unwinder_proc_fn fn, void *ctx)
{
	if (u->nr_hooks >= UNWINDER_MAX_HOOKS)
		return -ENOSPC;
	u->hooks[u->nr_hooks].fn = fn;
	u->hooks[u->nr_hooks].ctx = ctx;
	u->nr_hooks++;
	return 0;
}

void unwinder__stats(const struct unwinder *u, struct unwinder_stats *st)
{
	*st = u->st;
}
