// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <microhttpd.h>

#include "base/lazylib.h"
#include "base/evloop.h"
#include "export/browse.h"
#include "export/httpd.h"
#include "history_page.h" /* generated from export/history_page.html */
#include "base/log.h"
#include "base/util.h"

#define MHD_SYMS(X)                                                                                \
	X(MHD_add_response_header)                                                                 \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_buffer_with_free_callback)                                      \
	X(MHD_create_response_from_fd64)                                                           \
	X(MHD_destroy_response)                                                                    \
	X(MHD_get_connection_info)                                                                 \
	X(MHD_get_daemon_info)                                                                     \
	X(MHD_get_timeout)                                                                         \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_queue_response)                                                                      \
	X(MHD_resume_connection)                                                                   \
	X(MHD_run)                                                                                 \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)                                                                         \
	X(MHD_suspend_connection)
LAZYLIB(mhd, "libmicrohttpd.so.12", MHD_SYMS);

/*
 * libmicrohttpd's own connection cap refuses newcomers while the sockets it holds stay, and its
 * timeout only measures silence, so a client trickling a byte a second is never closed. flamed
 * keeps its own list of connections instead and applies its caps and deadline by shutting a
 * connection's socket down: libmicrohttpd then reads the end of the stream and closes it
 * itself. Its cap is only the hard bound on sockets, above ours by what it may accept in one
 * run before ours makes room.
 */
#define MHD_SOCKET_LIMIT (2 * HTTPD_MAX_CONNECTIONS)
#define NS_PER_S 1000000000ULL

enum req_state {
	REQ_NEW = 0,
	REQ_WAITING,		/* suspended until httpd__answer */
	REQ_ANSWERED,		/* resumed with its answer */
	REQ_DONE,		/* a response is queued */
	REQ_GONE,		/* its client hung up while it waited: closed without an answer */
};

struct httpd_request {
	struct httpd *h;
	struct MHD_Connection *conn;
	int fd;			/* the connection's socket, watched for a hang-up while waiting */
	enum req_state state;
	bool body_seen;		/* the client sent a body: 413 */
	unsigned int status;
	const char *type;
	void *body;
	size_t len;
	struct httpd_request *next;	/* waiting list */
};

/* One open connection, in the order they began to wait for a request (oldest first). */
struct httpd_conn {
	struct MHD_Connection *conn;
	int fd;
	struct sockaddr_storage addr;	/* the client's; the port is ignored */
	/* When its request must be complete; 0 while one is being answered. */
	uint64_t deadline;
	bool dropped;		/* shut down by us, closed at libmicrohttpd's next run */
	struct httpd_conn *prev, *next;
};

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_handlers ops;
	struct evloop *loop;
	struct evloop_timer *timer;	/* libmicrohttpd's next timeout or a request deadline */
	int mhd_fd;			/* libmicrohttpd's own epoll fd (MHD_USE_EPOLL) */
	uint16_t port;
	struct httpd_request *waiting;
	struct httpd_conn *head, *tail;
	struct httpd_stats stats;
	bool in_handler;		/* httpd__answer called from a handler: answered in place */
};

int httpd__parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64] = "";
	const char *port = s, *colon;
	uint64_t p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, end - s - 1);
		host[end - s - 1] = '\0';
		port = end + 2;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		*len = sizeof(*in6);
	} else {
		colon = strrchr(s, ':');
		if (colon) {
			if ((size_t)(colon - s) >= sizeof(host))
				return -EINVAL;
			memcpy(host, s, colon - s);
			host[colon - s] = '\0';
			port = colon + 1;
		}
		in4->sin_family = AF_INET;
		*len = sizeof(*in4);
		if (!host[0] || !strcmp(host, "localhost"))
			in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			return -EINVAL;
	}
	if (parse_u64(port, 65535, &p))
		return -EINVAL;
	if (ss->ss_family == AF_INET6)
		in6->sin6_port = htons(p);
	else
		in4->sin_port = htons(p);
	return 0;
}

