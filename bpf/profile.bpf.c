// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sampling half of flamed: a perf_event program run by every CPU's sampling timer. It
 * filters by process in the kernel, stores kernel and user stacks by content hash and counts
 * each (process, thread name, user stack, kernel stack) key in a hash map.
 *
 * Maps come in two generations (counts0/ustacks0, counts1/ustacks1). The loader flips `gen`,
 * waits for running programs to finish (an ARRAY_OF_MAPS update makes the kernel wait for an
 * RCU grace period) and then drains the idle generation at leisure: no sample taken while it
 * reads is lost or counted twice.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "profile.h"
#include "unwind.h"
#include "python.h"
#include "php.h"
#include "ruby.h"
#include "perl.h"
#include "v8.h"
#include "hotspot.h"

#define PF_KTHREAD 0x00200000
#define EEXIST 17
#define E2BIG 7

const volatile bool filter_pids = false;
/* -t: only the threads in tid_targets (their processes are in targets too). */
const volatile bool filter_tids = false;
const volatile bool include_idle = false;
const volatile bool follow_forks = false;
const volatile bool dwarf_unwind = false;
/* --cgroup: only tasks whose cgroup v2 (or an ancestor) is in cgroup_targets, at most this deep. */
const volatile bool filter_cgroups = false;
const volatile __u32 cgroup_max_level = 0;
const volatile bool record_cgroup = false;
/* New stacks with runtime frames go to the new_stacks ring buffer (a runtime module is on). */
const volatile bool announce_new_stacks = false;

/* Which generation of maps the programs write; flipped by the loader. */
__u32 gen = 0;

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sample_key);
	__type(value, __u64);
	__uint(max_entries, 16384);
	/* Memory for the distinct stacks seen, not --max-stacks up front (sampler.c decides). */
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct counts_map counts0 SEC(".maps");
struct counts_map counts1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, STAT_MAX);
} stats SEC(".maps");

/* Processes (tgids) being profiled when filter_pids is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* memory for the processes profiled, not 64k */
} targets SEC(".maps");

/*
 * Threads (kernel pids) profiled when filter_tids is set. Their threads' children are not
 * (perf's -t does not inherit either); an exiting thread is removed, so a reused id is not.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 64);
} tid_targets SEC(".maps");

/*
 * Cgroup v2 ids profiled when filter_cgroups is set, with their descendants: a process that
 * moves into one is profiled from its next sample, one that leaves is not.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u8);
	__uint(max_entries, 64);
} cgroup_targets SEC(".maps");

/* True when the current task's cgroup or one of its ancestors is a target. */
static __always_inline bool in_target_cgroup(void)
{
	__u32 level;

	for (level = 0; level <= MAX_CGROUP_LEVEL && level <= cgroup_max_level; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);

		if (!id)
			return false;
		if (bpf_map_lookup_elem(&cgroup_targets, &id))
			return true;
	}
	return false;
}

/* DWARF unwinding: per-process mapping index, and every loaded table's rows in one array. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct unwind_proc);
	__uint(max_entries, 1);
	/* 6 KiB an entry: allocated per process indexed, not for the maximum up front. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} unwind_procs SEC(".maps");

/*
 * The rows, and the page index, in chunks of UNWIND_CHUNK entries: arrays of maps whose chunks
 * the loader creates as tables load, so the kernel's memory follows the tables (an array is
 * allocated whole: the cap's 64 MiB were taken at start). The loader maps the chunks one after
 * another into one reserved range, so it sees one array; here entry i is chunk i /
 * UNWIND_CHUNK, and a table may span chunks (each probe of a search finds its own).
 */
struct unwind_row_chunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_row);
	__uint(max_entries, UNWIND_CHUNK);
	__uint(map_flags, BPF_F_MMAPABLE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1);
	__array(values, struct unwind_row_chunk);
} unwind_rows SEC(".maps");

/* u64 entries: array elements are 8-byte aligned, and the loader writes them through mmap. */
struct unwind_page_chunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, UNWIND_CHUNK);
	__uint(map_flags, BPF_F_MMAPABLE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1);
	__array(values, struct unwind_page_chunk);
} unwind_pages SEC(".maps");

/* Entry i of a chunked array (unwind_rows, unwind_pages), or NULL. */
static __always_inline void *chunked_entry(void *outer, __u32 i)
{
	__u32 c = i / UNWIND_CHUNK, o = i % UNWIND_CHUNK;
	void *chunk = bpf_map_lookup_elem(outer, &c);

	return chunk ? bpf_map_lookup_elem(chunk, &o) : NULL;
}

