// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>

/* The calls go through a table (lazylib.h): not through curl.h's type-checking macros. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <zlib.h>

#include "base/lazylib.h"
#include "base/evloop.h"
#include "base/log.h"
#include "export/otlp.h"
#include "export/push.h"
#include "render/pprof.h"
#include "otlp.pb-c.h"
#include "pprof.pb-c.h"
#include "push.pb-c.h"
#include "export/spool.h"
#include "base/util.h"

#define CURL_SYMS(X)                                                                               \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_init)                                                                          \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_strerror)                                                                      \
	X(curl_global_init)                                                                        \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_cleanup)                                                                      \
	X(curl_multi_info_read)                                                                    \
	X(curl_multi_init)                                                                         \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_setopt)                                                                       \
	X(curl_multi_socket_action)                                                                \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)
LAZYLIB(curl, "libcurl.so.4", CURL_SYMS);

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 60000
#define CONNECT_TIMEOUT_MS 10000
#define RESPONSE_KEEP 512	/* bytes of an error answer kept for the log */
#define CREDENTIAL_MAX 4096

const char *const push_api_names[PUSH_API_MAX] = {
	[PUSH_API_CONNECT] = "connect",
	[PUSH_API_INGEST] = "ingest",
	[PUSH_API_OTLP] = "otlp",
};

struct label {
	char name[PUSH_LABEL_NAME_MAX + 1];
	char value[PUSH_LABEL_VALUE_MAX + 1];
};

struct push {
	enum push_api api;
	char *base;		/* URL without its trailing '/' */
	char *endpoint;		/* the Connect or OTLP URL */
	char service[128];
	bool service_set;	/* service-name given: not replaced by a group's */
	bool series_per_group;	/* --group-by: one Connect series per group */
	char hostname[256];
	char *labels;
	char *userpwd;		/* basic auth, "user:password" */
	char *tenant;
	/*
	 * The token or basic auth file, checked before each request and re-read when it is
	 * another file or was modified: tokens are rotated without restarts (Kubernetes
	 * projected service account tokens, Vault agents).
	 */
	char *cred_file;
	bool cred_basic;
	bool cred_loaded;
	struct stat cred_st;
	char *ca_file;
	uint32_t timeout_s;
	uint32_t max_age_s;
	bool have_spool_dir;
	struct curl_slist *hdrs;
	struct spool *spool;
	CURLM *multi;
	struct evloop *loop;
	struct evloop_timer *tcurl;	/* libcurl's timeout (CURLMOPT_TIMERFUNCTION) */
	struct evloop_timer *tretry;	/* the end of a retry's backoff */
	bool flushing;			/* push__flush runs the loop: stop it once all is sent */
	/* The request in flight, if any. */
	CURL *easy;
	uint8_t *body;		/* Connect's or OTLP's request; /ingest sends the spool's bytes */
	size_t body_len;	/* bytes of the request body, either way */
	char *url;
	struct spool_window w;
	char response[RESPONSE_KEEP];
	size_t response_len;
	char errbuf[CURL_ERROR_SIZE];
	/* Retries of the oldest window. */
	unsigned int attempt;
	bool backoff;
	/*
	 * /ingest with --group-by: a request per group; the groups of the window at the head of
	 * the spool (start, end) already delivered, and how many it has. A retry resends only the
	 * group that failed.
	 */
	size_t part, nparts;
	uint64_t part_start, part_end;
	uint64_t fail_run;	/* failed attempts since the last delivery */
	uint64_t rng;
	struct push_stats st;
};

/* --- pure parts ------------------------------------------------------------------------------ */

int push__check_url(const char *url)
{
	const char *host, *p;

	if (!strncmp(url, "http://", 7))
		host = url + 7;
	else if (!strncmp(url, "https://", 8))
		host = url + 8;
	else
		return -EINVAL;
	if (!*host || *host == '/' || *host == ':')
		return -EINVAL;
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#' || *p == '"' ||
		    *p == '\\')
			return -EINVAL;
	return strlen(url) < 1024 ? 0 : -EINVAL;
}

int push__check_service_name(const char *name)
{
	size_t n = strlen(name), i;

	if (!n || n > 127)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || c == '/'))
			return -EINVAL;
	}
	return 0;
}

static bool valid_label_name(const char *s, size_t n)
{
	size_t i;

	if (!n || n > PUSH_LABEL_NAME_MAX || (n >= 2 && s[0] == '_' && s[1] == '_'))
		return false;
	if (n == 12 && !memcmp(s, "service_name", 12))
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static bool valid_label_value(const char *s, size_t n)
{
	size_t i;

	if (!n || n > PUSH_LABEL_VALUE_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == 0x7f || c == ',' || c == '{' || c == '}' || c == '"' ||
		    c == '\\')
			return false;
	}
	return true;
}

/* Splits "k=v,k=v" into l[], replacing equal names; the count, or -EINVAL. */
static int parse_labels(const char *text, struct label *l, int n)
{
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, ","), nl;
		const char *eq = memchr(p, '=', len);
		int i;

		if (!eq)
			return -EINVAL;
		nl = eq - p;
		if (!valid_label_name(p, nl) || !valid_label_value(eq + 1, len - nl - 1))
			return -EINVAL;
		for (i = 0; i < n && (strlen(l[i].name) != nl || memcmp(l[i].name, p, nl)); i++)
			;
		if (i == n) {
			if (n == PUSH_MAX_LABELS)
				return -EINVAL;
			n++;
		}
		memcpy(l[i].name, p, nl);
		l[i].name[nl] = '\0';
		memcpy(l[i].value, eq + 1, len - nl - 1);
		l[i].value[len - nl - 1] = '\0';
		p += len;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return n;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

int push__merge_labels(char *list, size_t size, const char *add)
{
	struct label l[PUSH_MAX_LABELS];
	char out[PUSH_MAX_LABELS * (PUSH_LABEL_NAME_MAX + PUSH_LABEL_VALUE_MAX + 2) + 1];
	size_t len = 0;
	int n, i;

	n = parse_labels(list, l, 0);
	if (n < 0)
		return -EINVAL;
	n = parse_labels(add, l, n);
	if (n < 0)
		return -EINVAL;
	qsort(l, n, sizeof(*l), cmp_label);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(out + len, sizeof(out) - len, "%s%s=%s", i ? "," : "", l[i].name,
				l[i].value);
	if (len >= size)
		return -EINVAL;
	memcpy(list, out, len + 1);
	return 0;
}