/* --- connections: the deadline and the caps -------------------------------------------------- */

static void conn_unlink(struct httpd *h, struct httpd_conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		h->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		h->tail = k->prev;
	k->prev = k->next = NULL;
}

/* k (not in the list) starts waiting for a request: its deadline runs from now. */
static void conn_append(struct httpd *h, struct httpd_conn *k)
{
	k->deadline = now_mono_ns() + HTTPD_REQUEST_TIMEOUT_S * NS_PER_S;
	k->prev = h->tail;
	k->next = NULL;
	if (h->tail)
		h->tail->next = k;
	else
		h->head = k;
	h->tail = k;
}

static struct httpd_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		mhd_fn.MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
	return false;
}

/*
 * Not close(): libmicrohttpd owns the descriptor. After shutdown() its next read sees the end
 * of the stream and it closes the connection itself (NOTIFY_CLOSED frees k).
 */
static void conn_drop(struct httpd_conn *k, uint64_t *counter, const char *why)
{
	shutdown(k->fd, SHUT_RDWR);
	k->dropped = true;
	(*counter)++;
	pr_debug("httpd: closed a connection: %s", why);
}

/*
 * Over cap among the connections of client (NULL: of all clients)? The one that has waited
 * longest for its request makes room: the newcomer itself when every other one is being
 * answered. A client that holds connections open without finishing a request thus loses them
 * to whoever comes next, and an answer in progress is never cut.
 */
static void make_room(struct httpd *h, const struct sockaddr_storage *client, unsigned int cap,
		      uint64_t *counter, const char *why)
{
	struct httpd_conn *k, *victim = NULL;
	unsigned int n = 0;

	for (k = h->head; k; k = k->next) {
		if (k->dropped || (client && !same_client(&k->addr, client)))
			continue;
		n++;
		if (!victim && k->deadline)
			victim = k;
	}
	if (n > cap && victim)
		conn_drop(victim, counter, why);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	struct httpd_conn *k = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k) {
			conn_unlink(h, k);
			free(k);
			*socket_context = NULL;
		}
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	info = mhd_fn.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info)
		return;
	k = calloc(1, sizeof(*k));
	if (!k) {
		/* Untracked, it would escape the deadline and the caps. */
		shutdown(info->connect_fd, SHUT_RDWR);
		return;
	}
	k->conn = c;
	k->fd = info->connect_fd;
	info = mhd_fn.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (info && info->client_addr && info->client_addr->sa_family == AF_INET6)
		memcpy(&k->addr, info->client_addr, sizeof(struct sockaddr_in6));
	else if (info && info->client_addr && info->client_addr->sa_family == AF_INET)
		memcpy(&k->addr, info->client_addr, sizeof(struct sockaddr_in));
	conn_append(h, k);
	*socket_context = k;
	make_room(h, &k->addr, HTTPD_MAX_PER_CLIENT, &h->stats.client_limit,
		  "its client is at the per-client cap");
	make_room(h, NULL, HTTPD_MAX_CONNECTIONS, &h->stats.connection_limit,
		  "the server is at its connection cap");
}

/* Closes the connections whose request is late. */
static void expire(struct httpd *h)
{
	uint64_t now = now_mono_ns();
	struct httpd_conn *k;

	/* Waiting connections are in deadline order: each one joined at the tail. */
	for (k = h->head; k; k = k->next) {
		if (!k->deadline || k->dropped)
			continue;
		if (k->deadline > now)
			break;
		conn_drop(k, &h->stats.request_timeouts, "no complete request in time");
	}
}

