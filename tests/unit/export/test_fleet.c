// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet modules' parts that need neither root nor a backend: the spool (memory and
 * directory), push's labels, URLs, request encoding and backoff, the fleet config keys, the
 * pushed profile's labels, and the HTTP server's routes and status codes over loopback.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "service/config.h"
#include "service/fleet.h"
#include "harness.h"
#include "base/evloop.h"
#include "export/httpd.h"
#include "aggregate/profile.h"
#include "export/push.h"
#include "push.pb-c.h"
#include "export/spool.h"
#include "base/util.h"

/* --- spool ----------------------------------------------------------------------------------- */

static uint8_t blob[4096];

TEST(spool_memory_order_and_bound)
{
	struct spool_window w;
	struct spool_stats st;
	struct spool *s;
	int err, i;

	s = spool__new(NULL, 350, &err);
	CHECK(s);
	if (!s)
		return;
	CHECK_EQ_INT(spool__peek(s, &w), -ENOENT);
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(spool__add(s, blob, 100, 1000 + i, 2000 + i, PROFILE_CPU), 0);
	/* The fourth brings it to 400 > 350: the oldest goes. */
	CHECK_EQ_INT(spool__add(s, blob, 100, 1003, 2003, PROFILE_CPU), 1);
	CHECK_EQ_INT(spool__count(s), 3);
	CHECK_EQ_INT(spool__peek(s, &w), 0);
	CHECK_EQ_INT(w.start_ns, 1001);
	CHECK_EQ_INT(w.end_ns, 2001);
	CHECK_EQ_INT(w.len, 100);
	CHECK_EQ_INT(spool__peek(s, &w), -EBUSY);
	/* The pinned head survives the bound: the next oldest goes instead. */
	CHECK_EQ_INT(spool__add(s, blob, 100, 1004, 2004, PROFILE_CPU), 1);
	spool__release(s, false);
	CHECK_EQ_INT(spool__peek(s, &w), 0);
	CHECK_EQ_INT(w.start_ns, 1001);
	spool__release(s, true);
	CHECK_EQ_INT(spool__peek(s, &w), 0);
	CHECK_EQ_INT(w.start_ns, 1003);
	spool__release(s, true);
	/* The newest is kept whatever its size. */
	CHECK_EQ_INT(spool__add(s, blob, 1000, 1005, 2005, PROFILE_CPU), 1);
	CHECK_EQ_INT(spool__count(s), 1);
	spool__stats(s, &st);
	CHECK_EQ_INT(st.dropped, 3);
	CHECK_EQ_INT(st.dropped_bytes, 300);
	CHECK_EQ_INT(st.added, 6);
	CHECK_EQ_INT(st.bytes, 1000);
	CHECK_EQ_INT(st.windows, 1);
	spool__free(s);
	spool__free(NULL);
}

