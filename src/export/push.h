/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Push: every window's gzipped pprof goes to a Grafana Pyroscope server (or anything speaking
 * one of its ingest APIs) over HTTP(S) with libcurl, through a bounded spool (spool.h) so a
 * backend outage loses nothing up to the bound. Windows are sent one at a time, oldest first:
 * the next leaves only when the previous one was answered, so the backend sees them in order
 * and each once.
 *
 * Two APIs:
 * - PUSH_API_CONNECT (the default): POST BASE/push.v1.PusherService/Push, Content-Type
 *   application/proto, a PushRequest (src/export/push.proto) with one series whose labels are
 *   __name__ (the profile's name: process_cpu, off_cpu or wall, push__profile_name), service_name,
 *   hostname and the user's labels, and one RawSample (the pprof and a profile ID derived from
 *   host and span, so a resent window keeps its ID). Pyroscope's profile type is that name and
 *   the pprof's sample and period types: process_cpu:cpu:nanoseconds:cpu:nanoseconds,
 *   off_cpu:off_cpu:nanoseconds:off_cpu:nanoseconds, wall:wall:nanoseconds:wall:nanoseconds.
 * - PUSH_API_INGEST: POST BASE/ingest?name=SERVICE{hostname=H,k=v}&from=S&until=S&format=pprof
 *   with the pprof as the body (Pyroscope's first API, still routed). With format=pprof the
 *   server takes units and aggregation from the pprof's sample types (the units, sampleRate
 *   and aggregationType parameters are for its text formats) and names the series itself:
 *   wall for a wall sample type, process_cpu for cpu and for off_cpu (a type of its own there,
 *   process_cpu:off_cpu:nanoseconds:..., never summed with CPU time).
 * - PUSH_API_OTLP: POST BASE/v1development/profiles, Content-Type application/x-protobuf, an
 *   OTLP ExportProfilesServiceRequest (export/otlp.h: the window's pprof converted when it is
 *   sent, so the spool holds pprof whatever the API) whose resources carry host.name,
 *   service.name and the user's labels as attributes; the path the OpenTelemetry Collector's
 *   OTLP receiver and Grafana Pyroscope serve. A 2xx answer with a partial success that
 *   rejected the profile is logged. A window that cannot be converted is dropped and counted
 *   as rejected (it never will be).
 *
 * Reliability: connect and total timeouts; 2xx is delivered; a network error, 408, 429 and 5xx
 * are retried with exponential backoff and jitter (0.5 s doubling up to 60 s), as are 401, 403
 * and 404 (a configuration error the operator can fix without losing windows); any other 4xx
 * means the server will never take that window: it is counted as rejected and dropped.
 *
 * Nothing here blocks: libcurl's multi interface runs on the loop it is given (base/evloop.h):
 * its sockets are the loop's fds (CURLMOPT_SOCKETFUNCTION), its timeout and the retry backoff
 * the loop's timers. Name resolution uses libcurl's threaded resolver.
 */
#ifndef FLAMED_PUSH_H
#define FLAMED_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate/profile.h"

enum push_api {
	PUSH_API_CONNECT = 0,
	PUSH_API_INGEST,
	PUSH_API_OTLP,
	PUSH_API_MAX,
};

extern const char *const push_api_names[PUSH_API_MAX];

/* User labels: at most this many, each name and value at most these many bytes. */
#define PUSH_MAX_LABELS 16
#define PUSH_LABEL_NAME_MAX 63
#define PUSH_LABEL_VALUE_MAX 127

struct push_opts {
	const char *url;		/* base URL: http://host:4040 or https://host/prefix */
	enum push_api api;
	const char *service_name;	/* "" = the host name */
	const char *labels;		/* "key=value,key=value" (push__merge_labels), may be "" */
	const char *token_file;		/* bearer token, "" = none */
	const char *basic_auth_file;	/* "user:password", "" = none */
	const char *tenant;		/* X-Scope-OrgID, "" = none */
	const char *ca_file;		/* CA bundle for TLS, "" = the system's */
	uint32_t timeout_s;		/* whole request, 0 = 30 */
	const char *spool_dir;		/* "" = windows wait in memory */
	uint64_t spool_max_bytes;
	/*
	 * Windows that started longer ago than this are not sent but dropped and counted
	 * (expired): Pyroscope refuses profiles older than its reject_older_than (default 1h,
	 * grafana/pyroscope pkg/validation/limits.go) with a 400. 0 = send whatever the age.
	 */
	uint32_t max_age_s;
	/*
	 * --group-by: with the Connect API, each window is one series per group (its root
	 * frames), service_name the group's unless service_name was given.
	 */
	bool series_per_group;
};

