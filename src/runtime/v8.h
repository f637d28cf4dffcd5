/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * V8 (Node.js) frames: finds V8's post-mortem metadata (the v8dbg_* symbols) in a process's
 * binary, tells the BPF unwinder its frame layout and where the embedded builtins are
 * (bpf/v8.h), and names the JavaScript frames it emitted: a SharedFunctionInfo read from the
 * process becomes "name (file.js)". A language runtime module, as runtime/python.c.
 */
#ifndef FLAMED_V8_H
#define FLAMED_V8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/v8.h"

struct v8;
struct sampler;
struct unwinder;
struct symbolizer;

/*
 * NULL when the sampler has no DWARF unwinding or on ENOMEM. Registers with the unwinder:
 * processes it indexes are checked for V8's metadata.
 */
struct v8 *v8__new(struct sampler *smp, struct unwinder *uw);
/* Names JavaScript frames for sym from now on (v may be NULL: nothing). */
void v8__use_symbolizer(struct v8 *v, struct symbolizer *sym);
void v8__free(struct v8 *v);
/* Names the JavaScript frames of a stack now, while the process lives. */
void v8__prefetch(struct v8 *v, uint32_t pid, const uint64_t *ustack, int n);
/* Forgets the names of processes that have exited (after a profile used them). */
void v8__trim(struct v8 *v);

#endif