TEST(spool_names)
{
	char name[SPOOL_NAME_LEN];
	enum profile_mode m;
	uint64_t a, b;

	spool__name(1764115200123456789ULL, 1764115260123456789ULL, PROFILE_CPU, name);
	CHECK_EQ_STR(name, "01764115200123456789-01764115260123456789.pb.gz");
	CHECK(spool__parse_name(name, &a, &b, &m));
	CHECK_EQ_INT(a, 1764115200123456789ULL);
	CHECK_EQ_INT(b, 1764115260123456789ULL);
	CHECK_EQ_INT(m, PROFILE_CPU);
	/* Other modes say so before the extension, and come back from the name. */
	spool__name(1, 2, PROFILE_OFFCPU, name);
	CHECK_EQ_STR(name, "00000000000000000001-00000000000000000002.offcpu.pb.gz");
	CHECK(spool__parse_name(name, &a, &b, &m));
	CHECK_EQ_INT(m, PROFILE_OFFCPU);
	spool__name(1, 2, PROFILE_WALL, name);
	CHECK_EQ_STR(name, "00000000000000000001-00000000000000000002.wall.pb.gz");
	CHECK(spool__parse_name(name, &a, &b, &m));
	CHECK_EQ_INT(m, PROFILE_WALL);
	CHECK(!spool__parse_name("00000000000000000001-00000000000000000002.cpu.pb.gz", &a, &b,
				 &m));
	CHECK(!spool__parse_name("00000000000000000001-00000000000000000002.bogus.pb.gz", &a, &b,
				 &m));
	CHECK(!spool__parse_name("00000000000000000001-00000000000000000002..pb.gz", &a, &b, &m));
	CHECK(!spool__parse_name("00000000000000000001-00000000000000000002.wall.pb", &a, &b,
				 &m));
	CHECK(!spool__parse_name("01764115200123456789-01764115260123456789.pb", &a, &b, &m));
	CHECK(!spool__parse_name("0176411520012345678x-01764115260123456789.pb.gz", &a, &b, &m));
	CHECK(!spool__parse_name("99999999999999999999-01764115260123456789.pb.gz", &a, &b, &m));
	CHECK(!spool__parse_name("", &a, &b, &m));
}

TEST(spool_directory_survives_restart)
{
	char dir[] = "/tmp/flamed-spool.XXXXXX", path[256];
	struct spool_window w;
	struct spool *s;
	int err, i, fd;

	CHECK(mkdtemp(dir));
	for (i = 0; i < (int)sizeof(blob); i++)
		blob[i] = i * 7;
	s = spool__new(dir, 1 << 20, &err);
	CHECK(s);
	if (!s)
		return;
	/* Added out of order: a restart sorts them by time. */
	CHECK_EQ_INT(spool__add(s, blob, 300, 3000, 4000, PROFILE_CPU), 0);
	CHECK_EQ_INT(spool__add(s, blob + 1, 200, 1000, 2000, PROFILE_WALL), 0);
	spool__free(s);
	/* A temp file of an interrupted write, and a stranger's file. */
	snprintf(path, sizeof(path), "%s/.00000000000000000005-00000000000000000006.pb.gz.abcdef",
		 dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);

	s = spool__new(dir, 1 << 20, &err);
	CHECK(s);
	if (!s)
		return;
	CHECK_EQ_INT(spool__count(s), 2);
	CHECK_EQ_INT(spool__peek(s, &w), 0);
	CHECK_EQ_INT(w.start_ns, 1000);
	CHECK_EQ_INT(w.len, 200);
	/* A wall-clock window is still one after the restart. */
	CHECK_EQ_INT(w.mode, PROFILE_WALL);
	CHECK(!memcmp(w.data, blob + 1, 200));
	spool__release(s, true);
	CHECK_EQ_INT(spool__peek(s, &w), 0);
	CHECK_EQ_INT(w.start_ns, 3000);
	CHECK_EQ_INT(w.mode, PROFILE_CPU);
	CHECK(!memcmp(w.data, blob, 300));
	spool__release(s, true);
	CHECK_EQ_INT(spool__count(s), 0);
	spool__free(s);
	/* Delivered windows and the temp file are gone; the stranger's file stays. */
	snprintf(path, sizeof(path), "rm %s/notes.txt && rmdir %s", dir, dir);
	CHECK_EQ_INT(system(path), 0);
}

