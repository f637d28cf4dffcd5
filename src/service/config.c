// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "service/config.h"
#include "symbolize/symbolize.h"
#include "service/fleet.h"
#include "export/httpd.h"
#include "base/output.h"
#include "export/push.h"
#include "service/session.h"
#include "base/util.h"

/* A config file is a few hundred bytes; anything much larger is not one. */
#define CONFIG_MAX_FILE (1 << 20)
#define CONFIG_MAX_LINE 4096

struct config_key;
typedef int (*parse_fn)(const struct config_key *k, const char *v, void *dst);
typedef void (*format_fn)(const struct config_key *k, const void *src, char *buf, size_t len);

struct config_key {
	const char *name;
	parse_fn parse;
	format_fn format;
	size_t off, size;
	uint64_t min, max;	/* numbers: accepted range */
	bool runtime;		/* applied on SIGHUP */
	const char *expect;	/* what a valid value looks like, for error messages */
};

static int parse_interval(const struct config_key *k, const char *v, void *dst)
{
	double d, mul = 1;
	char *end;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || (*v < '0' || *v > '9'))
		return -EINVAL;
	if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	d *= mul;
	if (!(d >= 0.1 && d <= 7 * 86400.0))
		return -EINVAL;
	*(uint64_t *)dst = (uint64_t)(d * 1e9 + 0.5);
	return 0;
}

static void format_interval(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%g", *(const uint64_t *)src / 1e9);
}

static int parse_str(const struct config_key *k, const char *v, void *dst)
{
	size_t n = strlen(v);

	if (n >= k->size || (k->min && n < k->min))
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static void format_str(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%s", (const char *)src);
}

static int parse_uint(const struct config_key *k, const char *v, void *dst)
{
	uint64_t x;

	if (parse_u64(v, k->max, &x) || x < k->min)
		return -EINVAL;
	/* uint32_t and int fields alike: values are range-checked to fit either. */
	if (k->size == sizeof(uint32_t))
		*(uint32_t *)dst = x;
	else
		*(uint64_t *)dst = x;
	return 0;
}

static void format_uint(const struct config_key *k, const void *src, char *buf, size_t len)
{
	unsigned long long x;

	if (k->size == sizeof(uint32_t))
		x = *(const uint32_t *)src;
	else
		x = *(const uint64_t *)src;
	snprintf(buf, len, "%llu", x);
}

/* Bytes with an optional binary suffix: 1048576, 512K, 100M, 2G, 1T (also "MiB", "MB"). */
static int parse_size(const struct config_key *k, const char *v, void *dst)
{
	static const char units[] = "KMGT";
	unsigned long long x;
	const char *u;
	char *end;
	int shift = 0;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end);
		if (!u || !*u)
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end && strcmp(end, "B") && strcmp(end, "iB"))
			return -EINVAL;
		if (x > (UINT64_MAX >> shift))
			return -EINVAL;
	}
	*(uint64_t *)dst = (uint64_t)x << shift;
	return 0;
}

