// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scaffolding every language runtime module had a copy of (python, php, ruby, perl, v8,
 * hotspot): process memory reads, the process table, the name cache and the file cache.
 * Generic over the size of the runtimes' entries, each of which starts with this module's
 * header struct.
 */
#include <errno.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <bpf/bpf.h>

#include "base/elfimage.h"
#include "base/log.h"
#include "base/util.h"
#include "sample/procs.h"
#include "runtime/rtbase.h"

size_t rtbase__read(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	/* buf is where the bytes go: callers rightly pass what is not set yet. */
	/* cppcheck-suppress ctuuninitvar */
	struct iovec local = { buf, len }, remote[2];
	uint64_t first = ((addr | 4095) + 1) - addr;
	ssize_t r;
	int nr = 1;

	remote[0].iov_base = (void *)addr;
	remote[0].iov_len = len;
	if (first < len) {
		remote[0].iov_len = first;
		remote[1].iov_base = (void *)(addr + first);
		remote[1].iov_len = len - first;
		nr = 2;
	}
	r = process_vm_readv(pid, &local, 1, remote, nr, 0);
	return r > 0 ? (size_t)r : 0;
}

int rtbase__read_all(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	return rtbase__read(pid, addr, buf, len) == len ? 0 : -EFAULT;
}

int rtbase__read_u64(uint32_t pid, uint64_t addr, uint64_t *v)
{
	return rtbase__read_all(pid, addr, v, 8);
}

int rtbase__read_u32(uint32_t pid, uint64_t addr, uint32_t *v)
{
	return rtbase__read_all(pid, addr, v, 4);
}

void rtbase__procs_init(struct rt_procs *t, int map_fd, size_t entry_size)
{
	memset(t, 0, sizeof(*t));
	t->map_fd = map_fd;
	t->entry_size = entry_size;
}

void rtbase__procs_release(struct rt_procs *t)
{
	if (!t)
		return;
	free(t->procs);
	t->procs = NULL;
	t->nr = t->cap = 0;
}

static struct rt_proc *proc_at(const struct rt_procs *t, size_t i)
{
	return (struct rt_proc *)((char *)t->procs + i * t->entry_size);
}

void *rtbase__proc_find(const struct rt_procs *t, uint32_t pid)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (proc_at(t, i)->pid == pid)
			return proc_at(t, i);
	return NULL;
}

void *rtbase__proc_add(struct rt_procs *t, uint32_t pid)
{
	struct rt_proc *p = rtbase__proc_find(t, pid);

	if (!p) {
		if (grow_array(&t->procs, &t->cap, t->nr + 1, t->entry_size))
			return NULL;
		p = proc_at(t, t->nr++);
	}
	memset(p, 0, t->entry_size);
	p->pid = pid;
	return p;
}

void rtbase__proc_exited(struct rt_procs *t, uint32_t pid)
{
	struct rt_proc *p = rtbase__proc_find(t, pid);

	if (p) {
		p->exited = true;
		bpf_map_delete_elem(t->map_fd, &pid);
	}
}

void rtbase__proc_refuse(struct rt_procs *t, struct rt_proc *p)
{
	p->refused = true;
	bpf_map_delete_elem(t->map_fd, &p->pid);
}

bool rtbase__proc_judge(struct rt_proc *p, int err)
{
	/* Until a first good one: a layout that named one fits, later misreads are races. */
	if (err == -EPROTO && !p->good && ++p->bad == RTBASE_BAD_NAMES)
		return true;
	if (!err)
		p->good++;
	return false;
}

bool rtbase__procs_trim(struct rt_procs *t)
{
	size_t i, k = 0;

	for (i = 0; i < t->nr; i++) {
		if (proc_at(t, i)->exited)
			continue;
		if (k != i)
			memcpy(proc_at(t, k), proc_at(t, i), t->entry_size);
		k++;
	}
	if (k == t->nr)
		return false;
	t->nr = k;
	return true;
}

void rtbase__names_init(struct rt_names *t, size_t entry_size,
			void (*clear)(void *ctx, void *entry), void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->entry_size = entry_size;
	t->clear = clear;
	t->ctx = ctx;
}

static struct rt_name *slot_at(const struct rt_names *t, size_t i)
{
	return (struct rt_name *)((char *)t->slots + i * t->entry_size);
}

/* The slot of (pid, addr): its entry, or the empty slot where it goes. NULL: no table yet. */
static struct rt_name *name_slot(const struct rt_names *t, uint32_t pid, uint64_t addr)
{
	size_t j;

	if (!t->cap)
		return NULL;
	j = hash_mix(addr ^ (uint64_t)pid << 48 ^ pid) & (t->cap - 1);
	while (slot_at(t, j)->addr) {
		if (slot_at(t, j)->addr == addr && slot_at(t, j)->pid == pid)
			return slot_at(t, j);
		j = (j + 1) & (t->cap - 1);
	}
	return slot_at(t, j);
}

/*
 * Rebuilds the table at cap (a power of two); with procs, leaving out (and clearing) the names
 * of processes not in it. 0, or -ENOMEM with the table as it was.
 */
static int names_rehash(struct rt_names *t, size_t cap, const struct rt_procs *procs)
{
	struct rt_names old = *t;
	struct rt_name *e;
	size_t i;

	t->slots = calloc(cap, t->entry_size);
	if (!t->slots) {
		t->slots = old.slots;
		return -ENOMEM;
	}
	t->cap = cap;
	t->nr = 0;
	for (i = 0; i < old.cap; i++) {
		e = slot_at(&old, i);
		if (!e->addr)
			continue;
		if (procs && !rtbase__proc_find(procs, e->pid)) {
			t->clear(t->ctx, e);
			continue;
		}
		memcpy(name_slot(t, e->pid, e->addr), e, t->entry_size);
		t->nr++;
	}
	free(old.slots);
	return 0;
}

