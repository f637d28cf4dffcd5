/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HotSpot (OpenJDK) frames: finds the JVM's self-description (gHotSpotVMStructs,
 * gHotSpotVMTypes, exported by libjvm.so for the serviceability agent) in a running process,
 * tells the BPF unwinder where its code heaps are and how big compiled frames are
 * (bpf/hotspot.h), and names addresses in the code cache: a compiled method becomes
 * "package.Class.method", another blob its own name ("Interpreter", stub names).
 * A language runtime module, as runtime/v8.c.
 */
#ifndef FLAMED_HOTSPOT_H
#define FLAMED_HOTSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/hotspot.h"

struct hotspot;
struct sampler;
struct unwinder;
struct symbolizer;

/* The exported variables read, by index into hotspot__sym_names. */
enum hotspot_sym {
	HS_SYM_STRUCTS,		/* gHotSpotVMStructs: VMStructEntry * */
	HS_SYM_S_TYPE,		/* gHotSpotVMStructEntryTypeNameOffset */
	HS_SYM_S_FIELD,
	HS_SYM_S_STATIC,
	HS_SYM_S_OFFSET,
	HS_SYM_S_ADDRESS,
	HS_SYM_S_STRIDE,
	HS_SYM_TYPES,		/* gHotSpotVMTypes: VMTypeEntry * */
	HS_SYM_T_TYPE,
	HS_SYM_T_SIZE,
	HS_SYM_T_STRIDE,
	HS_SYM_INTS,		/* gHotSpotVMIntConstants: VMIntConstantEntry * */
	HS_SYM_I_NAME,
	HS_SYM_I_VALUE,
	HS_SYM_I_STRIDE,
	HS_NR_SYMS,
};
extern const char *const hotspot__sym_names[HS_NR_SYMS];

/* What flamed uses of the JVM's layout: offsets in bytes, static fields' addresses. */
struct hotspot_layout {
	/* Static fields (addresses in the process). */
	uint64_t cc_heaps;		/* CodeCache::_heaps: GrowableArray<CodeHeap*>* */
	uint64_t cc_low, cc_high;	/* CodeCache::_low_bound, _high_bound: address */
	/* Field offsets. */
	int64_t heap_memory, heap_segmap, heap_log2;	/* CodeHeap */
	int64_t vs_low_boundary, vs_high_boundary, vs_low;	/* VirtualSpace */
	int64_t ga_len, ga_data;	/* GrowableArrayBase::_len, GrowableArray<int>::_data */
	int64_t blob_name, blob_size, blob_frame_size;	/* CodeBlob */
	int64_t cm_method;		/* CompiledMethod::_method (or nmethod::_method) */
	int64_t method_const;		/* Method::_constMethod */
	int64_t cmethod_constants, cmethod_name, cmethod_sig;	/* ConstMethod */
	int64_t cp_holder;		/* ConstantPool::_pool_holder */
	int64_t klass_name;		/* Klass::_name */
	int64_t sym_length, sym_body;	/* Symbol */
	/* Type sizes. */
	int64_t heapblock_size;		/* sizeof(HeapBlock) */
	int64_t cp_size;		/* sizeof(ConstantPool): its slots follow */
	/*
	 * Optional (-1: absent, interpreted frames are not named): the interpreter's code,
	 * AbstractInterpreter::_code (StubQueue*: _stub_buffer, _buffer_limit), and the int
	 * constant frame::interpreter_frame_last_sp_offset (words from rbp; the Method* is the
	 * word below, frame_x86.hpp).
	 */
	int64_t ai_code;
	int64_t sq_buffer, sq_limit;
	int64_t last_sp_offset;
};

/* Reads len bytes at addr of the process (or a test's buffer): 0 or -errno. */
typedef int (*hotspot_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Parses the VMStructs and VMTypes tables through rd, from the addresses of the exported
 * variables (syms, in the reader's address space) into lo. 0; -EAGAIN when the tables are not
 * set up yet (a JVM starting: strides still 0); -ENOENT naming what is missing in *missing;
 * -EFAULT on a failed read; -EINVAL for values out of range.
 */
int hotspot__parse(hotspot_read_fn rd, void *ctx, const uint64_t syms[HS_NR_SYMS],
		   struct hotspot_layout *lo, const char **missing);

/*
 * Names the code cache address pc (through rd, with the layout lo and the heaps of hp) into
 * out: "pkg.Class.method" for a compiled method, the blob's name for another blob. 0, -ENOENT
 * when pc is in no blob, -EFAULT on a failed read.
 */
/* "pkg.Class.method" of the Method* m into out (through rd). 0, -EFAULT. */
int hotspot__name_method(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			 uint64_t m, char *out, size_t len);

int hotspot__name_pc(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
		     const struct hotspot_proc *hp, uint64_t pc, char *out, size_t len);

/*
 * The heaps of the process (through rd) into hp. 0; -EAGAIN when the code cache is not set up
 * yet; -EFAULT, -EINVAL.
 */
int hotspot__read_heaps(hotspot_read_fn rd, void *ctx, const struct hotspot_layout *lo,
			struct hotspot_proc *hp);

/* NULL when the sampler has no DWARF unwinding or on ENOMEM. */
struct hotspot *hotspot__new(struct sampler *smp, struct unwinder *uw);
/* Names code cache addresses for sym from now on (h may be NULL: nothing). */
void hotspot__use_symbolizer(struct hotspot *h, struct symbolizer *sym);
void hotspot__free(struct hotspot *h);
/* Names the code cache addresses of a stack now, while the process lives. */
void hotspot__prefetch(struct hotspot *h, uint32_t pid, const uint64_t *ustack, int n);
/* Forgets the names of processes that have exited (after a profile used them). */
void hotspot__trim(struct hotspot *h);

#endif