static uint64_t next_deadline(const struct httpd *h)
{
	const struct httpd_conn *k;

	for (k = h->head; k; k = k->next)
		if (k->deadline && !k->dropped)
			return k->deadline;
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status, const char *type,
			       void *body, size_t len, bool take)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (take)
		r = mhd_fn.MHD_create_response_from_buffer_with_free_callback(len, body, free);
	else
		r = mhd_fn.MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (take)
			free(body);
		return MHD_NO;
	}
	mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	mhd_fn.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
		mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "10");
	if (status == 200 && !strcmp(type, "application/octet-stream"))
		mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					"attachment; filename=\"profile\"");
	ret = mhd_fn.MHD_queue_response(c, status, r);
	mhd_fn.MHD_destroy_response(r);
	return ret;
}

/* A one-line text error, as Go's handlers write them. */
static enum MHD_Result error(struct MHD_Connection *c, unsigned int status, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return respond(c, status, "text/plain; charset=utf-8", (void *)"error\n", 6, false);
	return respond(c, status, "text/plain; charset=utf-8", msg, n, true);
}

static const char index_page[] =
	"flamed\n"
	"\n"
	"/debug/pprof/profile?seconds=N  profile of the next N seconds in the daemon's --mode (pprof, gzipped)\n"
	"/metrics                        Prometheus metrics\n"
	"/latest.svg                     the newest window's flame graph\n"
	"/                               with an --output-dir: the history page (windows, ranges,\n"
	"                                diffs; /history/windows.json, graph.svg, diff.svg)\n";

static enum MHD_Result serve_metrics(struct httpd *h, struct MHD_Connection *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return error(c, 500, "out of memory\n");
	err = h->ops.metrics(h->ops.ctx, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(buf);
		return error(c, 500, "cannot produce the metrics: %s\n", strerror(-err));
	}
	return respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len, true);
}

static enum MHD_Result serve_svg(struct httpd *h, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	struct stat st;
	enum MHD_Result ret;
	int fd = h->ops.latest_svg(h->ops.ctx);

	if (fd == -ENOENT)
		return error(c, 404, "no flame graph yet: none written, or svg is not in formats\n");
	if (fd < 0)
		return error(c, 500, "cannot open the newest flame graph: %s\n", strerror(-fd));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return error(c, 500, "the newest flame graph is not a regular file\n");
	}
	/* The response owns fd now: the file is sent from it, and a later rename cannot tear it. */
	r = mhd_fn.MHD_create_response_from_fd64(st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "image/svg+xml");
	mhd_fn.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd_fn.MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = mhd_fn.MHD_queue_response(c, 200, r);
	mhd_fn.MHD_destroy_response(r);
	return ret;
}

static void unlink_waiting(struct httpd *h, struct httpd_request *r)
{
	struct httpd_request **pp;

	for (pp = &h->waiting; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			r->next = NULL;
			return;
		}
	}
}

/*
 * A suspended connection is out of libmicrohttpd's sight, so a client that hangs up would keep
 * its profile, and one of the few profile slots, to the end. The loop watches its socket
 * for the hang-up alone (EPOLLRDHUP, and HUP and ERR that epoll always reports), not for input:
 * a pipelined request is no hang-up. A client that only shuts down its sending side counts as
 * gone too, as Go's server cancels a request whose connection reads EOF.
 */
static void on_hang_up(void *ctx, int fd, uint32_t events);

static void watch(struct httpd *h, struct httpd_request *r)
{
	const union MHD_ConnectionInfo *info =
		mhd_fn.MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int err;

	if (!info)
		return;
	err = evloop__add_fd(h->loop, info->connect_fd, EPOLLRDHUP, on_hang_up, h);
	if (err) {
		pr_debug("httpd: cannot watch a profile's connection: %s; a hang-up is seen at "
			 "its end", strerror(-err));
		return;
	}
	r->fd = info->connect_fd;
}

static void unwatch(struct httpd *h, struct httpd_request *r)
{
	if (r->fd < 0)
		return;
	evloop__del_fd(h->loop, r->fd);
	r->fd = -1;
}