static void format_size(const struct config_key *k, const void *src, char *buf, size_t len)
{
	uint64_t x = *(const uint64_t *)src;

	if (x && !(x & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%lluG", (unsigned long long)(x >> 30));
	else if (x && !(x & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%lluM", (unsigned long long)(x >> 20));
	else if (x && !(x & ((1ULL << 10) - 1)))
		snprintf(buf, len, "%lluK", (unsigned long long)(x >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)x);
}

static int parse_bool(const struct config_key *k, const char *v, void *dst)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*(bool *)dst = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*(bool *)dst = false;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_bool(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%s", *(const bool *)src ? "true" : "false");
}

/* "svg,folded,pprof" in any order, each at most once. */
static int parse_formats(const struct config_key *k, const char *v, void *dst)
{
	unsigned int set = 0;
	const char *p = v;

	while (*p) {
		size_t n = strcspn(p, ",");
		char word[16];
		enum output_format f;

		if (!n || n >= sizeof(word))
			return -EINVAL;
		memcpy(word, p, n);
		word[n] = '\0';
		f = output__format_from_name(word);
		if (f == FMT_NONE || (set & (1u << f)))
			return -EINVAL;
		set |= 1u << f;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	if (!set)
		return -EINVAL;
	*(unsigned int *)dst = set;
	return 0;
}

static void format_formats(const struct config_key *k, const void *src, char *buf, size_t len)
{
	static const enum output_format order[] = { FMT_SVG, FMT_FOLDED, FMT_PPROF };
	unsigned int set = *(const unsigned int *)src;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(order) && n < len; i++)
		if (set & (1u << order[i]))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      output__format_name(order[i]));
}

static int parse_event(const struct config_key *k, const char *v, void *dst)
{
	if (strcmp(v, "cpu-clock") && strcmp(v, "cycles"))
		return -EINVAL;
	return parse_str(k, v, dst);
}

static const char *const unwind_names[] = {
	[UNWIND_AUTO] = "auto",
	[UNWIND_FP] = "fp",
	[UNWIND_DWARF] = "dwarf",
};

/*
 * Repeatable: each setting adds directories (absolute, ':'-separated as the value is written
 * back) to the list; an empty value clears it.
 */
static int parse_debug_dir(const struct config_key *k, const char *v, void *dst)
{
	char *list = dst;
	size_t n = strlen(list), m = strlen(v);
	const char *p;

	if (!m) {
		list[0] = '\0';
		return 0;
	}
	for (p = v; *p; p = strchr(p, ':') ? strchr(p, ':') + 1 : p + strlen(p))
		if (*p != '/')
			return -EINVAL;
	if (n + m + 2 > k->size)
		return -EINVAL;
	if (n)
		list[n++] = ':';
	memcpy(list + n, v, m + 1);
	return 0;
}

static int parse_debuginfod(const struct config_key *k, const char *v, void *dst)
{
	return symbolize__parse_debuginfod(v, (enum symbolizer_debuginfod *)dst);
}

static void format_debuginfod(const struct config_key *k, const void *src, char *buf,
			      size_t len)
{
	snprintf(buf, len, "%s",
		 symbolize__debuginfod_name(*(const enum symbolizer_debuginfod *)src));
}

static int parse_unwind(const struct config_key *k, const char *v, void *dst)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unwind_names); i++) {
		if (!strcmp(v, unwind_names[i])) {
			*(int *)dst = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_unwind(const struct config_key *k, const void *src, char *buf, size_t len)
{
	int u = *(const int *)src;

	snprintf(buf, len, "%s",
		 u >= 0 && u < (int)ARRAY_SIZE(unwind_names) ? unwind_names[u] : "?");
}

static void format_int(const struct config_key *k, const void *src, char *buf, size_t len)
{
	snprintf(buf, len, "%d", *(const int *)src);
}

/* Fleet keys: the checks live with the modules that use the values (push.h, httpd.h, fleet.h). */
static int parse_push_url(const struct config_key *k, const char *v, void *dst)
{
	return *v && push__check_url(v) ? -EINVAL : parse_str(k, v, dst);
}

static int parse_push_api(const struct config_key *k, const char *v, void *dst)
{
	int i;

	for (i = 0; i < PUSH_API_MAX; i++) {
		if (!strcmp(v, push_api_names[i])) {
			*(int *)dst = i;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_push_api(const struct config_key *k, const void *src, char *buf, size_t len)
{
	int a = *(const int *)src;

	snprintf(buf, len, "%s", a >= 0 && a < PUSH_API_MAX ? push_api_names[a] : "?");
}

static int parse_service_name(const struct config_key *k, const char *v, void *dst)
{
	return *v && push__check_service_name(v) ? -EINVAL : parse_str(k, v, dst);
}

/* Every label setting adds to (or replaces a key of) the list. */
static int parse_label(const struct config_key *k, const char *v, void *dst)
{
	return push__merge_labels(dst, k->size, v);
}

static int parse_sample_labels(const struct config_key *k, const char *v, void *dst)
{
	return fleet__parse_sample_labels(v, dst);
}

static void format_sample_labels(const struct config_key *k, const void *src, char *buf,
				 size_t len)
{
	fleet__format_sample_labels(*(const unsigned int *)src, buf, len);
}

/* Goes into an HTTP header: printable ASCII without spaces. */
static int parse_header_value(const struct config_key *k, const char *v, void *dst)
{
	const char *p;

	for (p = v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return -EINVAL;
	return parse_str(k, v, dst);
}

static int parse_listen(const struct config_key *k, const char *v, void *dst)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return *v && httpd__parse_listen(v, &ss, &len) ? -EINVAL : parse_str(k, v, dst);
}

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct config_key keys[] = {
	{ "interval", parse_interval, format_interval, FIELD(interval_ns), 0, 0, true,
	  "seconds from 0.1 to 604800, such as 60, 0.5, 5m or 1h" },
	{ "output-dir", parse_str, format_str, FIELD(output_dir), 1, 0, true,
	  "a directory path" },
	{ "keep", parse_uint, format_uint, FIELD(keep), 0, 1000000, true,
	  "a number of windows from 0 (no limit) to 1000000" },
	{ "max-bytes", parse_size, format_size, FIELD(max_bytes), 0, 0, true,
	  "a size such as 500M, 2G or 1048576 (bytes), or 0 for no limit" },
	{ "formats", parse_formats, format_formats, FIELD(formats), 0, 0, true,
	  "a comma-separated list of svg, folded and pprof" },
	{ "title", parse_str, format_str, FIELD(title), 0, 0, true,
	  "text of at most 255 bytes" },
	{ "verbose", parse_uint, format_int, FIELD(verbose), 0, 2, true,
	  "0 (notices), 1 (information) or 2 (debug)" },
	{ "frequency", parse_uint, format_uint, FIELD(freq_hz), 1, 1000000, false,
	  "samples per second per CPU, from 1" },
	{ "event", parse_event, format_str, FIELD(event), 0, 0, false,
	  "cpu-clock or cycles" },
	{ "include-idle", parse_bool, format_bool, FIELD(include_idle), 0, 0, false,
	  "true or false" },
	{ "no-demangle", parse_bool, format_bool, FIELD(no_demangle), 0, 0, false,
	  "true or false" },
	{ "max-stacks", parse_uint, format_uint, FIELD(max_stacks), 64, 1 << 24, false,
	  "a number from 64 to 16777216" },
	{ "unwind", parse_unwind, format_unwind, FIELD(unwind), 0, 0, false,
	  "auto, fp or dwarf" },
	{ "symbol-cache-mb", parse_uint, format_uint, FIELD(symbol_cache_mb), 8, 65536, false,
	  "megabytes from 8 to 65536" },
	{ "perfmap-max-entries", parse_uint, format_uint, FIELD(perfmap_max_entries), 1000,
	  100000000, false, "a number of functions from 1000 to 100000000" },
	{ "perfmap-max-mb", parse_uint, format_uint, FIELD(perfmap_max_mb), 1, 65536, false,
	  "megabytes from 1 to 65536" },
	{ "perfmap-total-mb", parse_uint, format_uint, FIELD(perfmap_total_mb), 1, 65536, false,
	  "megabytes from 1 to 65536" },
	{ "perfmap-read-ms", parse_uint, format_uint, FIELD(perfmap_read_ms), 1, 60000, false,
	  "milliseconds from 1 to 60000" },
	{ "unwind-max-mb", parse_uint, format_uint, FIELD(unwind_max_mb), 1, 16384, false,
	  "megabytes from 1 to 16384" },
	{ "debug-dir", parse_debug_dir, format_str, FIELD(debug_dirs), 0, 0, false,
	  "absolute directories, ':'-separated (may repeat)" },
	{ "debuginfod", parse_debuginfod, format_debuginfod, FIELD(debuginfod), 0, 0, false,
	  "auto, on or off" },
	{ "debuginfod-urls", parse_str, format_str, FIELD(debuginfod_urls), 0, 0, false,
	  "space-separated server URLs" },
	{ "debuginfod-timeout", parse_uint, format_uint, FIELD(debuginfod_timeout_s), 0, 600,
	  false, "seconds from 0 (the default, 10) to 600" },
	{ "lines", parse_bool, format_bool, FIELD(lines), 0, 0, false, "true or false" },
	{ "no-inline", parse_bool, format_bool, FIELD(no_inline), 0, 0, false, "true or false" },
	{ "no-params", parse_bool, format_bool, FIELD(no_params), 0, 0, false, "true or false" },
	/* Fleet: push to Pyroscope, serve pprof and metrics. */
	{ "push-url", parse_push_url, format_str, FIELD(push_url), 0, 0, false,
	  "an http:// or https:// URL such as http://pyroscope:4040, without ? or #" },
	{ "push-api", parse_push_api, format_push_api, FIELD(push_api), 0, 0, false,
	  "connect or ingest" },
	{ "service-name", parse_service_name, format_str, FIELD(service_name), 0, 0, false,
	  "1 to 127 letters, digits, '.', '_', '-' or '/'" },
	{ "label", parse_label, format_str, FIELD(labels), 0, 0, false,
	  "key=value (key: letters, digits and '_', not starting with '__' nor service_name; "
	  "value: 1 to 127 bytes without , { } \" \\), at most 16 labels" },
	{ "sample-labels", parse_sample_labels, format_sample_labels, FIELD(sample_labels), 0, 0,
	  false, "none, or a comma-separated list of process, pid and thread" },
	{ "push-token-file", parse_str, format_str, FIELD(push_token_file), 0, 0, false,
	  "a file path" },
	{ "push-basic-auth-file", parse_str, format_str, FIELD(push_basic_auth_file), 0, 0, false,
	  "a file path" },
	{ "push-tenant", parse_header_value, format_str, FIELD(push_tenant), 0, 0, false,
	  "a tenant id of printable characters without spaces" },
	{ "push-ca-file", parse_str, format_str, FIELD(push_ca_file), 0, 0, false,
	  "a file path" },
	{ "push-timeout", parse_uint, format_uint, FIELD(push_timeout_s), 1, 600, false,
	  "seconds from 1 to 600" },
	{ "spool-dir", parse_str, format_str, FIELD(spool_dir), 0, 0, false,
	  "a directory path" },
	{ "spool-max-bytes", parse_size, format_size, FIELD(spool_max_bytes), 0, 0, false,
	  "a size such as 64M or 1G" },
	{ "listen", parse_listen, format_str, FIELD(listen), 0, 0, false,
	  "PORT, HOST:PORT or [IPV6]:PORT with a numeric HOST (loopback when omitted)" },
};

static const struct config_key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

void config__init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ns = 60 * 1000000000ULL;
	c->keep = 60;
	c->formats = 1u << FMT_SVG;
	c->freq_hz = 99;
	snprintf(c->event, sizeof(c->event), "cpu-clock");
	c->max_stacks = 16384;
	c->unwind = UNWIND_AUTO;
	c->unwind_max_mb = 64;
	/* Half the one-shot's: a daemon meets every binary the host ever runs. */
	c->symbol_cache_mb = 256;
	/* perf maps: a big node or JVM map is some 100,000 functions of 100 bytes. */
	c->perfmap_max_entries = 1000000;
	c->perfmap_max_mb = 64;
	c->perfmap_total_mb = 256;
	c->perfmap_read_ms = 200;
	c->push_api = PUSH_API_CONNECT;
	c->push_timeout_s = 30;
	c->spool_max_bytes = 64ULL << 20;
}

/* Edit distance of a and b, stopping at 3: enough to tell a typo from another word. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[64], prev, cur, best;

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row) || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + (a[i - 1] != b[j - 1]));
			prev = cur;
			best = MIN(best, row[j]);
		}
		if (best > 2)
			return 3;
	}
	return row[lb];
}

/*
 * The message for a key that is no setting. The key itself is not repeated: the file may be
 * no config file at all (a symlink to a secret), and its words are not ours to print. A key
 * within two edits of a setting's name is a typo, and that name (ours) is suggested.
 */
static void unknown_key_msg(const char *key, char *msg)
{
	const char *best = NULL;
	int d, bestd = 3;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		d = distance(key, keys[i].name);
		if (d < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best)
		snprintf(msg, CONFIG_MSG_LEN, "unknown key (did you mean '%s'?)", best);
	else
		snprintf(msg, CONFIG_MSG_LEN, "unknown key (not a flamed setting; the line is not "
			 "shown)");
}

int config__set(struct config *c, const char *key, const char *value, char *msg)
{
	const struct config_key *k = find_key(key);

	if (!k) {
		unknown_key_msg(key, msg);
		return -ENOENT;
	}
	/* Without the value: from a file it is a line that is no valid setting (see above). */
	if (k->parse(k, value, (char *)c + k->off)) {
		snprintf(msg, CONFIG_MSG_LEN, "invalid value for %s: expected %s", key, k->expect);
		return -EINVAL;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * One line: blank, "# comment", or "key = value" where value may be double-quoted to keep
 * leading or trailing spaces or a '#'. An unquoted value ends at " #" (a trailing comment).
 */
static int parse_line(struct config *c, char *line, char *msg)
{
	char *eq, *key, *val, *hash;
	size_t n;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	/* The line's text is never echoed: a file that is no config file may hold secrets. */
	if (!eq) {
		snprintf(msg, CONFIG_MSG_LEN, "not a 'key = value' setting (the line is not shown)");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key) {
		snprintf(msg, CONFIG_MSG_LEN, "missing key before '='");
		return -EINVAL;
	}
	/* Before the key is named in any message below. */
	if (!find_key(key)) {
		unknown_key_msg(key, msg);
		return -ENOENT;
	}
	if (*val == '"') {
		n = strlen(val);
		if (n < 2 || val[n - 1] != '"' || memchr(val + 1, '"', n - 2)) {
			snprintf(msg, CONFIG_MSG_LEN, "unterminated quoted value for %s", key);
			return -EINVAL;
		}
		val[n - 1] = '\0';
		val++;
	} else {
		for (hash = val; (hash = strchr(hash, '#')); hash++) {
			if (hash > val && (hash[-1] == ' ' || hash[-1] == '\t')) {
				*hash = '\0';
				val = trim(val);
				break;
			}
		}
	}
	return config__set(c, key, val, msg);
}

int config__parse(struct config *c, const char *buf, size_t len, const char *name, char *msg)
{
	char line[CONFIG_MAX_LINE], why[CONFIG_MSG_LEN];
	size_t pos = 0;
	int lineno = 0, err;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(msg, CONFIG_MSG_LEN, "%s:%d: line longer than %d bytes", name,
				 lineno, CONFIG_MAX_LINE - 1);
			return -EINVAL;
		}
		if (memchr(buf + pos, '\0', n)) {
			snprintf(msg, CONFIG_MSG_LEN, "%s:%d: NUL byte: not a text file", name,
				 lineno);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		err = parse_line(c, line, why);
		if (err) {
			snprintf(msg, CONFIG_MSG_LEN, "%.200s:%d: %.280s", name, lineno, why);
			return err;
		}
		pos += n + 1;
	}
	return 0;
}

/* Who besides root and the invoking user may write an inode of this mode and owner, or NULL. */
static const char *foreign_writer(const struct stat *st, bool dir)
{
	if (st->st_uid != 0 && st->st_uid != getuid())
		return "its owner (neither root nor you)";
	/* A sticky directory: others may add entries, never rename or remove ours. */
	if (dir && (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH)
		return "every user";
	if (st->st_mode & S_IWGRP)
		return "its group";
	return NULL;
}

/*
 * As sshd does with its own files: a config file that a user other than root or the invoking
 * one could write, or whose directory (any directory up to /) they could change, is refused:
 * it names the files flamed writes as root and the servers it sends profiles to. The checks
 * are on the file opened (fd) and on the directories of the path it was opened by, symlinks
 * resolved.
 */
static int check_trusted(int fd, const char *path, char *msg)
{
	char proc[64], real[PATH_MAX], *slash;
	const char *who;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		goto fail;
	who = foreign_writer(&st, false);
	if (who) {
		snprintf(msg, CONFIG_MSG_LEN, "refusing config file %.300s: %s (uid %u, gid %u, mode "
			 "%04o) could change it; it must be owned by root or you and writable by "
			 "no one else (chown root, chmod go-w)", path, who, (unsigned int)st.st_uid,
			 (unsigned int)st.st_gid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n <= 0 || real[0] != '/') {
		if (!realpath(path, real))
			goto fail;
	} else {
		real[n] = '\0';
	}
	while ((slash = strrchr(real, '/'))) {
		slash[slash == real] = '\0';
		if (stat(real, &st))
			goto fail;
		who = foreign_writer(&st, true);
		if (who) {
			snprintf(msg, CONFIG_MSG_LEN, "refusing config file %.150s: its directory "
				 "%.150s can be changed by %s (uid %u, gid %u, mode %04o); directories "
				 "up to / must be owned by root or you and not writable by others "
				 "unless sticky", path, real, who, (unsigned int)st.st_uid,
				 (unsigned int)st.st_gid, (unsigned int)(st.st_mode & 07777));
			return -EPERM;
		}
		if (slash == real)
			break;
	}
	return 0;
fail:
	snprintf(msg, CONFIG_MSG_LEN, "cannot check who may write %.300s: %s", path,
		 strerror(errno));
	return -errno;
}

int config__load(struct config *c, const char *path, char *msg)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_FILE) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path,
			 err == -EISDIR ? "is a directory" : "not a regular file of at most 1 MiB");
		goto cleanup;
	}
	err = check_trusted(fd, path, msg);
	if (err)
		goto cleanup;
	buf = malloc(st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path, strerror(ENOMEM));
		goto cleanup;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, st.st_size - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			snprintf(msg, CONFIG_MSG_LEN, "cannot read %s: %s", path, strerror(errno));
			goto cleanup;
		}
		got += n;
	}
	err = config__parse(c, buf, got, path, msg);
cleanup:
	free(buf);
	close(fd);
	return err;
}

bool config__is_key(const char *key)
{
	return find_key(key) != NULL;
}

bool config__key_runtime(const char *key)
{
	const struct config_key *k = find_key(key);

	return k && k->runtime;
}

const char *config__key_name(size_t i)
{
	return i < ARRAY_SIZE(keys) ? keys[i].name : NULL;
}

void config__format(const struct config *c, const char *key, char *buf, size_t len)
{
	const struct config_key *k = find_key(key);

	if (!k) {
		snprintf(buf, len, "?");
		return;
	}
	k->format(k, (const char *)c + k->off, buf, len);
}

int config__diff(const struct config *a, const struct config *b, config_diff_fn fn, void *ctx)
{
	char va[PATH_MAX + 16], vb[PATH_MAX + 16];
	size_t i;
	int n = 0;

	/* Compared as text: strings may carry old bytes after their NUL. */
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		keys[i].format(&keys[i], (const char *)a + keys[i].off, va, sizeof(va));
		keys[i].format(&keys[i], (const char *)b + keys[i].off, vb, sizeof(vb));
		if (strcmp(va, vb)) {
			n++;
			if (fn)
				fn(ctx, keys[i].name, keys[i].runtime);
		}
	}
	return n;
}

void config__copy_key(struct config *dst, const struct config *src, const char *key)
{
	const struct config_key *k = find_key(key);

	if (k)
		memcpy((char *)dst + k->off, (const char *)src + k->off, k->size);
}

int config_args__add(struct config_args *a, const char *key, const char *value)
{
	if (a->n == CONFIG_MAX_ARGS)
		return -E2BIG;
	a->key[a->n] = key;
	a->value[a->n] = value;
	a->n++;
	return 0;
}

int config_args__apply(const struct config_args *a, struct config *c, char *msg)
{
	char why[CONFIG_MSG_LEN];
	int i, err;

	for (i = 0; i < a->n; i++) {
		const struct config_key *k = find_key(a->key[i]);

		err = config__set(c, a->key[i], a->value[i], why);
		if (err) {
			/* The file's words, said as an option. */
			snprintf(msg, CONFIG_MSG_LEN, "invalid --%s '%s': expected %s", a->key[i],
				 a->value[i], k ? k->expect : "a known option");
			return err;
		}
	}
	return 0;
}