/* hostname, then the user's labels (which may override it), sorted by name. */
static int series_labels(const char *hostname, const char *labels, struct label *l)
{
	int n = 0;

	if (hostname && *hostname && strlen(hostname) <= PUSH_LABEL_VALUE_MAX) {
		snprintf(l[0].name, sizeof(l[0].name), "hostname");
		snprintf(l[0].value, sizeof(l[0].value), "%s", hostname);
		n = 1;
	}
	n = parse_labels(labels ? labels : "", l, n);
	if (n < 0)
		return n;
	qsort(l, n, sizeof(*l), cmp_label);
	return n;
}

/*
 * Pyroscope's own names: process_cpu as its agents name CPU profiles, wall as its Java and .NET
 * agents (and its /ingest for a wall sample type) name wall-clock ones; off_cpu, the pprof sample
 * type, where Pyroscope has no name of its own for time switched out.
 */
const char *push__profile_name(enum profile_mode m)
{
	return m == PROFILE_OFFCPU ? "off_cpu" : m == PROFILE_WALL ? "wall" : "process_cpu";
}

/* One series' label pairs, sorted as Prometheus-style label sets are ("__name__" < [a-z]...). */
static size_t series_pairs(const char *name, const struct push_series *s, const char *hostname,
			   const char *labels, struct label *l, Push__V1__LabelPair *pairs,
			   Push__V1__LabelPair **pp)
{
	const char *service_name = s->service_name;
	size_t np = 0;
	int n, i;

	n = series_labels(hostname, labels, l);
	if (n < 0)
		n = 0;
	if (s->group && s->group[0]) {
		snprintf(l[n].name, sizeof(l[n].name), "group");
		snprintf(l[n].value, sizeof(l[n].value), "%s", s->group);
		n++;
		qsort(l, n, sizeof(*l), cmp_label);
	}
	push__v1__label_pair__init(&pairs[np]);
	pairs[np].name = "__name__";
	pairs[np++].value = (char *)name;
	for (i = 0; i <= n; i++) {
		const char *lname = i < n ? l[i].name : NULL;

		if (service_name && (!lname || strcmp(lname, "service_name") > 0)) {
			push__v1__label_pair__init(&pairs[np]);
			pairs[np].name = "service_name";
			pairs[np++].value = (char *)service_name;
			service_name = NULL;
		}
		if (lname) {
			push__v1__label_pair__init(&pairs[np]);
			pairs[np].name = l[i].name;
			pairs[np++].value = l[i].value;
		}
	}
	for (i = 0; i < (int)np; i++)
		pp[i] = &pairs[i];
	return np;
}

uint8_t *push__encode_series(const char *name, const char *hostname, const char *labels,
			     const struct push_series *s, size_t n, size_t *out_len)
{
	/* Per series: hostname, the labels, group; then __name__ and service_name. */
	enum { NL = PUSH_MAX_LABELS + 2, NP = NL + 2 };
	struct label *l = calloc_n(n * NL, sizeof(*l));
	Push__V1__LabelPair *pairs = calloc_n(n * NP, sizeof(*pairs));
	Push__V1__LabelPair **pp = calloc_n(n * NP, sizeof(*pp));
	Push__V1__RawSample *samples = calloc_n(n, sizeof(*samples));
	Push__V1__RawSample **sptr = calloc_n(n, sizeof(*sptr));
	Push__V1__RawProfileSeries *series = calloc_n(n, sizeof(*series));
	Push__V1__RawProfileSeries **ser = calloc_n(n, sizeof(*ser));
	Push__V1__PushRequest req = PUSH__V1__PUSH_REQUEST__INIT;
	uint8_t *buf = NULL;
	size_t i;

	if (!l || !pairs || !pp || !samples || !sptr || !series || !ser)
		goto cleanup;
	for (i = 0; i < n; i++) {
		push__v1__raw_profile_series__init(&series[i]);
		push__v1__raw_sample__init(&samples[i]);
		series[i].n_labels = series_pairs(name, &s[i], hostname, labels, &l[i * NL],
						  &pairs[i * NP], &pp[i * NP]);
		series[i].labels = &pp[i * NP];
		samples[i].raw_profile.data = (uint8_t *)s[i].pprof;
		samples[i].raw_profile.len = s[i].len;
		samples[i].id = (char *)s[i].id;
		sptr[i] = &samples[i];
		series[i].n_samples = 1;
		series[i].samples = &sptr[i];
		ser[i] = &series[i];
	}
	req.n_series = n;
	req.series = ser;
	*out_len = push__v1__push_request__get_packed_size(&req);
	buf = malloc(*out_len ? *out_len : 1);
	if (buf)
		push__v1__push_request__pack(&req, buf);
cleanup:
	free(l);
	free(pairs);
	free(pp);
	free(samples);
	free(sptr);
	free(series);
	free(ser);
	return buf;
}

uint8_t *push__encode_request(const char *name, const char *service_name, const char *hostname,
			      const char *labels, const char *id, const void *pprof, size_t len,
			      size_t *out_len)
{
	struct push_series s = { .service_name = service_name, .id = id, .pprof = pprof,
				 .len = len };

	return push__encode_series(name, hostname, labels, &s, 1, out_len);
}