/* The client of a waiting profile is gone: cancel it, close the connection without an answer. */
static void hang_up(struct httpd *h, struct httpd_request *r)
{
	unwatch(h, r);
	unlink_waiting(h, r);
	r->state = REQ_GONE;
	h->ops.cancel(h->ops.ctx, r);
	/* Resumed, on_request says MHD_NO and libmicrohttpd closes it at its next run. */
	mhd_fn.MHD_resume_connection(r->conn);
}

static enum MHD_Result serve_profile(struct httpd *h, struct httpd_request *r)
{
	struct MHD_Connection *c = r->conn;
	const char *v = mhd_fn.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seconds");
	uint64_t secs = HTTPD_PROFILE_DEFAULT_S;
	int err;

	if (v && (parse_u64(v, UINT32_MAX, &secs) || !secs))
		return error(c, 400, "invalid seconds '%.32s': expected a whole number from 1 to %d\n",
			     v, HTTPD_PROFILE_MAX_S);
	if (secs > HTTPD_PROFILE_MAX_S)
		return error(c, 400, "profile duration %llu s exceeds the server's limit of %d s\n",
			     (unsigned long long)secs, HTTPD_PROFILE_MAX_S);
	err = h->ops.profile(h->ops.ctx, r, secs);
	if (err == -EBUSY)
		return error(c, 429, "too many profiles in progress, try again later\n");
	if (err)
		return error(c, 500, "could not start the profile: %s\n", strerror(-err));
	r->state = REQ_WAITING;
	r->next = h->waiting;
	h->waiting = r;
	watch(h, r);
	mhd_fn.MHD_suspend_connection(c);
	return MHD_YES;
}

/* A TIME argument of a history request: NULL when absent, -EINVAL when not a time. */
static int time_arg(struct MHD_Connection *c, const char *name, const char **ret)
{
	*ret = mhd_fn.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	if (*ret && !**ret)
		*ret = NULL;
	return *ret && browse__check_time(*ret) ? -EINVAL : 0;
}

/*
 * GET /history/windows.json, /history/graph.svg, /history/diff.svg: the handler answers now
 * (httpd__answer from inside it: a cached result) or later, when its work is done.
 */
static enum MHD_Result serve_history(struct httpd *h, struct httpd_request *r,
				     enum browse_kind kind)
{
	struct MHD_Connection *c = r->conn;
	struct browse_query q = { .kind = kind };
	int err;