struct ustacks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct ustack_val);
	__uint(max_entries, 16384);
	/* 1 KiB an entry: allocated per distinct stack, not for the maximum up front. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct ustacks_map ustacks0 SEC(".maps");
struct ustacks_map ustacks1 SEC(".maps");

/*
 * A user stack with language runtime frames, new in this generation: the loader names its
 * code objects at once (src/sample/sampler.c, sampler__new_stacks), while the process still
 * lives. Names were read at the drain, once a second, and a script shorter than that kept
 * "[python code 0x...]". Only new stacks are sent: the cost is the copy of one stack for
 * each distinct stack a generation, none on the samples that find theirs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 128 * 1024);
} new_stacks SEC(".maps");

#define UW_CHUNK 1024	/* a power of two */
#define PAGE_SIZE 4096

/* Per-CPU scratch of one unwind: the stack is too big for the 512-byte BPF stack. */
struct uw_state {
	struct ustack_val stack;	/* first: stored as is into ustacks */
	__u64 ip, sp, bp;
	__u64 hash;		/* of the frames so far: the stack's id in ustacks */
	__u32 cache_base;	/* this CPU's first row_cache entry */
	__u32 fp_frames;
	__u32 truncated;
	__u32 exact;		/* ip is not a return address (frame below was a signal frame) */
	__u32 py_frames;	/* Python frames emitted */
	/*
	 * Python: the next interpreter frame to emit (inside an activation of the eval loop), and
	 * the first frame of the next activation met further up the native stack. py_cur is also
	 * PHP's (php_active set): one cursor, as a second one's test in unwind_step took the
	 * verifier past its million instructions.
	 */
	__u64 py_cur, py_next;
	__u64 py_eval_start, py_eval_end;	/* the eval loop's code; 0, 0: not Python */
	struct py_offsets py_off;		/* copies: scalars keep the verifier's states few */
	struct v8_proc v8;	/* V8 (bpf/v8.h): code_end 0 when the process has none */
	__u32 v8_frames;	/* JavaScript frames emitted */
	struct hotspot_proc hs;	/* HotSpot (bpf/hotspot.h): code_end 0 when the process has none */
	__u32 hs_frames;	/* compiled Java frames unwound by their frame size */
	__u64 hs_leaf_bcp;	/* the sampled instruction's r13, when it runs in the interpreter */
	__u8 py_buf[128 + 8];	/* one interpreter frame, read at once */
	/* PHP (bpf/php_unwind.h): as py_next, a zend_execute_data; py_cur when php_active. */
	__u64 php_next;
	__u64 php_exec_start, php_exec_end;	/* execute_ex; 0, 0: not PHP */
	__u64 php_leaf_ed, php_leaf_opline;	/* the innermost frame's opline, from r15 */
	__u32 php_frames;
	__u32 php_active;
	struct php_offsets php_off;
	__u8 php_buf[64 + 8];
	/* Ruby (bpf/ruby_unwind.h): as py_next, a control frame; py_cur when rb_active. */
	__u64 rb_next, rb_end;	/* the end: RUBY_VM_END_CONTROL_FRAME */
	__u64 rb_exec_start, rb_exec_end;	/* rb_vm_exec; 0, 0: not Ruby */
	__u32 rb_frames;
	__u32 rb_active;
	__u32 rb_tgid;		/* the process: ruby_methods' key, without a helper call a frame */
	struct ruby_offsets rb_off;
	__u8 rb_buf[64 + 8];
	/*
	 * Perl (bpf/perl_unwind.h): the stackinfo and context index of the next context (pl_ix
	 * < 0: none left in it), py_cur 1 while pl_active.
	 */
	__u64 pl_si, pl_cx, pl_prev;	/* si, its si_cxstack, its si_prev */
	__u64 pl_main_cv;
	__u64 pl_run_start, pl_run_end;	/* Perl_runops_standard; 0, 0: not Perl */
	__s32 pl_ix;
	__u32 pl_line;		/* the line of the next frame emitted */
	__u32 pl_frames;
	__u32 pl_active;
	__u32 pl_after_sub;	/* the last activation ended at a sub called from C */
	__u32 pl_pad;
	struct perl_offsets pl_off;
	__u8 pl_buf[128 + 8];
	/*
	 * Consecutive frames are often in the same binary. A copy, not a pointer: a pointer
	 * whose offset changes every iteration keeps the verifier from converging.
	 */
	struct unwind_map last;
	/*
	 * A window of the user stack, read with one bpf_probe_read_user: a read has a fixed cost
	 * several times that of a frame's table lookup, and a chunk holds several frames (words
	 * are read upwards from the sampled rsp). buf[buf_len..] is garbage; the 8 spare bytes let
	 * the verifier see a bounded offset as a safe 8-byte load.
	 */
	__u64 buf_base;
	__u32 buf_len;
	__u8 buf[UW_CHUNK + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct uw_state);
	__uint(max_entries, 2);	/* UW_SLOT_SAMPLE, UW_SLOT_SWITCH */
} unwind_scratch SEC(".maps");

