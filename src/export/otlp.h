/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * OTLP profiles: a window as the body of an OTLP/HTTP export, an ExportProfilesServiceRequest
 * of opentelemetry.proto.collector.profiles.v1development (src/export/otlp.proto: the layout of
 * opentelemetry-proto v1.11.0), for push (push.h, PUSH_API_OTLP) to POST to URL/v1development/profiles.
 *
 * The input is the window's pprof as flamed wrote it (render/pprof.h), so the spool keeps one
 * format whatever the API, and the symbolizer's work is converted, never redone: pprof and this
 * model share their shape. What becomes of it:
 * - one dictionary: pprof's string table as is (index 0 ""), then the attribute keys used;
 *   mappings, functions and locations at their pprof id (index 0 the zero value each table
 *   must begin with); Function name, system_name, filename and start_line; Location address,
 *   mapping and lines (inlined callees first, as in pprof) with Line.line; stacks leaf first,
 *   equal ones shared; a mapping's build id as its attribute process.executable.build_id.gnu.
 *   Strings that are not valid UTF-8 (protobuf's string type requires it) have the bad bytes
 *   replaced by U+FFFD.
 * - one ResourceProfiles per resource, with the attributes of the semantic conventions:
 *   host.name, service.name and the user's labels (push-label) always; container.id and
 *   k8s.pod.uid from the samples' container_id and pod_uid labels; and when samples carry a
 *   pid (sample-labels pid: grouped by process) process.pid and process.executable.name, so
 *   each process is a resource of its own. Without a pid the process name, where a label gives
 *   it, is the sample attribute process.executable.name. Other labels become sample attributes:
 *   thread as thread.name, the rest (cgroup, systemd_unit, ...) under their pprof keys.
 * - each resource one ScopeProfiles (scope "flamed") with one Profile: sample_type the pprof's
 *   samples/count for CPU windows (its cpu/nanoseconds is count x period, from period_type and
 *   period, which are copied), off_cpu/nanoseconds or wall/nanoseconds otherwise, values one
 *   per sample; time_unix_nano and duration_nano of the window; profile_id the 16 bytes given,
 *   the resource's index mixed into the last ones.
 */
#ifndef FLAMED_OTLP_H
#define FLAMED_OTLP_H

#include <stddef.h>
#include <stdint.h>

struct otlp_attr {
	const char *key, *value;
};

struct otlp_opts {
	const char *service_name;
	const char *host_name;
	const struct otlp_attr *attrs;	/* more resource attributes (string values) */
	size_t n_attrs;
	uint8_t profile_id[16];
};

/*
 * The request body for a window's pprof (gzipped or not), malloc'd, its size in *out_len; NULL
 * with *err set: -EINVAL when pprof is not a profile this can convert (malformed, or ids that
 * are not 1..n in order as flamed writes them), -EFBIG past pprof's input limits, -ENOMEM.
 */
uint8_t *otlp__encode_request(const void *pprof, size_t len, const struct otlp_opts *o,
			      size_t *out_len, int *err);

#endif
