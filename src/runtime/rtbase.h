/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the language runtime modules (python, php, ruby, perl, v8, hotspot) share, once:
 * reading a profiled process's memory, the table of processes told to BPF, the cache of names
 * keyed by (process, code address), and the files (by identity) whose symbols were read. Each
 * runtime embeds a header struct first in its own entries (struct rt_proc in its process,
 * struct rt_name in its name, struct rt_file in its file) and keeps everything that is its
 * own: the layouts, what is read from a process, the words of its warnings. The tables know
 * only pids, code addresses, file identities and the entry size.
 */
#ifndef FLAMED_RTBASE_H
#define FLAMED_RTBASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

struct map_entry;

/*
 * Reads up to len bytes at addr of pid; stops at the first unreadable page. Bytes read. The
 * range is split at the first page boundary, as process_vm_readv(2) promises partial transfers
 * only at iovec granularity: a string ending just before an unmapped page still reads.
 */
size_t rtbase__read(uint32_t pid, uint64_t addr, void *buf, size_t len);
/* All len bytes at addr of pid: 0, or -EFAULT. */
int rtbase__read_all(uint32_t pid, uint64_t addr, void *buf, size_t len);
/* The 8 (4) bytes at addr of pid: 0, or -EFAULT. */
int rtbase__read_u64(uint32_t pid, uint64_t addr, uint64_t *v);
int rtbase__read_u32(uint32_t pid, uint64_t addr, uint32_t *v);

/*
 * Names that read as the layout says none would (-EPROTO), in a row and none named before,
 * before a process's layout is refused: one is a code object freed under the reader, eight
 * are offsets that do not fit the build.
 */
#define RTBASE_BAD_NAMES 8
/* Names kept, all processes of one runtime together. */
#define RTBASE_MAX_NAMES 200000

/* A process with a runtime, as told to BPF: first in each runtime's process struct. */
struct rt_proc {
	uint32_t pid;
	bool exited;
	bool refused;		/* its memory did not read as the layout says: native only */
	bool checked;		/* the layout was checked on the running interpreter */
	unsigned int good, bad;	/* names read / that contradicted the layout */
};

/* The processes of one runtime, entries of entry_size bytes; map_fd the BPF map they are in. */
struct rt_procs {
	int map_fd;
	size_t entry_size;
	void *procs;
	size_t nr, cap;
};

void rtbase__procs_init(struct rt_procs *t, int map_fd, size_t entry_size);
void rtbase__procs_release(struct rt_procs *t);
/* The entry of pid, or NULL. */
void *rtbase__proc_find(const struct rt_procs *t, uint32_t pid);
/*
 * The entry of pid, zeroed but for its pid: a new one, or the one it had (a process told again,
 * after an exec, starts over). NULL on ENOMEM. Entries move when one is added.
 */
void *rtbase__proc_add(struct rt_procs *t, uint32_t pid);
/* pid has exited: marked (its names stay until the next trim), and taken out of the BPF map. */
void rtbase__proc_exited(struct rt_procs *t, uint32_t pid);
/* p's layout does not fit (the runtime has said why): native frames only from now on. */
void rtbase__proc_refuse(struct rt_procs *t, struct rt_proc *p);
/*
 * Counts one name read for p (err: the runtime's reader's result); true when p is to be
 * refused now: RTBASE_BAD_NAMES reads of -EPROTO and no good one before them.
 */
bool rtbase__proc_judge(struct rt_proc *p, int err);
/* Drops the processes that have exited: true when there were any (then trim the names). */
bool rtbase__procs_trim(struct rt_procs *t);

/* A name cached for a code address of a process: first in each runtime's name struct. */
struct rt_name {
	uint32_t pid;
	uint64_t addr;		/* 0: an empty slot */
};

/*
 * Open addressing by (pid, addr), linear probing, a power of two of slots of entry_size bytes,
 * grown at 3/4. clear(ctx, entry) frees what an entry holds and zeroes it.
 */
struct rt_names {
	size_t entry_size;
	void (*clear)(void *ctx, void *entry);
	void *ctx;
	void *slots;
	size_t nr, cap;
};

void rtbase__names_init(struct rt_names *t, size_t entry_size,
			void (*clear)(void *ctx, void *entry), void *ctx);
/* Clears every entry and frees the slots. */
void rtbase__names_release(struct rt_names *t);
/* The entry of (pid, addr), or NULL. */
void *rtbase__name_find(const struct rt_names *t, uint32_t pid, uint64_t addr);
/*
 * Moves entry (entry_size bytes, what the runtime read) into the table as (pid, addr), which
 * must not be there yet: the slot, or NULL on ENOMEM with entry cleared. Slots move when the
 * table grows.
 */
void *rtbase__name_add(struct rt_names *t, uint32_t pid, uint64_t addr, void *entry);
/* Clears the entries of processes no longer in procs (after rtbase__procs_trim). */
void rtbase__names_trim(struct rt_names *t, const struct rt_procs *procs);

/*
 * A file a runtime looked at, by identity (device, inode): first in each runtime's file
 * struct, so that a process's every sync does not read its symbols again.
 */
struct rt_file {
	uint32_t maj, min;
	uint64_t ino;
	bool ok;			/* the runtime found what it needs there */
	uint64_t x_off, x_vaddr;	/* the executable segment: offset -> vaddr */
	struct rt_file *next;
};

/*
 * The files of one runtime (who: its name in messages). scan(f, elf, fd, m, pid) reads a new
 * file's symbols into f (its x_off and x_vaddr set already), sets f->ok, and says what it
 * lacks. clear(f), if not NULL, frees what f holds.
 */
struct rt_files {
	const char *who;
	size_t entry_size;
	void (*scan)(struct rt_file *f, Elf *elf, int fd, const struct map_entry *m,
		     uint32_t pid);
	void (*clear)(struct rt_file *f);
	struct rt_file *head;
};

/*
 * The file mapped at m, read (opened in the process's root: procs__open_mapping) the first
 * time; a file that cannot be opened or read is kept, not ok. NULL on ENOMEM.
 */
void *rtbase__file_of(struct rt_files *t, uint32_t pid, const struct map_entry *m);
void rtbase__files_release(struct rt_files *t);
/*
 * Whether m maps f's executable segment: then *bias, what turns an ELF vaddr of the file into
 * an address of the process.
 */
bool rtbase__file_bias(const struct rt_file *f, const struct map_entry *m, uint64_t *bias);
/* Calls fn for every symbol with a value in the file's .symtab and .dynsym. */
void rtbase__file_symbols(Elf *elf, void (*fn)(void *ctx, const char *name, const GElf_Sym *sym),
			  void *ctx);
/*
 * The same in .dynsym alone, for what a library exports: a .symtab (libjvm.so's: 58k symbols)
 * is not read through.
 */
void rtbase__file_dynsyms(Elf *elf, void (*fn)(void *ctx, const char *name, const GElf_Sym *sym),
			  void *ctx);

/* A symbol a runtime looks for: where its value (and size) go in the runtime's file struct. */
struct rt_sym {
	const char *name;
	size_t value;		/* offsetof a uint64_t */
	size_t size;		/* offsetof a uint64_t, or RT_SYM_NO_SIZE */
};
#define RT_SYM_NO_SIZE ((size_t)-1)

/* Fills the n symbols of syms found in the file into f (a runtime's file struct). */
void rtbase__file_find_symbols(Elf *elf, const struct rt_sym *syms, size_t n, void *f);

#endif
