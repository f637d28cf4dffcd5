/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pull side of the fleet: a small HTTP server (libmicrohttpd) for Parca's scraper,
 * `go tool pprof` and Prometheus.
 *
 *   GET /debug/pprof/profile?seconds=N   a profile (in the daemon's mode) of the next N seconds (default 30, at
 *                                        most 300) as Go's net/http/pprof serves one: gzipped
 *                                        pprof, application/octet-stream
 *   GET /metrics                         Prometheus text format 0.0.4
 *   GET /latest.svg                      the newest window's flame graph
 *   GET /history/windows.json            the --output-dir's windows, counted (export/browse.h)
 *   GET /history/graph.svg?from=&to=     the windows of a range merged, as a flame graph
 *   GET /history/diff.svg?from=&to=&vs_from=&vs_to=   a range against another
 *   GET /                                with an --output-dir, the page that browses them
 *                                        (export/history_page.h); else the list above
 *
 * Only GET and HEAD (405 otherwise); no request bodies (413); unknown paths 404; bad arguments
 * 400; too many profiles at once 429. Clients are not trusted to be quick or to stay:
 * - a request must be complete (request line, headers, body) within HTTPD_REQUEST_TIMEOUT_S of
 *   the connection opening or of its previous answer, however it trickles in, or the
 *   connection is closed;
 * - connections are capped in total and per client address; at a cap, the connection that has
 *   waited longest for its request is closed to make room (an answer in progress never is), so
 *   connections held open without a request cannot lock other clients out;
 * - a profile whose client hangs up is cancelled at once (handlers.cancel), freeing its slot;
 * - headers fit in a per-connection memory limit; an answer that makes no progress for
 *   HTTPD_IDLE_TIMEOUT_S is dropped.
 *
 * Like push, it runs on the loop it is given (base/evloop.h): libmicrohttpd's epoll fd
 * (MHD_USE_EPOLL, MHD_DAEMON_INFO_EPOLL_FD) and the sockets of waiting profiles (for their
 * hang-up) are the loop's fds, its timeouts and the request deadlines one loop timer. A profile
 * request is suspended until its owner answers it with httpd__answer().
 */
#ifndef FLAMED_HTTPD_H
#define FLAMED_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define HTTPD_PROFILE_DEFAULT_S 30
#define HTTPD_PROFILE_MAX_S 300
#define HTTPD_MAX_CONNECTIONS 32
#define HTTPD_MAX_PER_CLIENT 16
#define HTTPD_CONNECTION_MEMORY (32 * 1024)	/* request line and headers must fit */
#define HTTPD_IDLE_TIMEOUT_S 30
#define HTTPD_REQUEST_TIMEOUT_S 10

struct httpd_request;
struct browse_query;

struct httpd_handlers {
	void *ctx;
	/* GET /metrics: writes the page to f; 0 or negative errno (500). */
	int (*metrics)(void *ctx, FILE *f);
	/* GET /latest.svg: an open read-only fd of the file, or negative errno (-ENOENT: 404). */
	int (*latest_svg)(void *ctx);
	/*
	 * GET /debug/pprof/profile: 0 when the profile was started, to be answered with
	 * httpd__answer(r, ...) later; -EBUSY (429) when too many run; other errors answer 500.
	 */
	int (*profile)(void *ctx, struct httpd_request *r, uint32_t seconds);
	/*
	 * GET /history/...: 0 when answered (httpd__answer, now or later); -EBUSY (429),
	 * -EINVAL (400), others 500. NULL: no history (no --output-dir), 404 and a text /.
	 */
	int (*history)(void *ctx, struct httpd_request *r, const struct browse_query *q);
	/* The client of a started profile or history request went away: forget r, unanswered. */
	void (*cancel)(void *ctx, struct httpd_request *r);
};

/* Connections the server closed before answering them, by why. */
struct httpd_stats {
	uint64_t request_timeouts;	/* no complete request within HTTPD_REQUEST_TIMEOUT_S */
	uint64_t client_limit;		/* closed to make room at HTTPD_MAX_PER_CLIENT */
	uint64_t connection_limit;	/* closed to make room at HTTPD_MAX_CONNECTIONS */
};

struct httpd;

/* Listens on addr (see httpd__parse_listen), served on loop; NULL with *err set and logged. */
struct evloop;
struct httpd *httpd__new(const char *addr, struct evloop *loop, const struct httpd_handlers *h,
			 int *err);
/* Answers the requests still waiting with 503, then stops. */
void httpd__free(struct httpd *h);

/* The port listened on (useful with port 0). */
uint16_t httpd__port(const struct httpd *h);
void httpd__stats(const struct httpd *h, struct httpd_stats *st);

/*
 * Answers a suspended profile request: status, content type and a malloc'd body (taken, even on
 * failure; NULL for none). r is gone afterwards. Not from inside a handler: it runs the server
 * once to send the answer at once.
 */
void httpd__answer(struct httpd *h, struct httpd_request *r, unsigned int status,
		   const char *content_type, void *body, size_t len);

/*
 * "PORT", ":PORT", "HOST:PORT" or "[IPV6]:PORT": HOST a numeric address or "localhost"; without
 * a HOST, the loopback address. 0 or -EINVAL.
 */
int httpd__parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