	if (!h->ops.history)
		return error(c, 404, "no history here: the daemon writes no --output-dir\n");
	if (time_arg(c, "from", &q.from) || time_arg(c, "to", &q.to) ||
	    time_arg(c, "vs_from", &q.vs_from) || time_arg(c, "vs_to", &q.vs_to))
		return error(c, 400, "from, to, vs_from, vs_to: a time as flamed render DIR takes "
				     "it (2026-12-04T03:00:00Z, -2h), at most %d characters\n",
			     BROWSE_TIME_MAX);
	if (kind == BROWSE_DIFF && !q.vs_from && !q.vs_to)
		return error(c, 400, "a diff needs the range compared against: vs_from, vs_to\n");
	r->state = REQ_WAITING;
	r->next = h->waiting;
	h->waiting = r;
	h->in_handler = true;
	err = h->ops.history(h->ops.ctx, r, &q);
	h->in_handler = false;
	if (err) {
		unlink_waiting(h, r);
		r->state = REQ_DONE;
		if (err == -EBUSY)
			return error(c, 429, "too many history requests in progress, try again "
					     "later\n");
		if (err == -EINVAL)
			return error(c, 400, "not a time\n");
		return error(c, 500, "cannot read the history: %s\n", strerror(-err));
	}
	if (r->state == REQ_ANSWERED) {
		r->state = REQ_DONE;
		return respond(c, r->status, r->type, r->body, r->len, true);
	}
	watch(h, r);
	mhd_fn.MHD_suspend_connection(c);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct httpd *h = cls;
	struct httpd_request *r = *req_cls;
	struct httpd_conn *k;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->h = h;
		r->conn = c;
		r->fd = -1;
		*req_cls = r;
		/* Headers only so far: the body, if any, comes in the next calls. */
		return MHD_YES;
	}
	if (*upload_size) {
		r->body_seen = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->state == REQ_GONE)
		return MHD_NO;
	if (r->state == REQ_ANSWERED) {
		r->state = REQ_DONE;
		return respond(c, r->status, r->type, r->body, r->len, true);
	}
	if (r->state != REQ_NEW)
		return MHD_YES;
	r->state = REQ_DONE;
	/* The request is complete: its deadline is met, and it is no longer the one to drop. */
	k = conn_of(c);
	if (k)
		k->deadline = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return error(c, 405, "method %.16s not allowed: GET or HEAD\n", method);
	if (r->body_seen)
		return error(c, 413, "requests carry no body here\n");
	if (!strcmp(url, "/debug/pprof/profile"))
		return serve_profile(h, r);
	if (!strcmp(url, "/metrics"))
		return serve_metrics(h, c);
	if (!strcmp(url, "/latest.svg"))
		return serve_svg(h, c);
	if (!strcmp(url, "/history/windows.json"))
		return serve_history(h, r, BROWSE_LIST);
	if (!strcmp(url, "/history/graph.svg"))
		return serve_history(h, r, BROWSE_GRAPH);
	if (!strcmp(url, "/history/diff.svg"))
		return serve_history(h, r, BROWSE_DIFF);
	if (!strcmp(url, "/") && h->ops.history)
		return respond(c, 200, "text/html; charset=utf-8", (void *)history_page,
			       sizeof(history_page) - 1, false);
	if (!strcmp(url, "/") || !strcmp(url, "/debug/pprof/"))
		return respond(c, 200, "text/plain; charset=utf-8", (void *)index_page,
			       sizeof(index_page) - 1, false);
	return error(c, 404, "404 page not found\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct httpd_request *r = *req_cls;
	struct httpd *h = cls;
	struct httpd_conn *k = conn_of(c);

	/* Kept alive, the connection waits for its next request, with a new deadline. */
	if (k && !k->dropped) {
		conn_unlink(h, k);
		conn_append(h, k);
	}
	if (!r)
		return;
	/* A waiting request is only ever ended by httpd__free, which answers it first. */
	unwatch(h, r);
	unlink_waiting(h, r);
	if (r->state == REQ_ANSWERED)
		free(r->body);
	free(r);
	*req_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	pr_debug("httpd: %s", buf);
}

/* The timer fires at libmicrohttpd's next timeout or the next request deadline. */
static void arm_timeout(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t wait = UINT64_MAX, now = now_mono_ns(), next = next_deadline(h);

	if (mhd_fn.MHD_get_timeout(h->d, &ms) == MHD_YES)
		wait = ms * 1000000ULL;
	if (next)
		wait = MIN(wait, next > now ? next - now : 0);
	/* 0 disarms: "now" is the next nanosecond. */
	evloop__timer_set(h->timer, wait == UINT64_MAX ? 0 : wait ? wait : 1, 0);
}

/* Closes what is past its deadline, lets libmicrohttpd do what is ready, re-arms the timer. */
static void run(struct httpd *h)
{
	expire(h);
	mhd_fn.MHD_run(h->d);
	arm_timeout(h);
}

static void on_ready(void *ctx, int fd, uint32_t events)
{
	run(ctx);
}

static void on_timeout(void *ctx)
{
	run(ctx);
}

/* A waiting profile's socket reported a hang-up (the only event it is watched for). */
static void on_hang_up(void *ctx, int fd, uint32_t events)
{
	struct httpd *h = ctx;
	struct httpd_request *r;

	for (r = h->waiting; r && r->fd != fd; r = r->next)
		;
	if (r)
		hang_up(h, r);
	run(h);
}