/* Percent-encodes all but RFC 3986's unreserved characters. */
static void pct_append(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

char *push__ingest_url(const char *base, const char *service_name, const char *hostname,
		       const char *labels, uint64_t start_ns, uint64_t end_ns)
{
	struct label l[PUSH_MAX_LABELS + 1];
	char *buf = NULL, name[PUSH_MAX_LABELS * 200 + 256];
	uint64_t from = start_ns / 1000000000ULL, until = (end_ns + 999999999ULL) / 1000000000ULL;
	size_t size = 0, len;
	FILE *f;
	int n, i;

	n = series_labels(hostname, labels, l);
	if (n < 0)
		n = 0;
	len = snprintf(name, sizeof(name), "%s{", service_name);
	for (i = 0; i < n && len < sizeof(name); i++)
		len += snprintf(name + len, sizeof(name) - len, "%s%s=%s", i ? "," : "", l[i].name,
				l[i].value);
	if (len < sizeof(name))
		snprintf(name + len, sizeof(name) - len, "}");
	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fprintf(f, "%s/ingest?name=", base);
	pct_append(f, name);
	fprintf(f, "&from=%llu&until=%llu&format=pprof&spyName=flamed", (unsigned long long)from,
		(unsigned long long)(until > from ? until : from + 1));
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void push__profile_id(const char *hostname, uint64_t start_ns, uint64_t end_ns, char id[37])
{
	uint64_t a = hash_bytes(hostname, strlen(hostname), start_ns);
	uint64_t b = hash_bytes(hostname, strlen(hostname), end_ns ^ 0x5bd1e9955bd1e995ULL);

	/* Laid out as a version-4 UUID, which is what Pyroscope's own clients send. */
	a = (a & ~0xf000ULL) | 0x4000ULL;
	b = (b & ~(3ULL << 62)) | (2ULL << 62);
	snprintf(id, 37, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(a >> 32),
		 (unsigned long long)(a >> 16 & 0xffff), (unsigned long long)(a & 0xffff),
		 (unsigned long long)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
}

uint64_t push__backoff_ms(unsigned int attempt, uint64_t rnd)
{
	uint64_t cap = BACKOFF_FIRST_MS;

	while (attempt-- > 1 && cap < BACKOFF_MAX_MS)
		cap *= 2;
	cap = MIN(cap, BACKOFF_MAX_MS);
	/* Half fixed, half random: retries spread out but still back off. */
	return cap / 2 + rnd % (cap / 2 + 1);
}

/* --- the request cycle ----------------------------------------------------------------------- */

static uint64_t next_random(struct push *p)
{
	/* xorshift64*: only to spread retries, nothing secret. */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 0x2545f4914f6cdd1dULL;
}

/* ms from now; UINT64_MAX disarms. */
static void arm(struct evloop_timer *t, uint64_t ms)
{
	/* 0 would disarm: "now" is the next nanosecond. */
	evloop__timer_set(t, ms == UINT64_MAX ? 0 : ms ? ms * 1000000 : 1, 0);
}

static void reap(struct push *p);

/* One of libcurl's sockets is ready: the loop calls this with what epoll reported. */
static void on_socket_ready(void *ctx, int fd, uint32_t events)
{
	struct push *p = ctx;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_fn.curl_multi_socket_action(p->multi, fd, flags, &running);
	reap(p);
}

/* CURLMOPT_SOCKETFUNCTION: libcurl's sockets are the loop's fds, with the events it asks for. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct push *p = userp;
	uint32_t events;
	int err;

	if (what == CURL_POLL_REMOVE) {
		evloop__del_fd(p->loop, s);
		return 0;
	}
	events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	err = evloop__mod_fd(p->loop, s, events);
	if (err == -ENOENT)
		err = evloop__add_fd(p->loop, s, events, on_socket_ready, p);
	if (err) {
		pr_warn("push: cannot watch a socket: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 disarms; the action itself runs from the loop, never from here. */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct push *p = userp;

	arm(p->tcurl, timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms);
	return 0;
}

static void on_curl_timeout(void *ctx)
{
	struct push *p = ctx;
	int running;

	curl_fn.curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	reap(p);
}

static void on_retry(void *ctx)
{
	struct push *p = ctx;

	p->backoff = false;
	reap(p);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct push *p = userp;
	size_t len = size * n, room = sizeof(p->response) - 1 - p->response_len;

	memcpy(p->response + p->response_len, data, MIN(len, room));
	p->response_len += MIN(len, room);
	p->response[p->response_len] = '\0';
	return len;
}

static void span_text(const struct spool_window *w, char *buf, size_t len)
{
	time_t t = w->start_ns / 1000000000ULL;
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lluZ (%.1f s)", s,
		 (unsigned long long)(w->start_ns / 1000000 % 1000),
		 (w->end_ns - w->start_ns) / 1e9);
}

static void kick(struct push *p);
static int load_credential(struct push *p);

static void schedule_retry(struct push *p, const char *why)
{
	uint64_t ms;
	char span[64];

	span_text(&p->w, span, sizeof(span));
	spool__release(p->spool, false);
	p->st.failures++;
	p->attempt++;
	ms = push__backoff_ms(p->attempt, next_random(p));
	if (!p->fail_run++)
		pr_warn("push: window %s not delivered to %s: %s; retrying in %.1f s, windows wait "
			"in the %s spool meanwhile", span, p->base, why, ms / 1e3,
			p->have_spool_dir ? "on-disk" : "in-memory");
	else
		pr_info("push: window %s not delivered to %s: %s (attempt %u); retrying in %.1f s",
			span, p->base, why, p->attempt, ms / 1e3);
	p->backoff = true;
	arm(p->tretry, ms);
}

/*
 * An OTLP answer may be a 2xx whose ExportProfilesServiceResponse says the profile was rejected
 * all the same (partial success): the receiver will not take it again, so it is only logged.
 */
static void log_partial_success(struct push *p)
{
	Opentelemetry__Proto__Collector__Profiles__V1development__ExportProfilesServiceResponse *r;
	char span[64];

	r = opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__unpack(
		NULL, p->response_len, (const uint8_t *)p->response);
	if (!r)
		return;
	if (r->partial_success && (r->partial_success->rejected_profiles ||
				   r->partial_success->error_message[0])) {
		span_text(&p->w, span, sizeof(span));
		pr_warn("push: %s took window %s with a partial success: %lld profile%s rejected%s%.200s",
			p->base, span, (long long)r->partial_success->rejected_profiles,
			r->partial_success->rejected_profiles == 1 ? "" : "s",
			r->partial_success->error_message[0] ? ": " : "",
			r->partial_success->error_message);
	}
	opentelemetry__proto__collector__profiles__v1development__export_profiles_service_response__free_unpacked(
		r, NULL);
}

static void request_done(struct push *p, CURLcode rc, long status)
{
	char why[CURL_ERROR_SIZE + RESPONSE_KEEP + 64], span[64];

	curl_fn.curl_multi_remove_handle(p->multi, p->easy);
	curl_fn.curl_easy_cleanup(p->easy);
	p->easy = NULL;
	free(p->body);
	p->body = NULL;
	free(p->url);
	p->url = NULL;
	if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", p->errbuf[0] ? p->errbuf : curl_fn.curl_easy_strerror(rc));
		schedule_retry(p, why);
		return;
	}
	if (p->api == PUSH_API_OTLP && status >= 200 && status < 300)
		log_partial_success(p);
	/* Pyroscope's messages are short text or JSON; a line of it says why. */
	p->response[strcspn(p->response, "\r\n")] = '\0';
	if (status >= 200 && status < 300 && p->api == PUSH_API_INGEST && p->series_per_group &&
	    ++p->part < p->nparts) {
		/* A group delivered: the window stays first, its next group goes at once (kick). */
		p->st.sent_bytes += p->body_len;
		p->attempt = 0;
		spool__release(p->spool, false);
		return;
	}
	if (status >= 200 && status < 300) {
		p->part = 0;
		span_text(&p->w, span, sizeof(span));
		if (p->fail_run)
			pr_notice("push: %s answers again after %llu failed attempt%s; %zu window%s "
				  "still to send", p->base, (unsigned long long)p->fail_run,
				  p->fail_run == 1 ? "" : "s", spool__count(p->spool) - 1,
				  spool__count(p->spool) == 2 ? "" : "s");
		else
			pr_info("push: delivered window %s (%zu bytes)", span, p->w.len);
		p->st.success++;
		p->st.sent_bytes += p->body_len;
		p->fail_run = 0;
		p->attempt = 0;
		spool__release(p->spool, true);
		return;
	}
	if (status == 401 || status == 403 || status == 404 || status == 407 || status == 408 ||
	    status == 429 || status < 400 || status >= 500) {
		snprintf(why, sizeof(why), "HTTP %ld%s%.200s", status, p->response[0] ? ": " : "",
			 p->response);
		schedule_retry(p, why);
		return;
	}
	span_text(&p->w, span, sizeof(span));
	if (p->api == PUSH_API_INGEST && p->series_per_group && p->part + 1 < p->nparts) {
		/* One group refused for good: the window's other groups still go. */
		pr_err("push: %s refused group %zu of %zu of window %s with HTTP %ld%s%.200s; "
		       "dropping that group", p->base, p->part + 1, p->nparts, span, status,
		       p->response[0] ? ": " : "", p->response);
		p->part++;
		p->st.rejected++;
		p->st.failures++;
		p->attempt = 0;
		spool__release(p->spool, false);
		return;
	}
	pr_err("push: %s refused window %s with HTTP %ld%s%.200s; it will not take it, dropping "
	       "the window", p->base, span, status, p->response[0] ? ": " : "", p->response);
	p->part = 0;
	p->st.rejected++;
	p->st.failures++;
	p->fail_run = 0;
	p->attempt = 0;
	spool__release(p->spool, true);
}