TEST(spool_directory_bound_on_load)
{
	char dir[] = "/tmp/flamed-spool.XXXXXX", cmd[128];
	struct spool_stats st;
	struct spool *s;
	int err, i;

	CHECK(mkdtemp(dir));
	s = spool__new(dir, 1 << 20, &err);
	if (!s) {
		CHECK(s);
		return;
	}
	for (i = 0; i < 5; i++)
		spool__add(s, blob, 100, i, i + 1, PROFILE_CPU);
	spool__free(s);
	s = spool__new(dir, 250, &err);
	CHECK(s);
	if (!s)
		return;
	spool__stats(s, &st);
	CHECK_EQ_INT(st.windows, 2);
	CHECK_EQ_INT(st.dropped, 3);
	spool__free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

/* --- push's pure parts ----------------------------------------------------------------------- */

TEST(push_labels_merge)
{
	char l[256] = "";

	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), ""), 0);
	CHECK_EQ_STR(l, "");
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "zone=eu-west-1"), 0);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "env=prod,team=perf"), 0);
	CHECK_EQ_STR(l, "env=prod,team=perf,zone=eu-west-1");
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "env=staging"), 0);
	CHECK_EQ_STR(l, "env=staging,team=perf,zone=eu-west-1");
	/* A value may hold '=', spaces and UTF-8. */
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "note=a=b c\xc3\xa9"), 0);
	CHECK_EQ_STR(l, "env=staging,note=a=b c\xc3\xa9,team=perf,zone=eu-west-1");
	/* Refused, and the list unchanged. */
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "env"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "env="), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "=x"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "__name__=x"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "service_name=x"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "1st=x"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "a-b=x"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "a=x,"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "a=x}"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "a=\"x\""), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "a=x\ny"), -EINVAL);
	CHECK_EQ_INT(push__merge_labels(l, 20, "a=x"), -EINVAL);
	CHECK_EQ_STR(l, "env=staging,note=a=b c\xc3\xa9,team=perf,zone=eu-west-1");
}

TEST(push_labels_limit)
{
	char l[4096] = "", kv[32];
	int i;

	for (i = 0; i < PUSH_MAX_LABELS; i++) {
		snprintf(kv, sizeof(kv), "k%02d=v", i);
		CHECK_EQ_INT(push__merge_labels(l, sizeof(l), kv), 0);
	}
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "k00=again"), 0);
	CHECK_EQ_INT(push__merge_labels(l, sizeof(l), "one_more=v"), -EINVAL);
}

TEST(push_url_and_service_checks)
{
	CHECK_EQ_INT(push__check_url("http://pyroscope:4040"), 0);
	CHECK_EQ_INT(push__check_url("https://profiles.example.com/pyroscope/"), 0);
	CHECK_EQ_INT(push__check_url("http://[::1]:4040"), 0);
	CHECK_EQ_INT(push__check_url("ftp://x"), -EINVAL);
	CHECK_EQ_INT(push__check_url("http://"), -EINVAL);
	CHECK_EQ_INT(push__check_url("http:///x"), -EINVAL);
	CHECK_EQ_INT(push__check_url("http://x/ingest?name=a"), -EINVAL);
	CHECK_EQ_INT(push__check_url("http://x/#a"), -EINVAL);
	CHECK_EQ_INT(push__check_url("http://a b"), -EINVAL);
	CHECK_EQ_INT(push__check_service_name("web-1.prod/api_v2"), 0);
	CHECK_EQ_INT(push__check_service_name(""), -EINVAL);
	CHECK_EQ_INT(push__check_service_name("a{b}"), -EINVAL);
	CHECK_EQ_INT(push__check_service_name("a b"), -EINVAL);
}

TEST(push_ingest_url)
{
	char *u = push__ingest_url("http://py:4040", "web.api", "host-1", "env=prod,hostname=h2",
				   1764115200500000000ULL, 1764115260400000000ULL);

	/* hostname from the labels wins over the host's; from rounds down, until up. */
	CHECK_EQ_STR(u, "http://py:4040/ingest?name=web.api%7Benv%3Dprod%2Chostname%3Dh2%7D"
			"&from=1764115200&until=1764115261&format=pprof&spyName=flamed");
	free(u);
	u = push__ingest_url("https://p/x", "s", "h", "", 5000000000ULL, 5000000000ULL);
	CHECK_EQ_STR(u, "https://p/x/ingest?name=s%7Bhostname%3Dh%7D&from=5&until=6&format=pprof"
			"&spyName=flamed");
	free(u);
}