/* CPython processes (src/runtime/python.c): where the runtime is and its layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct py_proc);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} py_procs SEC(".maps");

/*
 * Thread id -> its PyThreadState, so the interpreter's thread list is walked once a thread.
 * An LRU map is allocated whole: 4096 threads take 0.4 MiB (16384 took 1.5 MiB, the largest
 * map of a -p run). A host with more Python threads sampled at once only walks a list again
 * for a thread evicted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, struct py_thread);
	__uint(max_entries, 4096);
} py_threads SEC(".maps");

/*
 * Rows found for (table, vaddr), per CPU, direct-mapped: the same return addresses come back
 * sample after sample (hot paths, recursion), and a hit costs one cache line instead of the
 * page index and a binary search. Tables are only ever appended to the row array, so an entry
 * never goes stale.
 */
struct row_cache_ent {
	__u64 key;		/* (row_start + 1) << 32 | vaddr; 0 is empty */
	struct unwind_row row;
};

/*
 * CPU c's cache is entries [c * ROW_CACHE_SIZE, (c + 1) * ROW_CACHE_SIZE): one flat array
 * (sized by the loader) rather than a per-CPU array, whose every element is a separate
 * allocation reached through a table of pointers: two cache lines and TLB entries a lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct row_cache_ent);
	__uint(max_entries, 1);
} row_cache SEC(".maps");

/* Only here so the loader can update it: that update waits for running BPF programs. */
struct barrier_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} barrier_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 1);
	__array(values, struct barrier_inner);
} barrier SEC(".maps") = {
	.values = { &barrier_inner },
};

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

/* Adds n to key's count: 1 a sample, or nanoseconds off-CPU. */
static __always_inline void count_key_n(void *counts, struct sample_key *key, __u64 n)
{
	__u64 *v;
	long err;

	v = bpf_map_lookup_elem(counts, key);
	if (v) {
		__sync_fetch_and_add(v, n);
		return;
	}
	err = bpf_map_update_elem(counts, key, &n, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* Another CPU inserted the same key between our lookup and update. */
		v = bpf_map_lookup_elem(counts, key);
		if (v) {
			__sync_fetch_and_add(v, n);
			return;
		}
	}
	if (err)
		stat_inc(STAT_COUNTS_FULL);
}

static __always_inline void count_key(void *counts, struct sample_key *key)
{
	count_key_n(counts, key, 1);
}

struct loop_ctx {
	struct uw_state *st;
	struct unwind_proc *proc;
};