/* The OTLP request of the window in p->w into p->body: 0, -ENOMEM, or -EINVAL/-EFBIG for good. */
static int encode_otlp(struct push *p, size_t *len)
{
	struct otlp_opts o = { .service_name = p->service, .host_name = p->hostname };
	struct otlp_attr attrs[PUSH_MAX_LABELS];
	struct label l[PUSH_MAX_LABELS];
	char id[37];
	int n, i, err;

	n = parse_labels(p->labels, l, 0);
	for (i = 0; i < n; i++)
		attrs[i] = (struct otlp_attr){ l[i].name, l[i].value };
	o.attrs = attrs;
	o.n_attrs = n > 0 ? n : 0;
	/* The Connect call's profile ID as 16 bytes: a resent window keeps it here too. */
	push__profile_id(p->hostname, p->w.start_ns, p->w.end_ns, id);
	for (i = 0, n = 0; id[i] && n < 32; i++) {
		if (id[i] == '-')
			continue;
		o.profile_id[n / 2] |= (id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10) << (n % 2 ? 0 : 4);
		n++;
	}
	p->body = otlp__encode_request(p->w.data, p->w.len, &o, len, &err);
	return p->body ? 0 : err;
}

/* A location or function of m by its id: ids are their index + 1 when flamed wrote them. */
static const Pprof__Location *find_location(const Pprof__Profile *m, uint64_t id)
{
	size_t i;

	if (id && id <= m->n_location && m->location[id - 1]->id == id)
		return m->location[id - 1];
	for (i = 0; i < m->n_location; i++)
		if (m->location[i]->id == id)
			return m->location[i];
	return NULL;
}

static const Pprof__Function *find_function(const Pprof__Profile *m, uint64_t id)
{
	size_t i;

	if (id && id <= m->n_function && m->function[id - 1]->id == id)
		return m->function[id - 1];
	for (i = 0; i < m->n_function; i++)
		if (m->function[i]->id == id)
			return m->function[i];
	return NULL;
}

/* The name (a string index) of a sample's root frame, its group under --group-by; 0 if none. */
static uint64_t root_name(const Pprof__Profile *m, const Pprof__Sample *s)
{
	const Pprof__Location *l;
	const Pprof__Function *f;

	if (!s->n_location_id)
		return 0;
	l = find_location(m, s->location_id[s->n_location_id - 1]);
	if (!l || !l->n_line)
		return 0;
	f = find_function(m, l->line[l->n_line - 1]->function_id);
	return f && f->name > 0 && (size_t)f->name < m->n_string_table ? f->name : 0;
}

struct grouped {
	uint64_t key;
	size_t i;
};

static int cmp_grouped(const void *a, const void *b)
{
	const struct grouped *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* gzip of buf (a gzip header, as pprof is served), malloc'd in *out; NULL on failure. */
static uint8_t *gzip_buf(const uint8_t *buf, size_t len, size_t *out_len)
{
	z_stream zs = {};
	uint8_t *out = NULL;
	size_t cap;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return NULL;
	cap = deflateBound(&zs, len) + 32;
	out = malloc(cap);
	if (out) {
		zs.next_in = (Bytef *)buf;
		zs.avail_in = len;
		zs.next_out = out;
		zs.avail_out = cap;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
			free(out);
			out = NULL;
		} else {
			*out_len = zs.total_out;
		}
	}
	deflateEnd(&zs);
	return out;
}

/*
 * The window's samples ordered by group (their root frame's string), in *order (g[i].key is
 * order[i]'s group). 0, -ENOMEM, or -EINVAL when the window is not a pprof flamed can read.
 */