TEST(push_connect_request)
{
	static const uint8_t pprof[] = { 0x1f, 0x8b, 8, 0, 1, 2, 3 };
	Push__V1__PushRequest *req;
	Push__V1__RawProfileSeries *s;
	const char *want[][2] = { { "__name__", "process_cpu" }, { "env", "prod" },
				  { "hostname", "host-1" }, { "service_name", "web" },
				  { "zone", "z1" } };
	char id[37];
	uint8_t *buf;
	size_t len, i;

	push__profile_id("host-1", 1, 2, id);
	buf = push__encode_request(push__profile_name(PROFILE_CPU), "web", "host-1",
				   "env=prod,zone=z1", id, pprof, sizeof(pprof), &len);
	CHECK(buf);
	req = push__v1__push_request__unpack(NULL, len, buf);
	CHECK(req);
	if (!req) {
		free(buf);
		return;
	}
	CHECK_EQ_INT(req->n_series, 1);
	s = req->series[0];
	CHECK_EQ_INT(s->n_labels, ARRAY_SIZE(want));
	for (i = 0; i < s->n_labels && i < ARRAY_SIZE(want); i++) {
		CHECK_EQ_STR(s->labels[i]->name, want[i][0]);
		CHECK_EQ_STR(s->labels[i]->value, want[i][1]);
	}
	CHECK_EQ_INT(s->n_samples, 1);
	CHECK_EQ_INT(s->samples[0]->raw_profile.len, sizeof(pprof));
	CHECK(!memcmp(s->samples[0]->raw_profile.data, pprof, sizeof(pprof)));
	CHECK_EQ_STR(s->samples[0]->id, id);
	push__v1__push_request__free_unpacked(req, NULL);
	free(buf);
}

/* --group-by: one series per group, a "group" label sorted among the others. */
TEST(push_series_per_group)
{
	static const uint8_t a[] = { 1, 2 }, b[] = { 3 };
	const struct push_series in[] = {
		{ .service_name = "docker:3f4e5d6c7b8a", .group = "docker:3f4e5d6c7b8a", .id = "i1",
		  .pprof = a, .len = sizeof(a) },
		{ .service_name = "host-1", .group = "[no container]", .id = "i2", .pprof = b,
		  .len = sizeof(b) },
	};
	const char *want[][2] = { { "__name__", "wall" }, { "env", "prod" },
				  { "group", "[no container]" }, { "hostname", "host-1" },
				  { "service_name", "host-1" } };
	Push__V1__PushRequest *req;
	Push__V1__RawProfileSeries *s;
	uint8_t *buf;
	size_t len, i;

	buf = push__encode_series(push__profile_name(PROFILE_WALL), "host-1", "env=prod", in, 2,
				  &len);
	CHECK(buf);
	req = buf ? push__v1__push_request__unpack(NULL, len, buf) : NULL;
	CHECK(req);
	if (!req) {
		free(buf);
		return;
	}
	CHECK_EQ_INT(req->n_series, 2);
	CHECK_EQ_STR(req->series[0]->labels[4]->name, "service_name");
	CHECK_EQ_STR(req->series[0]->labels[4]->value, "docker:3f4e5d6c7b8a");
	CHECK_EQ_INT(req->series[0]->samples[0]->raw_profile.len, sizeof(a));
	s = req->series[1];
	CHECK_EQ_INT(s->n_labels, ARRAY_SIZE(want));
	for (i = 0; i < s->n_labels && i < ARRAY_SIZE(want); i++) {
		CHECK_EQ_STR(s->labels[i]->name, want[i][0]);
		CHECK_EQ_STR(s->labels[i]->value, want[i][1]);
	}
	CHECK_EQ_STR(s->samples[0]->id, "i2");
	CHECK_EQ_INT(s->samples[0]->raw_profile.len, sizeof(b));
	push__v1__push_request__free_unpacked(req, NULL);
	free(buf);
}

