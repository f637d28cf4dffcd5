/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pprof (profile.proto, gzipped) output and input, for `go tool pprof`, Pyroscope, Parca and
 * friends. Encoding and decoding go through protobuf-c with the schema in src/render/pprof.proto.
 *
 * Writing, what a profile becomes:
 * - sample types samples/count and cpu/nanoseconds (count × period), period type
 *   cpu/nanoseconds, period 1e9 / freq_hz, as Go's own CPU profiles have them, and no
 *   default_sample_type (pprof then shows the last type, cpu). When the frequency is unknown
 *   (folded input) there is no honest nanosecond figure: only samples/count is written, with
 *   period 0 and no period type.
 * - time_nanos and duration_nanos from the meta; host, mode and every lost-sample counter as
 *   comments ("host: NAME", "mode: MODE", "lost samples (REASON): N").
 * - a Function per distinct (name, kind, source file), system_name = name, filename the
 *   source file where DWARF gives one; Line.line the frame's line (each inlined frame's own).
 *   Names are plain: the " (file:line)" that --lines adds to folded and SVG names is not in
 *   them. start_line is the function's first line where known (Python frames' co_firstlineno).
 *   Python frames: Function.name the qualname, filename the .py file, Line.line the line
 *   running, in a made-up mapping "[python]" (read back as _[p] frames "qualname (file.py)").
 * - a Location per distinct physical frame together with the frames inlined into it. The
 *   symbolizer emits an inlined call root-first as the function it was inlined into, then the
 *   inlined callees (FRAME_INLINE) toward the leaf; so each FRAME_INLINE frame joins the location
 *   of the nearest non-inline frame on its root side, and Location.line lists it before that
 *   frame (pprof wants inlined callees first, the physical function last). An inline frame with
 *   no non-inline frame before it gets a location of its own. The location's address and
 *   mapping are the physical frame's; frames without an address get address 0. A frame with an
 *   empty name gives a location without lines (pprof shows its address).
 * - kernel frames without a mapping go into a mapping named "[kernel.kallsyms]", JIT frames
 *   without one into "[jit]", each made up when needed (pprof has no frame kinds; the mapping is
 *   how readers tell). A mapping has has_functions set when one of its locations has a name.
 * - the process name is not a location but a `process` label (string); `pid` and `thread`
 *   labels when known, strings too (Pyroscope keeps only string labels: a numeric pid was
 *   dropped there; the reader takes a numeric pid as well); `cgroup`, `systemd_unit`, `container_id` and
 *   `pod_uid` (strings) from the sample's attribution when known. Under group-by the group and
 *   the process name are the stack's first locations and there is no `process` label. Samples
 *   with equal stacks and labels are merged.
 *
 * Reading takes the same shapes back: stacks root-first, inlined lines as FRAME_INLINE frames,
 * the count from the first samples/count value (else value 0), names from function names, kernel
 * frames from a "[kernel...]" or kernel module (.ko) mapping or a `_[k]` suffix, JIT frames from
 * a "[jit]" or perf-PID.map mapping or a `_[j]` suffix (`_[i]` likewise; suffixes are removed),
 * the `process` (or `comm`) label as the process name, `pid` and `thread` labels.
 * A location without lines becomes a frame named by its address. Samples with a value <= 0 are
 * skipped. Every index is checked: malformed or hostile input fails with -EINVAL, never a crash.
 */
#ifndef FLAMED_PPROF_H
#define FLAMED_PPROF_H

#include <stddef.h>
#include <stdio.h>

struct profile;

/* Limits on input, so a small hostile file cannot take the machine's memory. */
#define PPROF_MAX_RAW (1ULL << 30)    /* decompressed protobuf bytes */
#define PPROF_MAX_DEPTH 65536	      /* frames in one stack, inlined frames included */
#define PPROF_MAX_FRAMES (1ULL << 28) /* frames in all stacks together */

/*
 * Writes p as a gzip-compressed profile.proto to f. Returns 0, -ENOMEM, or -EIO (or the errno of
 * the failed write) when f fails; f is flushed but not closed.
 */
int pprof__write(const struct profile *p, FILE *f);

/*
 * Builds a profile from a profile.proto, gzipped or not. Returns NULL and sets *err (when err is
 * not NULL) to -EINVAL for malformed input, -EFBIG when a limit above is exceeded, -EOVERFLOW
 * when the sample counts add up to more than PROFILE_MAX_TOTAL, -ENOMEM.
 */
struct profile *pprof__read(const void *buf, size_t len, int *err);

/* The same with a lower cap on the decompressed size, e.g. for uploads; at most PPROF_MAX_RAW. */
struct profile *pprof__read_max(const void *buf, size_t len, size_t max_raw, int *err);

/*
 * The decoded message itself (pprof.pb-c.h), gzipped or not, under the same limits as reading,
 * for converters to other formats (export/otlp.c); NULL with *err as pprof__read's. Free it
 * with pprof__free_unpacked (NULL is fine). Indexes in it are as sent: the caller checks them.
 */
struct Pprof__Profile;
struct Pprof__Profile *pprof__unpack(const void *buf, size_t len, size_t max_raw, int *err);
void pprof__free_unpacked(struct Pprof__Profile *m);

#endif