static int sort_by_group(struct push *p, Pprof__Profile **pm, struct grouped **pg,
			 Pprof__Sample ***porder)
{
	Pprof__Profile *m;
	size_t n, i;
	int err;

	*pg = NULL;
	*porder = NULL;
	m = pprof__unpack(p->w.data, p->w.len, PPROF_MAX_RAW, &err);
	if (!m)
		return err == -ENOMEM ? err : -EINVAL;
	*pm = m;
	n = m->n_sample;
	*pg = calloc_n(n ? n : 1, sizeof(**pg));
	*porder = calloc_n(n ? n : 1, sizeof(**porder));
	if (!*pg || !*porder)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		(*pg)[i] = (struct grouped){ root_name(m, m->sample[i]), i };
	qsort(*pg, n, sizeof(**pg), cmp_grouped);
	for (i = 0; i < n; i++)
		(*porder)[i] = m->sample[(*pg)[i].i];
	return 0;
}

/*
 * A group's name as a label value: a delegated user names its own cgroups, so bytes outside
 * printable ASCII (invalid UTF-8, NUL) become '_', and for /ingest's name syntax (strict) the
 * bytes it reserves too. "" for stacks in no group.
 */
static void group_name(const Pprof__Profile *m, uint64_t key, bool strict, char *out, size_t size)
{
	const ProtobufCBinaryData *b;
	size_t k, gl;

	out[0] = '\0';
	if (!key)
		return;
	b = &m->string_table[key];
	gl = MIN(b->len, size - 1);
	for (k = 0; k < gl; k++)
		out[k] = b->data[k] >= 0x20 && b->data[k] < 0x7f &&
				 !(strict && strchr(",{}\"\\=", b->data[k])) ? b->data[k] : '_';
	out[gl] = '\0';
}

/* The samples order[start..end) as a pprof of their own (m's tables), gzipped; NULL on ENOMEM. */
static uint8_t *group_pprof(const Pprof__Profile *m, Pprof__Sample **order, size_t start,
			    size_t end, size_t *len)
{
	Pprof__Profile sub = *m;
	uint8_t *raw, *out;
	size_t rlen;

	sub.n_sample = end - start;
	sub.sample = &order[start];
	rlen = pprof__profile__get_packed_size(&sub);
	raw = malloc(rlen ? rlen : 1);
	if (!raw)
		return NULL;
	pprof__profile__pack(&sub, raw);
	out = gzip_buf(raw, rlen, len);
	free(raw);
	return out;
}

/*
 * --group-by with the Connect API: one series per group, the way Pyroscope users browse
 * services. Every stack's root frame is its group (the unit, docker:ID, pod:UID ...), so the
 * window's samples are split by it and each group is sent as a pprof of its own samples (the
 * tables are shared: a pprof may hold locations no sample uses), with the group as its
 * service_name unless service-name was set, and as a "group" label either way. Stacks in no
 * group ("[no unit]" ...) keep the configured service_name. 0, -ENOMEM, or -EINVAL for good.
 */
static int encode_grouped(struct push *p, size_t *len)
{
	Pprof__Profile *m = NULL;
	Pprof__Sample **order;
	struct grouped *g;
	struct push_series *s = NULL;
	uint8_t **bufs = NULL;
	char (*ids)[37] = NULL, (*names)[256] = NULL, who[512];
	size_t n, i, start, ng = 0, groups = 0;
	int err;

	err = sort_by_group(p, &m, &g, &order);
	if (err)
		goto cleanup;
	n = m->n_sample;
	for (i = 0; i < n; i++)
		groups += !i || g[i].key != g[i - 1].key;
	/* An empty window is still one series (of the configured service). */
	groups = groups ? groups : 1;
	err = -ENOMEM;
	s = calloc_n(groups, sizeof(*s));
	bufs = calloc_n(groups, sizeof(*bufs));
	ids = calloc_n(groups, sizeof(*ids));
	names = calloc_n(groups, sizeof(*names));
	if (!s || !bufs || !ids || !names)
		goto cleanup;
	for (start = 0; start < n; start = i) {
		char *group = names[ng];

		group_name(m, g[start].key, false, group, sizeof(*names));
		for (i = start; i < n && g[i].key == g[start].key; i++)
			;
		bufs[ng] = group_pprof(m, order, start, i, &s[ng].len);
		if (!bufs[ng])
			goto cleanup;
		/* Each series its own ID, the same when the window is resent. */
		snprintf(who, sizeof(who), "%s\n%s", p->hostname, group);
		push__profile_id(who, p->w.start_ns, p->w.end_ns, ids[ng]);
		s[ng].pprof = bufs[ng];
		s[ng].id = ids[ng];
		s[ng].group = group;
		s[ng].service_name = group;
		if (p->service_set || !group[0] || group[0] == '[')
			s[ng].service_name = p->service;
		ng++;
	}
	if (!ng) {
		push__profile_id(p->hostname, p->w.start_ns, p->w.end_ns, ids[0]);
		s[0] = (struct push_series){ .service_name = p->service, .id = ids[0],
					     .pprof = p->w.data, .len = p->w.len };
	}
	p->body = push__encode_series(push__profile_name(p->w.mode), p->hostname, p->labels, s,
				      ng ? ng : 1, len);
	err = p->body ? 0 : -ENOMEM;
cleanup:
	for (i = 0; bufs && i < ng; i++)
		free(bufs[i]);
	free(bufs);
	free(ids);
	free(names);
	free(s);
	free(order);
	free(g);
	pprof__free_unpacked(m);
	return err;
}

/*
 * --group-by with /ingest, which takes one series a request: the part-th group of the window
 * (groups in the order of their root frame's string, as encode_grouped sorts them), its name
 * into group (bytes a label value may not hold become '_'), its samples as a gzipped pprof into
 * p->body. The number of groups (0: an empty window), or -ENOMEM, or -EINVAL for good.
 */