TEST(push_profile_id_and_backoff)
{
	char a[37], b[37], c[37];
	unsigned int i;

	push__profile_id("h", 1, 2, a);
	push__profile_id("h", 1, 2, b);
	push__profile_id("h", 1, 3, c);
	CHECK_EQ_STR(a, b);
	CHECK(strcmp(a, c));
	CHECK_EQ_INT(strlen(a), 36);
	CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	CHECK(a[14] == '4');
	CHECK(strchr("89ab", a[19]));
	CHECK_EQ_INT(push__backoff_ms(1, 0), 250);
	CHECK_EQ_INT(push__backoff_ms(1, 250), 500);
	CHECK_EQ_INT(push__backoff_ms(2, 0), 500);
	CHECK_EQ_INT(push__backoff_ms(3, 500), 1500);
	CHECK_EQ_INT(push__backoff_ms(3, 1000), 2000);
	for (i = 1; i < 100; i++) {
		CHECK(push__backoff_ms(i, UINT64_MAX) <= 60000);
		CHECK(push__backoff_ms(i, 0) >= 250);
		CHECK(push__backoff_ms(i + 1, 0) >= push__backoff_ms(i, 0));
	}
	CHECK_EQ_INT(push__backoff_ms(1000, 0), 30000);
}

/* --- config keys ----------------------------------------------------------------------------- */

TEST(config_fleet_keys)
{
	const char *text = "push-url = https://pyroscope.example.com/p\n"
			   "push-api = ingest\n"
			   "service-name = web\n"
			   "label = env=prod\n"
			   "label = team=perf,env=staging\n"
			   "sample-labels = thread,process\n"
			   "push-token-file = /etc/flamed/token\n"
			   "push-tenant = team-a\n"
			   "push-ca-file = /etc/ssl/ca.pem\n"
			   "push-timeout = 10\n"
			   "spool-dir = /var/lib/flamed/spool\n"
			   "spool-max-bytes = 16M\n"
			   "listen = 0.0.0.0:6060\n";
	char msg[CONFIG_MSG_LEN], v[64];
	struct config c;

	config__init(&c);
	CHECK_EQ_INT(c.push_api, PUSH_API_CONNECT);
	CHECK_EQ_INT(c.spool_max_bytes, 64 << 20);
	CHECK_EQ_INT(c.push_timeout_s, 30);
	CHECK_EQ_INT(c.sample_labels, 0);
	CHECK_EQ_STR(c.listen, "");
	CHECK_EQ_INT(config__parse(&c, text, strlen(text), "t.conf", msg), 0);
	CHECK_EQ_STR(c.push_url, "https://pyroscope.example.com/p");
	CHECK_EQ_INT(c.push_api, PUSH_API_INGEST);
	CHECK_EQ_STR(c.labels, "env=staging,team=perf");
	CHECK_EQ_INT(c.sample_labels, FLEET_LABEL_PROCESS | FLEET_LABEL_THREAD);
	config__format(&c, "sample-labels", v, sizeof(v));
	CHECK_EQ_STR(v, "process,thread");
	CHECK_EQ_INT(c.spool_max_bytes, 16 << 20);
	CHECK_EQ_STR(c.listen, "0.0.0.0:6060");
	CHECK(!config__key_runtime("push-url"));
	CHECK_EQ_INT(config__set(&c, "push-url", "pyroscope:4040", msg), -EINVAL);
	CHECK(strstr(msg, "http://"));
	CHECK_EQ_INT(config__set(&c, "push-url", "", msg), 0);
	CHECK_EQ_INT(config__set(&c, "push-api", "grpc", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "service-name", "a b", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "label", "__name__=x", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "sample-labels", "pid,pid", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "sample-labels", "none", msg), 0);
	CHECK_EQ_INT(c.sample_labels, 0);
	CHECK_EQ_INT(config__set(&c, "push-tenant", "a b", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "push-timeout", "0", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "listen", "example.com:80", msg), -EINVAL);
	CHECK_EQ_INT(config__set(&c, "listen", "6060", msg), 0);
	CHECK_EQ_INT(config__set(&c, "listen", "[::1]:6060", msg), 0);
	CHECK_EQ_INT(config__set(&c, "listen", "70000", msg), -EINVAL);
}