struct push_stats {
	uint64_t windows;	/* windows handed to push */
	uint64_t success;	/* windows delivered */
	uint64_t failures;	/* attempts that failed (each retry that fails counts) */
	uint64_t retries;	/* attempts that were retries */
	uint64_t rejected;	/* windows the server refused for good (4xx) */
	uint64_t dropped;	/* windows dropped past the spool bound */
	uint64_t expired;	/* windows not sent: older than max_age_s */
	uint64_t sent_bytes;	/* request bodies of delivered windows */
	uint64_t spool_windows, spool_bytes;	/* waiting now */
};

struct push;

/*
 * Reads the credential files and sets up the spool, to run on loop; NULL with *err set and a
 * message logged.
 */
struct evloop;
struct push *push__new(const struct push_opts *o, struct evloop *loop, int *err);
/* Frees; windows still waiting stay in the spool directory (or are lost, and logged, without). */
void push__free(struct push *p);


/* Queues a window (copied) of a profile of mode m and starts sending if idle. 0 or -ENOMEM. */
int push__submit(struct push *p, const void *pprof_gz, size_t len, uint64_t start_ns,
		 uint64_t end_ns, enum profile_mode m);
/* Runs the loop for up to timeout_ms while the backend takes windows (at exit). */
void push__flush(struct push *p, int timeout_ms);
void push__stats(const struct push *p, struct push_stats *st);

/* Pure parts, for the config checks and the tests. */

/* 0 when url is an http:// or https:// URL with a host and no query or fragment. */
int push__check_url(const char *url);
/* 0 when name is a valid service name: 1..127 bytes of [A-Za-z0-9._/-]. */
int push__check_service_name(const char *name);
/*
 * Merges "key=value[,key=value...]" into list (the same form, NUL-terminated, size bytes): a
 * key already there gets the new value. Names are [A-Za-z_][A-Za-z0-9_]* without a leading
 * "__" and are not service_name; values are 1..127 bytes without , { } " \ or control
 * characters. "" changes nothing. 0, or -EINVAL (list unchanged).
 */
int push__merge_labels(char *list, size_t size, const char *add);
/* The __name__ of a profile of mode m: process_cpu, off_cpu or wall. */
const char *push__profile_name(enum profile_mode m);
/*
 * One series of a Connect call: its service_name, its group (a "group" label; NULL or "" for
 * none), its profile ID and its pprof.
 */
struct push_series {
	const char *service_name;
	const char *group;
	const char *id;
	const void *pprof;
	size_t len;
};
/* The body of a Connect call of n series of a profile named name, malloc'd; NULL on ENOMEM. */
uint8_t *push__encode_series(const char *name, const char *hostname, const char *labels,
			     const struct push_series *s, size_t n, size_t *out_len);
/* The body of the Connect call for a profile named name, malloc'd; NULL on ENOMEM. */
uint8_t *push__encode_request(const char *name, const char *service_name, const char *hostname, const char *labels,
			      const char *id, const void *pprof, size_t len, size_t *out_len);
/* The /ingest URL for a window, malloc'd; NULL on ENOMEM. */
char *push__ingest_url(const char *base, const char *service_name, const char *hostname,
		       const char *labels, uint64_t start_ns, uint64_t end_ns);
/* A profile ID (UUID text) derived from the host and the window's span. */
void push__profile_id(const char *hostname, uint64_t start_ns, uint64_t end_ns, char id[37]);
/* Delay before retry number attempt (1 = the first retry), given a random number. */
uint64_t push__backoff_ms(unsigned int attempt, uint64_t rnd);

#endif