static int ingest_group(struct push *p, size_t part, char *group, size_t gsize, size_t *len)
{
	Pprof__Profile *m = NULL;
	Pprof__Sample **order;
	struct grouped *g;
	size_t n, i, start, ng = 0;
	int err;

	group[0] = '\0';
	err = sort_by_group(p, &m, &g, &order);
	if (err)
		goto cleanup;
	n = m->n_sample;
	for (start = 0; start < n; start = i, ng++) {
		for (i = start; i < n && g[i].key == g[start].key; i++)
			;
		if (ng != part)
			continue;
		group_name(m, g[start].key, true, group, gsize);
		p->body = group_pprof(m, order, start, i, len);
		if (!p->body) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
cleanup:
	free(order);
	free(g);
	pprof__free_unpacked(m);
	return err ? err : (int)MIN(ng, (size_t)INT_MAX);
}

/* The /ingest URL of the group to send next (the whole window without --group-by). */
static int ingest_request(struct push *p, const void **body, size_t *len)
{
	char group[256], labels[PUSH_MAX_LABELS * (PUSH_LABEL_NAME_MAX + PUSH_LABEL_VALUE_MAX + 2) + 1];
	char add[sizeof(group) + 8];
	const char *service = p->service;
	int n;

	if (!p->series_per_group) {
		p->url = push__ingest_url(p->base, p->service, p->hostname, p->labels,
					  p->w.start_ns, p->w.end_ns);
		return 0;
	}
	if (p->w.start_ns != p->part_start || p->w.end_ns != p->part_end) {
		p->part = 0;
		p->part_start = p->w.start_ns;
		p->part_end = p->w.end_ns;
	}
	n = ingest_group(p, p->part, group, sizeof(group), len);
	if (n < 0)
		return n;
	p->nparts = n;
	if (!n) {
		/* An empty window is still one series (of the configured service). */
		p->nparts = 1;
		p->url = push__ingest_url(p->base, p->service, p->hostname, p->labels,
					  p->w.start_ns, p->w.end_ns);
		return 0;
	}
	*body = p->body;
	snprintf(labels, sizeof(labels), "%s", p->labels ? p->labels : "");
	if (group[0]) {
		snprintf(add, sizeof(add), "group=%s", group);
		/* Past the label limit the series goes without its group label. */
		if (push__merge_labels(labels, sizeof(labels), add))
			snprintf(labels, sizeof(labels), "%s", p->labels ? p->labels : "");
		if (!p->service_set && group[0] != '[')
			service = group;
	}
	p->url = push__ingest_url(p->base, service, p->hostname, labels, p->w.start_ns,
				  p->w.end_ns);
	pr_debug("push: group %zu of %zu (%s) as %s", p->part + 1, p->nparts, group, service);
	return 0;
}

static int start_request(struct push *p)
{
	char id[37];
	const void *body = p->w.data;
	size_t len = p->w.len;
	CURL *e;

	load_credential(p);
	if (p->api == PUSH_API_CONNECT && p->series_per_group) {
		int err = encode_grouped(p, &len);

		if (err)
			return err;
		body = p->body;
		p->url = strdup(p->endpoint);
	} else if (p->api == PUSH_API_CONNECT) {
		push__profile_id(p->hostname, p->w.start_ns, p->w.end_ns, id);
		p->body = push__encode_request(push__profile_name(p->w.mode), p->service,
					       p->hostname, p->labels, id, p->w.data, p->w.len,
					       &len);
		body = p->body;
		p->url = strdup(p->endpoint);
	} else if (p->api == PUSH_API_OTLP) {
		int err = encode_otlp(p, &len);

		if (err)
			return err;
		body = p->body;
		p->url = strdup(p->endpoint);
	} else {
		int err = ingest_request(p, &body, &len);

		if (err)
			return err;
	}
	e = curl_fn.curl_easy_init();
	if (!body || !p->url || !e) {
		curl_fn.curl_easy_cleanup(e);
		free(p->body);
		p->body = NULL;
		free(p->url);
		p->url = NULL;
		return -ENOMEM;
	}
	p->body_len = len;
	p->response_len = 0;
	p->response[0] = '\0';
	p->errbuf[0] = '\0';
	curl_fn.curl_easy_setopt(e, CURLOPT_URL, p->url);
	curl_fn.curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_fn.curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_fn.curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_fn.curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
	curl_fn.curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_fn.curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	curl_fn.curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_fn.curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_s * 1000);
	curl_fn.curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)MIN((uint64_t)CONNECT_TIMEOUT_MS, p->timeout_s * 1000ULL));
	curl_fn.curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_fn.curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A redirect of a POST with credentials is not followed: the URL is to be fixed. */
	curl_fn.curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_fn.curl_easy_setopt(e, CURLOPT_USERAGENT, "flamed/0.1");
	/* TLS verification is libcurl's default and stays on; only the trust anchors may change. */
	curl_fn.curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_fn.curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_file)
		curl_fn.curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
	if (p->userpwd) {
		curl_fn.curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_fn.curl_easy_setopt(e, CURLOPT_USERPWD, p->userpwd);
	}
	if (curl_fn.curl_multi_add_handle(p->multi, e) != CURLM_OK) {
		curl_fn.curl_easy_cleanup(e);
		free(p->body);
		p->body = NULL;
		free(p->url);
		p->url = NULL;
		return -ENOMEM;
	}
	p->easy = e;
	if (p->attempt)
		p->st.retries++;
	return 0;
}

/*
 * Whether the window just peeked is past max_age_s: the backend would refuse it for good, so it
 * is released, counted and logged instead of sent. Its start is what Pyroscope compares (the
 * pprof's time_nanos against now - reject_older_than).
 */
static bool expired(struct push *p)
{
	uint64_t now = now_real_ns(), max = p->max_age_s * 1000000000ULL;
	char span[64];

	if (!p->max_age_s || p->w.start_ns + max > now)
		return false;
	span_text(&p->w, span, sizeof(span));
	pr_warn("push: window %s started %.0f s ago, more than push-max-age %u s: the backend "
		"would refuse it (Pyroscope's reject_older_than), not sending it",
		span, (now - p->w.start_ns) / 1e9, p->max_age_s);
	p->st.expired++;
	p->attempt = 0;
	spool__release(p->spool, true);
	return true;
}