TEST(httpd_listen_addresses)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	socklen_t len;

	CHECK_EQ_INT(httpd__parse_listen("6060", &ss, &len), 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	CHECK_EQ_INT(ntohs(in->sin_port), 6060);
	CHECK_EQ_INT(httpd__parse_listen(":7070", &ss, &len), 0);
	CHECK_EQ_INT(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	CHECK_EQ_INT(httpd__parse_listen("0.0.0.0:80", &ss, &len), 0);
	CHECK_EQ_INT(in->sin_addr.s_addr, 0);
	CHECK_EQ_INT(httpd__parse_listen("localhost:0", &ss, &len), 0);
	CHECK_EQ_INT(httpd__parse_listen("[::]:6060", &ss, &len), 0);
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK_EQ_INT(len, sizeof(struct sockaddr_in6));
	CHECK_EQ_INT(httpd__parse_listen("", &ss, &len), -EINVAL);
	CHECK_EQ_INT(httpd__parse_listen("host:1", &ss, &len), -EINVAL);
	CHECK_EQ_INT(httpd__parse_listen("[::1]6060", &ss, &len), -EINVAL);
	CHECK_EQ_INT(httpd__parse_listen("1.2.3.4:", &ss, &len), -EINVAL);
	CHECK_EQ_INT(httpd__parse_listen("1.2.3.4:65536", &ss, &len), -EINVAL);
}

/* --- the pushed profile ---------------------------------------------------------------------- */

TEST(fleet_push_profile_labels)
{
	struct profile *p = profile__new(), *q;
	struct profile_mapping m = { 0 };
	struct profile_frame f = { 0 };
	const struct profile_sample *s;
	const struct profile_frame *fr;
	uint32_t frames[2];
	char v[64];
	unsigned int mask;

	m.file = profile__intern_str(p, "/usr/bin/app");
	f.mapping = profile__add_mapping(p, &m);
	f.name = profile__intern_str(p, "main");
	f.addr = 0x1000;
	frames[0] = profile__add_frame(p, &f);
	f.name = profile__intern_str(p, "work");
	frames[1] = profile__add_frame(p, &f);
	profile__add_sample(p, frames, 2, 7, 1234, profile__intern_str(p, "app"),
			    profile__intern_str(p, "worker-3"));
	profile__meta(p)->freq_hz = 99;

	/* Default: no sample labels, the process name as the root frame. */
	q = fleet__push_profile(p, 0);
	CHECK(q);
	if (q) {
		s = profile__sample(q, 0);
		CHECK_EQ_INT(s->nframes, 3);
		CHECK_EQ_INT(s->pid, 0);
		CHECK_EQ_INT(s->comm, 0);
		CHECK_EQ_INT(s->thread, 0);
		CHECK_EQ_INT(s->count, 7);
		fr = profile__frame(q, profile__sample_frames(q, s)[0]);
		CHECK_EQ_STR(profile__str(q, fr->name), "app");
		CHECK_EQ_INT(fr->mapping, 0);
		fr = profile__frame(q, profile__sample_frames(q, s)[2]);
		CHECK_EQ_STR(profile__str(q, fr->name), "work");
		CHECK_EQ_STR(profile__str(q, profile__mapping(q, fr->mapping)->file),
			     "/usr/bin/app");
		CHECK_EQ_INT(fr->addr, 0x1000);
		CHECK_EQ_INT(profile__meta(q)->freq_hz, 99);
		profile__free(q);
	}
	CHECK_EQ_INT(fleet__parse_sample_labels("process,pid", &mask), 0);
	q = fleet__push_profile(p, mask);
	CHECK(q);
	if (q) {
		s = profile__sample(q, 0);
		CHECK_EQ_INT(s->nframes, 2);
		CHECK_EQ_INT(s->pid, 1234);
		CHECK_EQ_STR(profile__str(q, s->comm), "app");
		CHECK_EQ_INT(s->thread, 0);
		profile__free(q);
	}
	fleet__format_sample_labels(0, v, sizeof(v));
	CHECK_EQ_STR(v, "none");
	fleet__format_sample_labels(FLEET_LABEL_THREAD | FLEET_LABEL_PID, v, sizeof(v));
	CHECK_EQ_STR(v, "pid,thread");
	CHECK_EQ_INT(fleet__parse_sample_labels("", &mask), -EINVAL);
	CHECK_EQ_INT(fleet__parse_sample_labels("pid,", &mask), -EINVAL);
	CHECK_EQ_INT(fleet__parse_sample_labels("comm", &mask), -EINVAL);
	profile__free(p);
}

/* --- the HTTP server ------------------------------------------------------------------------- */

struct served {
	struct evloop *loop;
	struct httpd *h;
	struct httpd_request *pending;
	volatile int stop;
	char svg[64];
};

static int stub_metrics(void *ctx, FILE *f)
{
	fprintf(f, "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n");
	return 0;
}

static int stub_svg(void *ctx)
{
	struct served *sv = ctx;
	int fd;

	if (!sv->svg[0])
		return -ENOENT;
	fd = open(sv->svg, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int stub_profile(void *ctx, struct httpd_request *r, uint32_t seconds)
{
	struct served *sv = ctx;

	if (seconds == 7 || sv->pending)
		return -EBUSY;
	sv->pending = r;
	return 0;
}

/* The daemon's loop, in miniature: run the loop, answer a waiting profile. */
static void *serve(void *arg)
{
	struct served *sv = arg;

	while (!sv->stop) {
		evloop__run(sv->loop, 20);
		if (sv->pending) {
			httpd__answer(sv->h, sv->pending, 200, "application/octet-stream",
				      strdup("pprof"), 5);
			sv->pending = NULL;
		}
	}
	return NULL;
}

static size_t sink(char *d, size_t s, size_t n, void *u)
{
	char *buf = u;
	size_t len = strlen(buf), add = MIN(s * n, 255 - len);

	memcpy(buf + len, d, add);
	buf[len + add] = '\0';
	return s * n;
}

/* One request; the status, the body's first bytes into body, the content type into type. */
static long fetch(uint16_t port, const char *method, const char *path, const char *data,
		  char body[256], char type[64])
{
	CURL *e = curl_easy_init();
	char url[256];
	long status = 0;
	char *ct = NULL;

	body[0] = '\0';
	type[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if (data)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(e) == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(type, 64, "%s", ct ? ct : "");
	}
	curl_easy_cleanup(e);
	return status;
}

/*
 * HEAD over a plain socket: everything the server sends until it closes, into buf. curl's NOBODY
 * never reads a body, so only the bytes on the wire show whether HEAD sent one.
 */
static ssize_t raw_head(uint16_t port, const char *path, char *buf, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct pollfd pfd;
	char req[256];
	size_t got = 0;
	ssize_t n = -1;
	int s;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	snprintf(req, sizeof(req), "HEAD %s HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n",
		 path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(s, req, strlen(req)) != (ssize_t)strlen(req))
		goto cleanup;
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	while (got < len - 1 && poll(&pfd, 1, 10000) == 1) {
		n = read(s, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	n = got;
cleanup:
	close(s);
	return n;
}

TEST(httpd_routes_and_status_codes)
{
	struct served sv = { 0 };
	struct httpd_handlers ops = {
		.ctx = &sv,
		.metrics = stub_metrics,
		.latest_svg = stub_svg,
		.profile = stub_profile,
	};
	char body[256], type[64], big[40000], head[1024];
	const char *eoh;
	uint16_t port;
	pthread_t t;
	int err, fd;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	sv.loop = evloop__new(&err);
	CHECK(sv.loop);
	if (!sv.loop)
		return;
	sv.h = httpd__new("127.0.0.1:0", sv.loop, &ops, &err);
	CHECK(sv.h);
	if (!sv.h) {
		evloop__free(sv.loop);
		return;
	}
	port = httpd__port(sv.h);
	CHECK(port != 0);
	pthread_create(&t, NULL, serve, &sv);

	CHECK_EQ_INT(fetch(port, "GET", "/metrics", NULL, body, type), 200);
	CHECK_EQ_STR(type, "text/plain; version=0.0.4; charset=utf-8");
	CHECK(strstr(body, "x_total 1"));
	CHECK_EQ_INT(fetch(port, "HEAD", "/metrics", NULL, body, type), 200);
	/* HEAD: the status line and headers, and not one byte after them. */
	CHECK(raw_head(port, "/metrics", head, sizeof(head)) > 0);
	CHECK(!strncmp(head, "HTTP/1.", 7) && strstr(head, " 200 "));
	eoh = strstr(head, "\r\n\r\n");
	CHECK(eoh != NULL);
	if (eoh)
		CHECK_EQ_STR(eoh + 4, "");
	CHECK_EQ_INT(fetch(port, "GET", "/debug/pprof/profile?seconds=1", NULL, body, type), 200);
	CHECK_EQ_STR(type, "application/octet-stream");
	CHECK_EQ_STR(body, "pprof");
	CHECK_EQ_INT(fetch(port, "GET", "/debug/pprof/profile?seconds=7", NULL, body, type), 429);
	CHECK_EQ_INT(fetch(port, "GET", "/debug/pprof/profile?seconds=x", NULL, body, type), 400);
	CHECK_EQ_INT(fetch(port, "GET", "/debug/pprof/profile?seconds=0", NULL, body, type), 400);
	CHECK_EQ_INT(fetch(port, "GET", "/debug/pprof/profile?seconds=301", NULL, body, type), 400);
	CHECK(strstr(body, "300"));
	CHECK_EQ_INT(fetch(port, "GET", "/latest.svg", NULL, body, type), 404);
	snprintf(sv.svg, sizeof(sv.svg), "/tmp/flamed-test-svg.XXXXXX");
	fd = mkstemp(sv.svg);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, "<svg/>", 6), 6);
	close(fd);
	CHECK_EQ_INT(fetch(port, "GET", "/latest.svg", NULL, body, type), 200);
	CHECK_EQ_STR(body, "<svg/>");
	CHECK_EQ_STR(type, "image/svg+xml");
	unlink(sv.svg);
	CHECK_EQ_INT(fetch(port, "GET", "/", NULL, body, type), 200);
	CHECK_EQ_INT(fetch(port, "GET", "/nope", NULL, body, type), 404);
	CHECK_EQ_INT(fetch(port, "POST", "/metrics", "x=1", body, type), 405);
	CHECK_EQ_INT(fetch(port, "DELETE", "/metrics", NULL, body, type), 405);
	CHECK_EQ_INT(fetch(port, "GET", "/metrics", "x=1", body, type), 413);
	/* A request line longer than the connection's memory is refused, not buffered. */
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	CHECK(fetch(port, "GET", big, NULL, body, type) >= 400);
	/* The server still answers. */
	CHECK_EQ_INT(fetch(port, "GET", "/metrics", NULL, body, type), 200);

	sv.stop = 1;
	pthread_join(t, NULL);
	httpd__free(sv.h);
	httpd__free(NULL);
	evloop__free(sv.loop);
}