void rtbase__names_release(struct rt_names *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++)
		if (slot_at(t, i)->addr)
			t->clear(t->ctx, slot_at(t, i));
	free(t->slots);
	t->slots = NULL;
	t->nr = t->cap = 0;
}

void *rtbase__name_find(const struct rt_names *t, uint32_t pid, uint64_t addr)
{
	struct rt_name *s = name_slot(t, pid, addr);

	return s && s->addr ? s : NULL;
}

void *rtbase__name_add(struct rt_names *t, uint32_t pid, uint64_t addr, void *entry)
{
	struct rt_name *s;

	/* Grown at 3/4: linear probing's runs stay short. */
	if ((t->nr + 1) * 4 >= t->cap * 3 && names_rehash(t, t->cap ? t->cap * 2 : 1024, NULL)) {
		t->clear(t->ctx, entry);
		return NULL;
	}
	s = name_slot(t, pid, addr);
	memcpy(s, entry, t->entry_size);
	s->pid = pid;
	s->addr = addr;
	t->nr++;
	return s;
}

void rtbase__names_trim(struct rt_names *t, const struct rt_procs *procs)
{
	/* Code addresses are reused only within a process: its names go once it has exited. */
	if (t->cap)
		names_rehash(t, t->cap, procs);
}

/* The executable segment: what turns a mapping's file offset into the file's vaddrs. */
static void file_exec_segment(struct rt_file *f, Elf *elf)
{
	size_t nph, i;

	if (elf_getphdrnum(elf, &nph))
		return;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			f->x_off = ph.p_offset;
			f->x_vaddr = ph.p_vaddr;
			return;
		}
	}
}

void *rtbase__file_of(struct rt_files *t, uint32_t pid, const struct map_entry *m)
{
	struct rt_file *f;
	struct elfimage *im;
	int fd, err = 0;

	for (f = t->head; f; f = f->next)
		if (f->ino == m->ino && f->maj == m->maj && f->min == m->min)
			return f;
	f = calloc(1, t->entry_size);
	if (!f)
		return NULL;
	f->maj = m->maj;
	f->min = m->min;
	f->ino = m->ino;
	f->next = t->head;
	t->head = f;
	fd = procs__open_mapping(pid, true, m);
	if (fd < 0) {
		pr_debug("%s: cannot open %s: %s", t->who, m->path, strerror(-fd));
		return f;
	}
	im = elfimage__open(fd, ELFIMAGE_SYMS, &err);
	if (!im) {
		pr_debug("%s: cannot read %s: %s", t->who, m->path, strerror(-err));
		goto cleanup;
	}
	file_exec_segment(f, elfimage__elf(im));
	t->scan(f, elfimage__elf(im), fd, m, pid);
	elfimage__free(im);
cleanup:
	close(fd);
	return f;
}

void rtbase__files_release(struct rt_files *t)
{
	struct rt_file *f, *next;

	if (!t)
		return;
	for (f = t->head; f; f = next) {
		next = f->next;
		if (t->clear)
			t->clear(f);
		free(f);
	}
	t->head = NULL;
}

bool rtbase__file_bias(const struct rt_file *f, const struct map_entry *m, uint64_t *bias)
{
	if (m->pgoff < (f->x_off & ~4095ULL) || m->pgoff > f->x_off + 4096)
		return false;
	*bias = m->start - (m->pgoff - f->x_off + f->x_vaddr);
	return true;
}

/* fn for every symbol with a value in .dynsym, and in .symtab unless dynsym_only. */
static void file_symbols(Elf *elf, bool dynsym_only,
			 void (*fn)(void *ctx, const char *name, const GElf_Sym *sym), void *ctx)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t k, n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && (dynsym_only || sh.sh_type != SHT_SYMTAB)))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (k = 0; k < n; k++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, k, &sym) || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name)
				fn(ctx, name, &sym);
		}
	}
}

void rtbase__file_symbols(Elf *elf, void (*fn)(void *ctx, const char *name, const GElf_Sym *sym),
			  void *ctx)
{
	file_symbols(elf, false, fn, ctx);
}

void rtbase__file_dynsyms(Elf *elf, void (*fn)(void *ctx, const char *name, const GElf_Sym *sym),
			  void *ctx)
{
	file_symbols(elf, true, fn, ctx);
}

struct sym_table {
	const struct rt_sym *syms;
	size_t n;
	char *f;
};

static void sym_table_one(void *ctx, const char *name, const GElf_Sym *sym)
{
	struct sym_table *t = ctx;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(name, t->syms[i].name))
			continue;
		/* The one in the later section wins, as in the runtimes' own loops before. */
		memcpy(t->f + t->syms[i].value, &sym->st_value, sizeof(uint64_t));
		if (t->syms[i].size != RT_SYM_NO_SIZE)
			memcpy(t->f + t->syms[i].size, &sym->st_size, sizeof(uint64_t));
		return;
	}
}

void rtbase__file_find_symbols(Elf *elf, const struct rt_sym *syms, size_t n, void *f)
{
	struct sym_table t = { syms, n, f };

	rtbase__file_symbols(elf, sym_table_one, &t);
}