/* Sends the oldest window unless a request is in flight or a retry is waiting. */
static void kick(struct push *p)
{
	int err;

	if (p->easy || p->backoff)
		return;
	for (;;) {
		char span[64];

		if (spool__peek(p->spool, &p->w))
			return;
		if (expired(p))
			continue;
		err = start_request(p);
		if (!err)
			return;
		if (err != -EINVAL && err != -EFBIG)
			break;
		span_text(&p->w, span, sizeof(span));
		pr_err("push: window %s cannot be sent as %s: %s (not a profile flamed can "
		       "convert); dropping the window", span, push_api_names[p->api],
		       strerror(-err));
		p->st.rejected++;
		spool__release(p->spool, true);
	}
	spool__release(p->spool, false);
	p->backoff = true;
	arm(p->tretry, push__backoff_ms(++p->attempt, next_random(p)));
	pr_warn("push: cannot start a request: %s; retrying later", strerror(-err));
}

static void reap(struct push *p)
{
	CURLMsg *m;
	int left;

	while ((m = curl_fn.curl_multi_info_read(p->multi, &left))) {
		long status = 0;

		if (m->msg != CURLMSG_DONE || m->easy_handle != p->easy)
			continue;
		curl_fn.curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
		request_done(p, m->data.result, status);
	}
	kick(p);
	if (p->flushing && !p->easy && (p->backoff || !spool__count(p->spool)))
		evloop__stop(p->loop);
}

int push__submit(struct push *p, const void *pprof_gz, size_t len, uint64_t start_ns,
		 uint64_t end_ns, enum profile_mode m)
{
	int n = spool__add(p->spool, pprof_gz, len, start_ns, end_ns, m);

	if (n < 0)
		return n;
	p->st.windows++;
	kick(p);
	return 0;
}

void push__flush(struct push *p, int timeout_ms)
{
	uint64_t end = now_mono_ns() + timeout_ms * 1000000ULL;

	/*
	 * The loop runs until reap() sees nothing left to send (a retry's backoff ends the
	 * flush: the spool keeps the window). Whoever else stops the loop meanwhile (an exiting
	 * --pid target) does not cut the flush short.
	 */
	p->flushing = true;
	kick(p);
	while ((p->easy || (!p->backoff && spool__count(p->spool))) && now_mono_ns() < end)
		if (evloop__run(p->loop, (end - now_mono_ns()) / 1000000 + 1))
			break;
	p->flushing = false;
}

void push__stats(const struct push *p, struct push_stats *st)
{
	struct spool_stats ss;

	*st = p->st;
	spool__stats(p->spool, &ss);
	st->dropped = ss.dropped;
	st->spool_windows = ss.windows;
	st->spool_bytes = ss.bytes;
}

/* --- setup ----------------------------------------------------------------------------------- */