static __always_inline __u64 user_u64(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/*
 * The PyThreadState of the current thread: the one whose thread_id (pthread_self, which is the
 * fs base on x86_64) is the task's fs base. Remembered per thread id and checked at each use,
 * as thread states are freed and reused.
 */
__noinline __u64 py_thread_state(struct py_proc *py, __u32 tid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = task->thread.fsbase, ts, interp, head, now;
	struct py_thread *t = bpf_map_lookup_elem(&py_threads, &tid), nt;
	int i;

	if (!fsbase || !py)
		return 0;
	if (t && t->fsbase == fsbase && t->tstate &&
	    user_u64(t->tstate + py->off.ts_thread_id) == fsbase)
		return t->tstate;
	interp = user_u64(py->runtime + py->off.rt_interp_head);
	/* 3.6: that was the thread state holding the GIL; its interpreter has the list. */
	if (interp && py->off.ts_interp)
		interp = user_u64(interp + py->off.ts_interp);
	if (!interp)
		return 0;
	head = user_u64(interp + py->off.interp_threads);
	now = bpf_ktime_get_ns();
	/*
	 * Not a Python thread (yet): the list walk is the costly part, not every sample. Unless
	 * the list has changed (a new thread state is put first): the main thread sampled between
	 * PyInterpreterState_New and PyThreadState_New (0.1 ms apart) went unnamed for
	 * PY_RETRY_NS of wall time, the interpreter's start and its first code (20-70 samples of
	 * 1000 on a loaded machine).
	 */
	if (t && t->fsbase == fsbase && !t->tstate && t->head == head &&
	    now - t->when < PY_RETRY_NS)
		return 0;
	nt.fsbase = fsbase;
	nt.when = now;
	nt.head = head;
	ts = head;
	for (i = 0; i < PY_MAX_THREADS && ts; i++) {
		if (user_u64(ts + py->off.ts_thread_id) == fsbase) {
			nt.tstate = ts;
			bpf_map_update_elem(&py_threads, &tid, &nt, BPF_ANY);
			return ts;
		}
		ts = user_u64(ts + py->off.ts_next);
	}
	nt.tstate = 0;
	bpf_map_update_elem(&py_threads, &tid, &nt, BPF_ANY);
	return 0;
}

/* The thread's innermost interpreter frame, or 0. */
__noinline __u64 py_current_frame(struct py_proc *py, __u64 ts)
{
	__u64 f;

	if (!py)
		return 0;
	f = user_u64(ts + py->off.ts_frame);

	if (f && py->off.cframe_current != PY_NO_OFF)
		f = user_u64(f + py->off.cframe_current);
	return f;
}

#define PY_BUF_U64(st, off) (*(__u64 *)((st)->py_buf + ((off) & 127)))

/*
 * Emits the interpreter frame st->py_cur and moves to the one it was called from: within the
 * same activation of the eval loop (py_cur), or the first of the next one (py_next).
 */
__noinline int py_step(struct uw_state *st)
{
	struct py_offsets *off;

	__u64 f, code, prev, instr = 0, p;
	__u32 n;
	__u8 entry;

	if (!st)
		return 0;
	f = st->py_cur;
	n = st->stack.n;
	st->py_cur = 0;
	off = &st->py_off;
	if (n >= MAX_STACK_DEPTH)
		return 0;
	if (bpf_probe_read_user(st->py_buf, 128, (void *)f)) {
		stat_inc(STAT_PY_READ);
		st->py_next = 0;
		return 0;
	}
	code = PY_BUF_U64(st, off->fr_code);
	prev = PY_BUF_U64(st, off->fr_previous);
	entry = st->py_buf[off->fr_entry & 127];
	if (off->model == PY_MODEL_SHIM && entry == PY_OWNED_BY_CSTACK) {
		/* The shim that starts this activation: the frames above are the next one's. */
		st->py_next = prev;
		return 0;
	}
	if (off->model == PY_MODEL_FRAMEOBJ) {
		__s32 lasti = *(__s32 *)(st->py_buf + (off->fr_instr & 127));

		instr = lasti >= 0 ? (__u64)lasti + 1 : 0;
	} else {
		p = PY_BUF_U64(st, off->fr_instr);
		if (p >= code + off->co_code)
			instr = (p - code - off->co_code) / 2 + 1;
	}
	if (instr > 0xffff)
		instr = 0;
	p = RUNTIME_FRAME(code, instr);
	st->stack.ips[n & 127] = p;
	st->stack.n = n + 1;
	st->hash = (st->hash ^ p) * 0x100000001b3ULL;
	st->hash ^= st->hash >> 29;
	st->py_frames++;
	if (off->model == PY_MODEL_FRAMEOBJ ||
	    (off->model == PY_MODEL_ENTRY && entry))
		st->py_next = prev;	/* the activation's only (or first) frame */
	else
		st->py_cur = prev;
	return 0;
}

#include "php_unwind.h"
#include "ruby_unwind.h"
#include "perl_unwind.h"

/*
 * 1 when pc is in an interpreter's loop whose frames are to be emitted (from the next step
 * on, in place of that native frame). A global function: the comparisons do not multiply the
 * verifier's states of the unwinding loop.
 */
__noinline int runtime_enter(struct uw_state *st, __u64 pc)
{
	if (!st)
		return 0;
	if (st->py_next && pc >= st->py_eval_start && pc < st->py_eval_end) {
		/* An activation of the eval loop: its Python frames. */
		st->py_cur = st->py_next;
		st->py_next = 0;
		st->php_active = 0;
		st->rb_active = 0;
		st->pl_active = 0;
		return 1;
	}
	if (st->rb_next)
		return ruby_enter(st, pc);
	if (st->pl_si)
		return perl_enter(st, pc);
	return st->php_next && php_enter(st, pc);
}

/* A step of the interpreter activation being emitted (one runtime per process). */
__noinline int runtime_step(struct uw_state *st)
{
	if (!st)
		return 0;
	if (st->php_active)
		return php_step(st);
	if (st->rb_active)
		return ruby_step(st);
	if (st->pl_active)
		return perl_step(st);
	return py_step(st);
}

/*
 * Index of the last row at or below vaddr in [start, start + count), or -1. At most 2^24 rows
 * per table. A global function: the verifier checks it once, not once per path of its caller.
 */
__noinline int find_row(__u32 start, __u32 count, __u32 vaddr)
{
	__u32 lo = 0, hi = count, i;

	for (i = 0; i < 24 && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2, idx = start + mid;
		struct unwind_row *row = chunked_entry(&unwind_rows, idx);

		if (!row)
			return -1;
		if (row->pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (int)(start + lo - 1) : -1;
}

/*
 * Index of the mapping of proc holding addr, or -1. A global function: verified once, not for
 * every path of its caller's loop (as an inline one, its 8 unrolled steps of three ways each
 * were most of the 590,000 instructions do_sample's verification went through).
 */
_Static_assert((UNWIND_MAX_MAPS & (UNWIND_MAX_MAPS - 1)) == 0, "the caller masks an index");

__noinline int find_map(struct unwind_proc *proc, __u64 addr)
{
	__u32 lo = 0, hi, i;

	if (!proc)
		return -1;
	hi = proc->nr;
	if (hi > UNWIND_MAX_MAPS)
		hi = UNWIND_MAX_MAPS;
	for (i = 0; i < 8 && lo < hi; i++) {
		__u32 mid = (lo + hi) / 2;
		struct unwind_map *m;

		if (mid >= UNWIND_MAX_MAPS)
			return -1;
		m = &proc->maps[mid];
		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/*
 * The user word at addr, from the stack window when it holds it, else after reading a new
 * window starting at addr. A window that would cross into an unmapped page (the top of the
 * stack) is cut at the end of addr's page.
 */
static __always_inline int stack_word(struct uw_state *st, __u64 addr, __u64 *out)
{
	__u64 off = addr - st->buf_base, base;
	__u32 len;

	if (addr < st->buf_base || off + 8 > st->buf_len) {
		base = addr & ~7ULL;
		if (bpf_probe_read_user(st->buf, UW_CHUNK, (void *)base)) {
			len = PAGE_SIZE - (base & (PAGE_SIZE - 1));
			if (len > UW_CHUNK)
				len = UW_CHUNK;
			if (len < 8 || bpf_probe_read_user(st->buf, len, (void *)base)) {
				st->buf_len = 0;
				return -1;
			}
		} else {
			len = UW_CHUNK;
		}
		st->buf_base = base;
		st->buf_len = len;
		off = addr - base;
		if (off + 8 > len)
			return -1;	/* addr straddles a page end */
	}
	*out = *(__u64 *)(st->buf + (off & (UW_CHUNK - 1)));
	return 0;
}

/*
 * The row of m's table for vaddr v, when the row cache missed: the page index narrows the
 * binary search to the rows of v's page. 0, or -1 without a row (*out untouched). A global
 * function: verified once (as a static one it was verified again for every state of the
 * unwinding loop's callback, a second of loading), and out of the cache-hit path.
 */
__noinline int table_row(struct unwind_map *m, __u32 v, struct unwind_row *out)
{
	__u32 row_count, first_page, nr_pages, lo = 0, hi, pg, k;
	struct unwind_row *r;
	int idx;

	if (!m || !out)
		return -1;
	row_count = m->row_count;
	first_page = m->first_page;
	nr_pages = m->nr_pages;
	hi = row_count;
	pg = (v >> 12) - first_page;

	if (nr_pages && (v >> 12) >= first_page && pg < nr_pages) {
		__u64 *a, *b;

		k = m->page_start + pg;
		a = chunked_entry(&unwind_pages, k);
		b = chunked_entry(&unwind_pages, k + 1);
		if (a && b && *b <= row_count && *a <= *b) {
			/* The row before the page's first may still cover its start. */
			lo = *a ? *a - 1 : 0;
			hi = *b;
		}
	}
	idx = find_row(m->row_start + lo, hi - lo, v);
	if (idx < 0)
		return -1;
	r = chunked_entry(&unwind_rows, idx);
	if (!r)
		return -1;
	*out = *r;
	return 0;
}

#include "v8_unwind.h"
#include "hotspot_unwind.h"

/* One frame: record ip, then compute the caller's ip/sp/bp. Returns 1 to stop. */
static long unwind_step(__u32 i, struct loop_ctx *c)
{
	struct uw_state *st = c->st;
	struct unwind_map *m;
	struct unwind_row row = {};
	__u64 start;
	__u64 ip = st->ip, pc, cfa, ra = 0, bp = st->bp;
	__u32 n = st->stack.n;
	__u8 cfa_type = CFA_NONE;

	if (st->py_cur) {
		/* Inside an interpreter's activation: one of its frames a step. */
		runtime_step(st);
		return 0;
	}
	if (n >= MAX_STACK_DEPTH || !ip)
		return 1;
	/* Callers' ips are return addresses: look up the call instruction itself. */
	pc = n && !st->exact ? ip - 1 : ip;
	st->exact = 0;
	start = st->last.start;
	if (pc >= start && pc < st->last.end) {
		m = &st->last;
	} else {
		int mi = find_map(c->proc, pc);

		/* Masked: the compiler knows the range and drops a comparison the verifier needs. */
		m = mi >= 0 ? &c->proc->maps[mi & (UNWIND_MAX_MAPS - 1)] : NULL;
		if (m) {
			st->last = *m;
		} else if (n && (c->proc->nr < UNWIND_MAX_MAPS || ip >> USER_ADDR_BITS)) {
			/*
			 * A caller outside every executable mapping: what was read as a return
			 * address is not one (an outermost frame without an end-of-stack mark,
			 * such as makecontext's). Stop rather than report garbage frames, which
			 * could pass for a runtime frame's tag (with more mappings than the index
			 * holds, only a value that is no user address is known to be garbage).
			 */
			goto truncated;
		}
	}
	/*
	 * ip, or in V8 code the JavaScript function it runs, in HotSpot's interpreter the Java
	 * method (bpf/v8_unwind.h).
	 */
	if (!runtime_enter(st, pc))
		v8_emit(st, ip, pc);
	if (m && m->row_count && pc - m->bias < 0xffffffffULL) {
		__u32 v = pc - m->bias;
		__u64 key = (__u64)(m->row_start + 1) << 32 | v;
		__u32 slot = ((__u32)((key * 0x9e3779b97f4a7c15ULL) >> 53) & (ROW_CACHE_SIZE - 1)) +
			     st->cache_base;
		struct row_cache_ent *ce = bpf_map_lookup_elem(&row_cache, &slot);

		if (ce && ce->key == key) {
			row = ce->row;
		} else if (!table_row(m, v, &row) && ce) {
			ce->key = key;
			ce->row = row;
		}
		cfa_type = UNWIND_CFA_TYPE(row.type);
	}
	switch (cfa_type) {
	case CFA_END:
		return 1;
	case CFA_RSP:
		cfa = st->sp + row.cfa_off;
		break;
	case CFA_RBP:
		cfa = st->bp + row.cfa_off;
		break;
	case CFA_PLT:
		/* cfa_off is the base (8), rbp_off8 the threshold (11 for ld's PLT entries). */
		cfa = st->sp + row.cfa_off + ((ip & 15) >= (__u64)row.rbp_off8 ? 8 : 0);
		break;
	case CFA_SIGNAL: {
		/*
		 * The handler returned here, popping pretcode: rsp points at the ucontext, whose
		 * mcontext (at 40) holds the interrupted rbp (+80), rsp (+120) and rip (+128).
		 */
		__u64 sc[7];

		if (bpf_probe_read_user(sc, sizeof(sc), (void *)(st->sp + 40 + 80)))
			goto truncated;
		st->bp = sc[0];
		st->sp = sc[5];
		st->ip = sc[6];
		st->exact = 1;
		return 0;
	}
	case CFA_DEREF_RBP:
		if (stack_word(st, st->bp + row.cfa_off, &cfa))
			goto truncated;
		break;
	default:
		/* A compiled Java frame: its blob's frame size says where its CFA is. */
		if (hotspot_step(st, pc))
			return 0;
		/* No usable CFI here: this frame's caller through frame pointers. */
		if (!st->bp)
			return 1;
		if (stack_word(st, st->bp, &bp) || stack_word(st, st->bp + 8, &ra))
			goto truncated;
		st->fp_frames++;
		if (st->bp + 16 <= st->sp)
			goto truncated;
		st->sp = st->bp + 16;
		st->bp = bp;
		st->ip = ra;
		return 0;
	}
	/* The saved rbp (below the return address, usually) first: windows grow upwards. */
	if (UNWIND_RBP_TYPE(row.type) == RBP_AT_CFA &&
	    stack_word(st, cfa + row.rbp_off8 * 8, &bp))
		goto truncated;
	if (stack_word(st, cfa - 8, &ra))
		goto truncated;
	/* The stack grows down: a caller's frame is always above. Anything else is a loop. */
	if (cfa <= st->sp)
		goto truncated;
	st->sp = cfa;
	st->bp = bp;
	st->ip = ra;
	return 0;
truncated:
	st->truncated = 1;
	return 1;
}

/* Scratch slots of unwind_scratch: the sampler's, and the scheduler switch's (bpf/offcpu.h). */
#define UW_SLOT_SAMPLE 0
#define UW_SLOT_SWITCH 1

/*
 * Unwinds the user stack of the current task from (ip, sp, bp) with the loaded tables, into
 * the scratch slot's stack. NULL when this process has no unwind index (frame pointers then)
 * or nothing was unwound.
 */
static __always_inline struct uw_state *unwind_user(__u32 tgid, __u64 ip, __u64 sp, __u64 bp,
						     __u32 slot)
{
	struct loop_ctx c;
	struct py_proc *py;
	struct v8_proc *v8;
	struct hotspot_proc *hs;
	__u64 ts;
	long steps;

	c.proc = bpf_map_lookup_elem(&unwind_procs, &tgid);
	if (!c.proc)
		return NULL;
	c.st = bpf_map_lookup_elem(&unwind_scratch, &slot);
	if (!c.st)
		return NULL;
	c.st->ip = ip;
	c.st->sp = sp;
	c.st->bp = bp;
	c.st->stack.n = 0;
	c.st->stack.flags = USTACK_UNWOUND;
	c.st->last.start = 0;
	c.st->last.end = 0;
	c.st->fp_frames = 0;
	c.st->truncated = 0;
	c.st->exact = 0;
	c.st->hash = 0xcbf29ce484222325ULL;
	c.st->cache_base = bpf_get_smp_processor_id() * ROW_CACHE_SIZE;
	c.st->buf_base = 0;
	c.st->buf_len = 0;
	c.st->py_cur = 0;
	c.st->py_next = 0;
	c.st->py_frames = 0;
	c.st->py_eval_start = 0;
	c.st->py_eval_end = 0;
	c.st->v8_frames = 0;
	c.st->v8.code_end = 0;
	v8 = bpf_map_lookup_elem(&v8_procs, &tgid);
	if (v8)
		c.st->v8 = *v8;
	c.st->hs_frames = 0;
	c.st->hs.code_end = 0;
	c.st->hs_leaf_bcp = 0;
	hs = bpf_map_lookup_elem(&hotspot_procs, &tgid);
	if (hs) {
		c.st->hs = *hs;
		if (hs->interp_bcp && ip >= hs->interp_start && ip < hs->interp_end)
			c.st->hs_leaf_bcp = hotspot_leaf_bcp(ip, sp);
	}
	py = bpf_map_lookup_elem(&py_procs, &tgid);
	if (py) {
		ts = py_thread_state(py, (__u32)bpf_get_current_pid_tgid());
		if (ts)
			c.st->py_next = py_current_frame(py, ts);
		else
			stat_inc(STAT_PY_NO_THREAD);
		c.st->py_eval_start = py->eval_start;
		c.st->py_eval_end = py->eval_end;
		c.st->py_off = py->off;
	}
	php_begin(c.st, tgid, ip, sp);
	ruby_begin(c.st, tgid);
	perl_begin(c.st, tgid);
	steps = bpf_loop(MAX_STACK_DEPTH, unwind_step, &c, 0);
	/*
	 * Frames left when the stack or the loop was full (deep native stacks, deep Python or
	 * PHP recursion: py_cur is the interpreters' shared cursor): the root part is cut, and
	 * counted. (A stack whose outermost frame is exactly the last one that fits counts too:
	 * not told apart, and rare.)
	 */
	if (c.st->py_cur ||
	    (c.st->ip && (c.st->stack.n >= MAX_STACK_DEPTH || steps >= MAX_STACK_DEPTH)))
		c.st->truncated = 1;
	if (!c.st->stack.n)
		return NULL;
	stat_inc(STAT_DWARF);
	if (c.st->fp_frames)
		stat_inc(STAT_DWARF_FP);
	if (c.st->truncated)
		stat_inc(STAT_DWARF_TRUNC);
	if (c.st->py_frames)
		stat_inc(STAT_PY_STACKS);
	if (c.st->php_frames)
		stat_inc(STAT_PHP_STACKS);
	if (c.st->rb_frames)
		stat_inc(STAT_RUBY_STACKS);
	if (c.st->pl_frames)
		stat_inc(STAT_PERL_STACKS);
	if (c.st->v8_frames)
		stat_inc(STAT_V8_STACKS);
	if (c.st->hs_frames)
		stat_inc(STAT_HOTSPOT_STACKS);
	if (!c.st->hash)
		c.st->hash = 1;
	return c.st;
}

/* The id of n frames: a hash, seeded apart for kernel and user stacks; 0 = no frames. */
#define KSTACK_SEED 0x6b65726eULL
#define USTACK_SEED 0xcbf29ce484222325ULL
static __always_inline __u64 stack_hash(const struct ustack_val *st, __u64 seed)
{
	__u64 h = seed;
	__u32 i, n = st->n;

	if (!n)
		return 0;
	for (i = 0; i < MAX_STACK_DEPTH; i++) {
		if (i >= n)
			break;
		h = (h ^ st->ips[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

/* A sample's stack as bpf_get_stack() reads it, before it is stored (one per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct ustack_val);
	__uint(max_entries, 1);
} stack_scratch SEC(".maps");

/*
 * The kernel stack (flags 0) or the frame-pointer user stack (BPF_F_USER_STACK) of the sample,
 * stored under its hash in this generation's ustacks map, as unwound user stacks are: a hash
 * map allocated as it fills, where a STACK_TRACE map was preallocated whole (16.6 MiB a
 * generation at the default --max-stacks) and lost a stack whenever two shared a bucket.
 * Returns its id, 0 when there are no frames or the map is full (the caller counts the loss).
 */
static __always_inline __u64 sample_stack(struct bpf_perf_event_data *ctx, void *ustacks,
					  __u64 flags, __u64 seed)
{
	struct ustack_val *v;
	__u32 zero = 0;
	long n, err;
	__u64 h;

	v = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!v)
		return 0;
	n = bpf_get_stack(ctx, v->ips, sizeof(v->ips), flags);
	v->n = n > 0 ? (__u64)n / 8 : 0;
	v->flags = 0;
	h = stack_hash(v, seed);
	if (!h || bpf_map_lookup_elem(ustacks, &h))
		return h;
	err = bpf_map_update_elem(ustacks, &h, v, BPF_NOEXIST);
	return err && err != -EEXIST ? 0 : h;
}

/*
 * Unwinds the user stack of the current task with the loaded tables, into the ustacks map.
 * Returns its id (hash), or 0 when this process has no unwind index (frame pointers then).
 */
static __always_inline __u64 dwarf_user_stack(struct bpf_perf_event_data *ctx, __u32 tgid,
					      bool in_kernel, void *ustacks)
{
	struct uw_state *st;
	struct pt_regs *regs;

	if (in_kernel) {
		/* The user registers saved at kernel entry. */
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		st = unwind_user(tgid, BPF_CORE_READ(regs, ip), BPF_CORE_READ(regs, sp),
				 BPF_CORE_READ(regs, bp), UW_SLOT_SAMPLE);
	} else {
		st = unwind_user(tgid, ctx->regs.ip, ctx->regs.sp, ctx->regs.bp, UW_SLOT_SAMPLE);
	}
	if (!st)
		return 0;
	/* Most stacks are there already: a lookup takes no lock, an update does. */
	if (!bpf_map_lookup_elem(ustacks, &st->hash)) {
		long err = bpf_map_update_elem(ustacks, &st->hash, &st->stack, BPF_NOEXIST);

		if (err == -E2BIG) {
			stat_inc(STAT_USTACKS_FULL);
			return 0;
		}
		if (!err && (st->py_frames | st->php_frames | st->v8_frames | st->rb_frames |
			     st->pl_frames | st->hs_frames) &&
		    announce_new_stacks) {
			struct new_stack *ns = bpf_ringbuf_reserve(&new_stacks, sizeof(*ns), 0);

			if (ns) {
				ns->tgid = tgid;
				__builtin_memcpy(&ns->stack, &st->stack, sizeof(ns->stack));
				bpf_ringbuf_submit(ns, 0);
			} else {
				stat_inc(STAT_NEW_STACKS_LOST);
			}
		}
	}
	return st->hash;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, pid = (__u32)id;
	struct task_struct *task;
	struct sample_key key = {};
	bool in_kernel, kthread;
	void *counts, *ustacks;

	if (pid == 0 && !include_idle) {
		stat_inc(STAT_IDLE);
		return 0;
	}
	if ((filter_pids && !bpf_map_lookup_elem(&targets, &tgid)) ||
	    (filter_tids && !bpf_map_lookup_elem(&tid_targets, &pid)) ||
	    (filter_cgroups && !in_target_cgroup())) {
		stat_inc(STAT_FILTERED);
		return 0;
	}
	stat_inc(STAT_SAMPLES);

	if (*(volatile __u32 *)&gen) {
		counts = &counts1;
		ustacks = &ustacks1;
	} else {
		counts = &counts0;
		ustacks = &ustacks0;
	}

	/* BTF pointers: plain loads, not a helper call per field. */
	task = bpf_get_current_task_btf();
	kthread = task->flags & PF_KTHREAD;
	/* The context only allows 8-byte reads; cs sits in the low bits of its word. */
	in_kernel = !(*(volatile __u64 *)((void *)&ctx->regs + offsetof(struct pt_regs, cs)) & 3);

	key.tgid = tgid;
	if (record_cgroup)
		key.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	/* Both halves of the leader's name (kept zero-padded by the kernel). */
	*(__u64 *)&key.pcomm[0] = *(__u64 *)&task->group_leader->comm[0];
	*(__u64 *)&key.pcomm[8] = *(__u64 *)&task->group_leader->comm[8];

	if (in_kernel) {
		key.kstack_hash = sample_stack(ctx, ustacks, 0, KSTACK_SEED);
		if (!key.kstack_hash)
			stat_inc(STAT_KSTACK_LOST);
	}
	if (!kthread && dwarf_unwind)
		key.ustack_hash = dwarf_user_stack(ctx, tgid, in_kernel, ustacks);
	if (!kthread && !key.ustack_hash) {
		key.ustack_hash = sample_stack(ctx, ustacks, BPF_F_USER_STACK, USTACK_SEED);
		if (!key.ustack_hash)
			stat_inc(STAT_USTACK_LOST);
	}
	count_key(counts, &key);
	return 0;
}

/*
 * Children of profiled processes are profiled too (command mode follows forks). Raw
 * tracepoints, not tp_btf: attaching those makes libbpf parse the kernel's whole BTF (45-60 ms
 * of every start, where the types these programs read come built in: Makefile, min_btf.h).
 */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (!follow_forks || ptgid == ctgid)
		return 0;
	if (bpf_map_lookup_elem(&targets, &ptgid))
		bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	return 0;
}

/*
 * Forget a process when its leader exits, and a thread when it exits, so a reused id is not
 * profiled by mistake.
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid), pid = BPF_CORE_READ(task, pid);

	if (filter_tids)
		bpf_map_delete_elem(&tid_targets, &pid);
	if (filter_pids && pid == tgid)
		bpf_map_delete_elem(&targets, &tgid);
	return 0;
}

#include "offcpu.h"

char LICENSE[] SEC("license") = "GPL";