void httpd__answer(struct httpd *h, struct httpd_request *r, unsigned int status,
		   const char *content_type, void *body, size_t len)
{
	if (r->state != REQ_WAITING) {
		free(body);
		return;
	}
	unwatch(h, r);
	unlink_waiting(h, r);
	r->status = status;
	r->type = content_type;
	r->body = body;
	r->len = len;
	r->state = REQ_ANSWERED;
	/* From inside a handler (an answer known at once): the handler queues it. */
	if (h->in_handler)
		return;
	mhd_fn.MHD_resume_connection(r->conn);
	/*
	 * Not called from inside libmicrohttpd, so it may run here: a resumed connection is not
	 * always signalled on its epoll fd in external-loop mode, so the answer goes out now.
	 */
	mhd_fn.MHD_run(h->d);
	arm_timeout(h);
}

uint16_t httpd__port(const struct httpd *h)
{
	return h->port;
}

void httpd__stats(const struct httpd *h, struct httpd_stats *st)
{
	*st = h->stats;
}

struct httpd *httpd__new(const char *addr, struct evloop *loop, const struct httpd_handlers *ops,
			 int *err)
{
	struct httpd *h = calloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	socklen_t len;
	char text[INET6_ADDRSTRLEN];
	unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	*err = 0;
	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	h->loop = loop;
	h->mhd_fd = -1;
	h->ops = *ops;
	if (httpd__parse_listen(addr, &ss, &len)) {
		*err = -EINVAL;
		pr_err("invalid listen address '%s': expected PORT, HOST:PORT or [IPV6]:PORT", addr);
		goto cleanup;
	}
	/* libmicrohttpd is opened here, not at every start: most runs serve nothing. */
	if (lazylib__load(&mhd)) {
		*err = -ENOENT;
		pr_err("cannot serve %s: %s", addr, lazylib__why(&mhd));
		goto cleanup;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = mhd_fn.MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MHD_SOCKET_LIMIT,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONNECTION_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_IDLE_TIMEOUT_S,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
				MHD_OPTION_END);
	if (!h->d) {
		*err = errno ? -errno : -EADDRINUSE;
		pr_err("cannot listen on %s: %s", addr, strerror(-*err));
		goto cleanup;
	}
	info = mhd_fn.MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	/* libmicrohttpd's epoll fd (listening socket and connections) is one fd of the loop. */
	info = mhd_fn.MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->timer = evloop__add_timer(loop, on_timeout, h);
	*err = !info ? -EINVAL : !h->timer ? -ENOMEM :
	       evloop__add_fd(loop, info->epoll_fd, EPOLLIN, on_ready, h);
	if (*err) {
		pr_err("cannot set up the HTTP server's events: %s", strerror(-*err));
		goto cleanup;
	}
	h->mhd_fd = info->epoll_fd;
	arm_timeout(h);
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
	pr_notice("serving /debug/pprof/profile, /metrics and /latest.svg on http://%s%s%s:%u/",
		  ss.ss_family == AF_INET6 ? "[" : "", text, ss.ss_family == AF_INET6 ? "]" : "",
		  h->port);
	return h;
cleanup:
	httpd__free(h);
	return NULL;
}

void httpd__free(struct httpd *h)
{
	int i;

	if (!h)
		return;
	if (h->d) {
		/* libmicrohttpd must not be stopped with suspended connections. */
		while (h->waiting) {
			char *msg = strdup("flamed is stopping\n");

			httpd__answer(h, h->waiting, 503, "text/plain; charset=utf-8", msg,
				      msg ? strlen(msg) : 0);
		}
		for (i = 0; i < 3; i++)
			mhd_fn.MHD_run(h->d);
		if (h->mhd_fd >= 0)
			evloop__del_fd(h->loop, h->mhd_fd);
		mhd_fn.MHD_stop_daemon(h->d);
	}
	evloop__del_timer(h->timer);
	free(h);
}