/* A credential file: one line, trailing white space removed, no control characters. */
static char *read_secret(const char *path, const char *what, int *err)
{
	char buf[CREDENTIAL_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		*err = -errno;
		pr_err("cannot read the %s file %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	n = S_ISREG(st.st_mode) ? read(fd, buf, sizeof(buf)) : -1;
	close(fd);
	if (n < 0 || n > CREDENTIAL_MAX) {
		*err = -EINVAL;
		pr_err("cannot read the %s file %s: not a regular file of at most %d bytes", what,
		       path, CREDENTIAL_MAX);
		return NULL;
	}
	if (st.st_mode & 077)
		pr_warn("the %s file %s can be read by other users than its owner (chmod 600 it)",
			what, path);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	for (i = 0; i < (size_t)n; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			*err = -EINVAL;
			pr_err("the %s file %s must hold one line without control characters", what,
			       path);
			explicit_bzero(buf, sizeof(buf));
			return NULL;
		}
	}
	if (!n) {
		*err = -EINVAL;
		pr_err("the %s file %s is empty", what, path);
		return NULL;
	}
	{
		char *s = strdup(buf);

		explicit_bzero(buf, sizeof(buf));
		if (!s)
			*err = -ENOMEM;
		return s;
	}
}

static int add_header(struct push *p, const char *fmt, const char *v)
{
	char line[CREDENTIAL_MAX + 64];
	struct curl_slist *l;

	snprintf(line, sizeof(line), fmt, v);
	l = curl_fn.curl_slist_append(p->hdrs, line);
	explicit_bzero(line, sizeof(line));
	if (!l)
		return -ENOMEM;
	p->hdrs = l;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The headers of every request, with a bearer token if one is given; the old ones on error. */
static int build_headers(struct push *p, const char *token)
{
	struct curl_slist *old = p->hdrs;
	int err = 0;

	p->hdrs = NULL;
	if ((token && (err = add_header(p, "Authorization: Bearer %s", token))) ||
	    (p->tenant[0] && (err = add_header(p, "X-Scope-OrgID: %s", p->tenant))) ||
	    (err = add_header(p, "Content-Type: %s", p->api == PUSH_API_CONNECT ?
			      "application/proto" : p->api == PUSH_API_OTLP ?
			      "application/x-protobuf" : "application/octet-stream")) ||
	    (p->api == PUSH_API_CONNECT && (err = add_header(p, "%s", "Connect-Protocol-Version: 1"))) ||
	    /* No "Expect: 100-continue" round trip before big bodies. */
	    (err = add_header(p, "%s", "Expect:"))) {
		curl_fn.curl_slist_free_all(p->hdrs);
		p->hdrs = old;
		return err;
	}
	curl_fn.curl_slist_free_all(old);
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Reads the credential file if it changed since it was last read (always, the first time).
 * A file that cannot be used is reported once per change; the previous credential stays.
 */
static int load_credential(struct push *p)
{
	const char *what = p->cred_basic ? "basic auth" : "token";
	struct stat st;
	char *s;
	int err = 0;

	if (!p->cred_file)
		return 0;
	if (p->cred_loaded && (stat(p->cred_file, &st) || same_file(&st, &p->cred_st)))
		return 0;
	if (p->cred_loaded)
		p->cred_st = st;
	s = read_secret(p->cred_file, what, &err);
	if (s && p->cred_basic && !strchr(s, ':')) {
		pr_err("the basic auth file %s must hold 'user:password'", p->cred_file);
		free_secret(s);
		s = NULL;
		err = -EINVAL;
	}
	if (!s) {
		if (p->cred_loaded)
			pr_warn("push: keeping the previous %s", what);
		return err;
	}
	if (p->cred_basic) {
		free_secret(p->userpwd);
		p->userpwd = s;
	} else {
		err = build_headers(p, s);
		free_secret(s);
		if (err)
			return err;
	}
	if (p->cred_loaded)
		pr_notice("push: re-read the %s file %s", what, p->cred_file);
	else if (stat(p->cred_file, &p->cred_st))
		memset(&p->cred_st, 0, sizeof(p->cred_st));
	p->cred_loaded = true;
	return 0;
}

struct push *push__new(const struct push_opts *o, struct evloop *loop, int *err)
{
	struct push *p = calloc(1, sizeof(*p));
	size_t n;

	*err = 0;
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->loop = loop;
	/* libcurl is opened here, not at every start: a run that pushes nothing never maps it. */
	if (lazylib__load(&curl)) {
		*err = -ENOENT;
		pr_err("cannot push: %s", lazylib__why(&curl));
		goto cleanup;
	}
	if (push__check_url(o->url)) {
		*err = -EINVAL;
		pr_err("invalid push-url '%s': expected http://HOST[:PORT][/PATH] or https://...",
		       o->url);
		goto cleanup;
	}
	if (o->token_file[0] && o->basic_auth_file[0]) {
		*err = -EINVAL;
		pr_err("push-token-file and push-basic-auth-file cannot both be set");
		goto cleanup;
	}
	p->api = o->api;
	p->timeout_s = o->timeout_s ? o->timeout_s : 30;
	p->max_age_s = o->max_age_s;
	p->have_spool_dir = o->spool_dir[0];
	gethostname(p->hostname, sizeof(p->hostname) - 1);
	snprintf(p->service, sizeof(p->service), "%.127s",
		 o->service_name[0] ? o->service_name : p->hostname);
	p->service_set = o->service_name[0];
	p->series_per_group = o->series_per_group;
	if (push__check_service_name(p->service)) {
		*err = -EINVAL;
		pr_err("the host name '%s' is not a valid service name: set service-name", p->service);
		goto cleanup;
	}
	p->base = strdup(o->url);
	p->labels = strdup(o->labels ? o->labels : "");
	if (!p->base || !p->labels) {
		*err = -ENOMEM;
		goto cleanup;
	}
	n = strlen(p->base);
	while (n && p->base[n - 1] == '/')
		p->base[--n] = '\0';
	if (asprintf(&p->endpoint, "%s%s", p->base, p->api == PUSH_API_OTLP ?
		     "/v1development/profiles" : "/push.v1.PusherService/Push") < 0) {
		p->endpoint = NULL;
		*err = -ENOMEM;
		goto cleanup;
	}
	if (o->ca_file[0] && !(p->ca_file = strdup(o->ca_file))) {
		*err = -ENOMEM;
		goto cleanup;
	}
	if (o->ca_file[0] && access(o->ca_file, R_OK)) {
		*err = -errno;
		pr_err("cannot read the CA file %s: %s", o->ca_file, strerror(errno));
		goto cleanup;
	}
	p->tenant = strdup(o->tenant);
	if (!p->tenant) {
		*err = -ENOMEM;
		goto cleanup;
	}
	if (o->basic_auth_file[0] || o->token_file[0]) {
		p->cred_basic = o->basic_auth_file[0];
		p->cred_file = strdup(p->cred_basic ? o->basic_auth_file : o->token_file);
		if (!p->cred_file) {
			*err = -ENOMEM;
			goto cleanup;
		}
	}
	*err = build_headers(p, NULL);
	if (*err || (*err = load_credential(p)))
		goto cleanup;

	p->spool = spool__new(o->spool_dir, o->spool_max_bytes, err);
	if (!p->spool)
		goto cleanup;
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != sizeof(p->rng))
		p->rng = now_mono_ns();
	p->rng |= 1;

	if (curl_fn.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*err = -ENOMEM;
		pr_err("cannot initialise libcurl");
		goto cleanup;
	}
	p->multi = curl_fn.curl_multi_init();
	p->tcurl = evloop__add_timer(loop, on_curl_timeout, p);
	p->tretry = evloop__add_timer(loop, on_retry, p);
	if (!p->multi || !p->tcurl || !p->tretry) {
		*err = -ENOMEM;
		pr_err("cannot set up pushing: %s", strerror(-*err));
		goto cleanup;
	}
	curl_fn.curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_fn.curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_fn.curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_fn.curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	/* One request at a time keeps windows in order; the connection is reused between them. */
	curl_fn.curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1L);
	pr_notice("pushing every window to %s (%s API) as service_name=%s%s%s, spool %s up to %llu "
		  "bytes", p->api == PUSH_API_INGEST ? p->base : p->endpoint,
		  push_api_names[p->api], p->service, p->labels[0] ? " with " : "", p->labels,
		  p->have_spool_dir ? o->spool_dir : "in memory",
		  (unsigned long long)o->spool_max_bytes);
	/* Windows a previous run could not deliver go first. */
	kick(p);
	return p;
cleanup:
	if (!*err)
		*err = -ENOMEM;
	push__free(p);
	return NULL;
}

void push__free(struct push *p)
{
	size_t left;

	if (!p)
		return;
	if (p->easy) {
		curl_fn.curl_multi_remove_handle(p->multi, p->easy);
		curl_fn.curl_easy_cleanup(p->easy);
		spool__release(p->spool, false);
	}
	left = p->spool ? spool__count(p->spool) : 0;
	if (left && p->have_spool_dir)
		pr_notice("push: %zu window%s not delivered yet stay in the spool for the next start",
			  left, left == 1 ? "" : "s");
	else if (left)
		pr_warn("push: %zu window%s not delivered are lost (set spool-dir to keep them "
			"across restarts)", left, left == 1 ? "" : "s");
	/* Its sockets leave the loop through on_socket's CURL_POLL_REMOVE. */
	if (p->multi)
		curl_fn.curl_multi_cleanup(p->multi);
	evloop__del_timer(p->tcurl);
	evloop__del_timer(p->tretry);
	spool__free(p->spool);
	if (p->hdrs)
		curl_fn.curl_slist_free_all(p->hdrs);
	free(p->body);
	free(p->url);
	free(p->base);
	free(p->endpoint);
	free(p->labels);
	free(p->ca_file);
	free(p->tenant);
	free(p->cred_file);
	free_secret(p->userpwd);
	free(p);
}
