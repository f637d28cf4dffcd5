// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading back the windows of an --output-dir (history.h). The directory is listed once; each
 * window merged is opened relative to it, must be a regular file, and is read whole (a window
 * is one interval's profile: small beside the merged result).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/profile.h"
#include "base/log.h"
#include "base/util.h"
#include "render/folded.h"
#include "render/history.h"
#include "render/pprof.h"

#define MAX_WINDOW_FILE (1UL << 30) /* a window file bigger than this is refused */
#define MS_PER_S 1000ULL
#define MAX_MS (253402300800ULL * MS_PER_S) /* 10000-01-01T00:00:00Z */

/* n decimal digits at s into *ret. */
static bool take_digits(const char *s, size_t n, unsigned int *ret)
{
	unsigned int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* A UTC calendar time to ms; -EINVAL when a field is out of its range (Feb 30, 25:00). */
static int utc_ms(unsigned int y, unsigned int mo, unsigned int d, unsigned int h, unsigned int mi,
		  unsigned int s, unsigned int ms, uint64_t *ret)
{
	struct tm tm = {0}, back;
	time_t t;

	if (y < 1970 || y > 9999)
		return -ERANGE;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || ms > 999)
		return -EINVAL;
	t = timegm(&tm);
	/* timegm() normalises Feb 30 into March: an impossible date reads back different. */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != (int)d ||
	    back.tm_mon != (int)mo - 1)
		return -EINVAL;
	*ret = (uint64_t)t * MS_PER_S + ms;
	return 0;
}

/* "-2h", "-30m", "-90s", "-1d" before now_ms. */
static int parse_relative(const char *s, size_t len, uint64_t now_ms, uint64_t *ret)
{
	static const struct {
		char unit;
		uint64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
	uint64_t v = 0;
	size_t i;

	if (len < 3 || s[0] != '-')
		return -EINVAL;
	for (i = 1; i < len - 1; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 1000000000)
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (s[len - 1] != units[i].unit)
			continue;
		v *= units[i].ms;
		if (v > now_ms)
			return -ERANGE;
		*ret = now_ms - v;
		return 0;
	}
	return -EINVAL;
}

int history__parse_time(const char *s, size_t len, uint64_t now_ms, uint64_t *ret_ms)
{
	unsigned int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	size_t i;

	if (len == 3 && !memcmp(s, "now", 3)) {
		*ret_ms = now_ms;
		return 0;
	}
	if (len && s[0] == '-')
		return parse_relative(s, len, now_ms, ret_ms);
	/* YYYY-MM-DD */
	if (len < 10 || !take_digits(s, 4, &y) || s[4] != '-' || !take_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !take_digits(s + 8, 2, &d))
		return -EINVAL;
	i = 10;
	/* THH:MM */
	if (i < len && s[i] == 'T') {
		if (len < i + 6 || !take_digits(s + i + 1, 2, &h) || s[i + 3] != ':' ||
		    !take_digits(s + i + 4, 2, &mi))
			return -EINVAL;
		i += 6;
		/* :SS */
		if (i < len && s[i] == ':') {
			if (len < i + 3 || !take_digits(s + i + 1, 2, &sec))
				return -EINVAL;
			i += 3;
			/* .mmm: 1 to 3 digits */
			if (i < len && s[i] == '.') {
				size_t k = 0;
				unsigned int scale = 100;

				for (i++; i < len && k < 3 && s[i] >= '0' && s[i] <= '9';
				     i++, k++) {
					ms += (s[i] - '0') * scale;
					scale /= 10;
				}
				if (!k)
					return -EINVAL;
			}
		}
	}
	if (i < len && s[i] == 'Z')
		i++;
	if (i != len)
		return -EINVAL;
	return utc_ms(y, mo, d, h, mi, sec, ms, ret_ms);
}

int history__parse_window_name(const char *name, size_t len, uint64_t *ret_ms,
			       unsigned int *ret_format)
{
	static const char prefix[] = "flamed-";
	static const struct {
		const char *ext;
		unsigned int format;
	} exts[] = {{"svg", HISTORY_SVG}, {"folded", HISTORY_FOLDED}, {"pb.gz", HISTORY_PPROF}};
	/* flamed-YYYYMMDDTHHMMSS.mmmZ. */
	const size_t stem = sizeof(prefix) - 1 + 20, ext_at = stem + 1;
	unsigned int y, mo, d, h, mi, s, ms;

	if (len <= ext_at || memcmp(name, prefix, sizeof(prefix) - 1))
		return -EINVAL;
	name += sizeof(prefix) - 1;
	if (!take_digits(name, 4, &y) || !take_digits(name + 4, 2, &mo) ||
	    !take_digits(name + 6, 2, &d) || name[8] != 'T' || !take_digits(name + 9, 2, &h) ||
	    !take_digits(name + 11, 2, &mi) || !take_digits(name + 13, 2, &s) || name[15] != '.' ||
	    !take_digits(name + 16, 3, &ms) || name[19] != 'Z' || name[20] != '.')
		return -EINVAL;
	name += 21;
	len -= ext_at;
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		if (len != strlen(exts[i].ext) || memcmp(name, exts[i].ext, len))
			continue;
		if (utc_ms(y, mo, d, h, mi, s, ms, ret_ms))
			return -EINVAL;
		*ret_format = exts[i].format;
		return 0;
	}
	return -EINVAL;
}

void history__format_time(uint64_t ms, char buf[HISTORY_TIME_LEN])
{
	time_t t = MIN(ms, MAX_MS - 1) / MS_PER_S;
	struct tm tm;
	char s[20];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms % MS_PER_S)
		snprintf(buf, HISTORY_TIME_LEN, "%.19s.%03uZ", s, (unsigned int)(ms % MS_PER_S));
	else
		snprintf(buf, HISTORY_TIME_LEN, "%.19sZ", s);
}

static int window_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct history_window *)a)->start_ms;
	uint64_t y = ((const struct history_window *)b)->start_ms;

	return x < y ? -1 : x > y;
}

int history__scan(const char *dir, struct history_window **ret, size_t *ret_n)
{
	struct history_window *w = NULL;
	size_t n = 0, cap = 0, k = 0;
	struct dirent *de;
	DIR *dp = opendir(dir);
	int err = 0;

	if (!dp) {
		err = -errno;
		pr_err("cannot read the directory %s: %s", dir, strerror(-err));
		return err;
	}
	while ((errno = 0, de = readdir(dp))) {
		uint64_t ms;
		unsigned int fmt;

		if (history__parse_window_name(de->d_name, strlen(de->d_name), &ms, &fmt))
			continue;
		if (grow_array((void **)&w, &cap, n + 1, sizeof(*w))) {
			err = -ENOMEM;
			goto cleanup;
		}
		w[n].start_ms = ms;
		w[n++].formats = fmt;
	}
	if (errno) {
		err = -errno;
		pr_err("cannot read the directory %s: %s", dir, strerror(-err));
		goto cleanup;
	}
	/* One entry per stem, its formats together. */
	if (n)
		qsort(w, n, sizeof(*w), window_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && w[k - 1].start_ms == w[i].start_ms)
			w[k - 1].formats |= w[i].formats;
		else
			w[k++] = w[i];
	}
	*ret = w;
	*ret_n = k;
	w = NULL;
cleanup:
	closedir(dp);
	free(w);
	return err;
}

size_t history__lower_bound(const struct history_window *w, size_t n, uint64_t ms)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].start_ms < ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The whole of a regular file dirfd/name into *buf (malloc'd) and *len. */
static int read_file(int dirfd, const char *name, char **buf, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t have = 0;
	struct stat st;
	char *b = NULL;
	int err = 0;

	if (fd < 0)
		return -errno;
	/* Not a FIFO or a device that would block or never end: a window is a file. */
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	if ((uint64_t)st.st_size > MAX_WINDOW_FILE) {
		err = -EFBIG;
		goto cleanup;
	}
	b = malloc(st.st_size + 1);
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* The size fstat gave: a file still growing is read as far as it was. */
	while (have < (size_t)st.st_size) {
		ssize_t r = read(fd, b + have, st.st_size - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto cleanup;
		}
		if (!r)
			break;
		have += r;
	}
	*buf = b;
	*len = have;
	b = NULL;
cleanup:
	free(b);
	close(fd);
	return err;
}

/* The mode and rate of a pprof window against those of the first; -EINVAL when they differ. */
static int check_same(const char *dir, const char *name, const struct profile_meta *m,
		      struct history_info *info)
{
	if (!info->known) {
		info->known = true;
		info->profile_mode = m->profile_mode;
		info->freq_hz = m->freq_hz;
		return 0;
	}
	if ((int)m->profile_mode != info->profile_mode) {
		pr_err("%s/%s is a window of mode %s, the windows before it (from %s) of mode %s: "
		       "windows of different modes measure different things and are not summed; "
		       "choose a range of one mode (--from, --to)",
		       dir, name, profile_mode__name(m->profile_mode), info->first,
		       profile_mode__name(info->profile_mode));
		return -EINVAL;
	}
	if (m->freq_hz && info->freq_hz && m->freq_hz != info->freq_hz) {
		pr_err("%s/%s was sampled at %u Hz, the windows before it (from %s) at %u Hz: "
		       "windows of different rates are not summed; choose a range of one rate "
		       "(--from, --to)",
		       dir, name, m->freq_hz, info->first, info->freq_hz);
		return -EINVAL;
	}
	if (!info->freq_hz)
		info->freq_hz = m->freq_hz;
	return 0;
}

/*
 * One window into p: its pprof file when it has one, else its folded file. *ret_end_ns is the
 * end of the window when its file says (pprof), else 0.
 */
static int merge_one(const char *dir, int dirfd, const struct history_window *w, struct profile *p,
		     struct history_info *info, uint64_t *ret_end_ns)
{
	struct profile_meta *pm = profile__meta(p);
	char stem[HISTORY_TIME_LEN], name[64];
	struct profile *pp = NULL;
	time_t t = w->start_ms / MS_PER_S;
	bool pb = w->formats & HISTORY_PPROF;
	size_t len = 0;
	char *buf = NULL;
	struct tm tm;
	int err;

	gmtime_r(&t, &tm);
	strftime(stem, sizeof(stem), "%Y%m%dT%H%M%S", &tm);
	snprintf(name, sizeof(name), "flamed-%.15s.%03uZ.%s", stem,
		 (unsigned int)(w->start_ms % MS_PER_S), pb ? "pb.gz" : "folded");
	*ret_end_ns = 0;
	err = read_file(dirfd, name, &buf, &len);
	if (err) {
		pr_err("cannot read %s/%s: %s", dir, name,
		       err == -EINVAL ? "not a regular file" : strerror(-err));
		return err == -EFBIG ? -EINVAL : err;
	}
	if (!pb) {
		err = folded__parse(p, buf, len, NULL);
		info->folded++;
		goto done;
	}
	pp = pprof__read(buf, len, &err);
	if (!pp) {
		pr_err("%s/%s: not a valid pprof profile (%s)", dir, name,
		       err == -EFBIG	   ? "over the size limits"
		       : err == -ENOMEM	   ? "out of memory"
		       : err == -EOVERFLOW ? "its counts overflow"
					   : "malformed");
		err = err == -ENOMEM ? err : -EINVAL;
		goto done;
	}
	info->pprof++;
	err = check_same(dir, name, profile__meta_const(pp), info);
	if (err)
		goto done;
	if (!info->windows) {
		/* Host, CPUs and target of the first window; the sums are made below. */
		const struct profile_meta *m = profile__meta_const(pp);

		memcpy(pm->host, m->host, sizeof(pm->host));
		pm->nr_cpus = m->nr_cpus;
	}
	pm->profile_mode = info->profile_mode;
	pm->freq_hz = info->freq_hz;
	for (int i = 0; i < LOST_MAX; i++)
		pm->lost[i] += profile__meta_const(pp)->lost[i];
	if (profile__meta_const(pp)->duration_ns)
		*ret_end_ns = w->start_ms * 1000000 + profile__meta_const(pp)->duration_ns;
	err = profile__merge(p, pp);
done:
	if (err == -EOVERFLOW)
		pr_err("%s/%s: the counts of the windows up to this one add up to more than %llu, "
		       "the most a profile can hold; refusing",
		       dir, name, (unsigned long long)PROFILE_MAX_TOTAL);
	if (!err && !info->windows)
		history__format_time(w->start_ms, info->first);
	profile__free(pp);
	free(buf);
	return err;
}

int history__merge(const char *dir, const struct history_window *w, size_t n, struct profile *p,
		   struct history_info *info)
{
	struct profile_meta *pm = profile__meta(p);
	uint64_t end_ns = 0, last_gap = 0;
	int dirfd, err = 0;

	memset(info, 0, sizeof(*info));
	/* A day of windows repeats the same stacks: memory by distinct stacks, not by windows. */
	err = profile__combine_samples(p);
	if (err)
		return err;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		err = -errno;
		pr_err("cannot open the directory %s: %s", dir, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t end;

		if (!(w[i].formats & (HISTORY_PPROF | HISTORY_FOLDED))) {
			info->unreadable++;
			continue;
		}
		err = merge_one(dir, dirfd, &w[i], p, info, &end);
		if (err)
			break;
		/* A folded window does not say its length: it lasts until the next one starts. */
		if (!end && i + 1 < n)
			end = w[i + 1].start_ms * 1000000;
		else if (!end)
			end = w[i].start_ms * 1000000 + last_gap;
		if (!info->windows)
			pm->start_ns = w[i].start_ms * 1000000;
		last_gap = end - w[i].start_ms * 1000000;
		end_ns = MAX(end_ns, end);
		info->windows++;
	}
	close(dirfd);
	if (err)
		return err;
	if (!info->windows) {
		pr_err("%s: the %zu window%s in the range %s SVG only: render reads folded or "
		       "pprof "
		       "windows (formats = folded or pprof in the daemon's configuration)",
		       dir, n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
		return -EINVAL;
	}
	pm->duration_ns = end_ns > pm->start_ns ? end_ns - pm->start_ns : 0;
	return 0;
}

void history__json_window(FILE *f, const struct history_window *w, bool first, long long count)
{
	static const char *const names[] = { "svg", "folded", "pprof" };
	char t[HISTORY_TIME_LEN];
	bool sep = false;

	history__format_time(w->start_ms, t);
	fprintf(f, "%s\n {\"start\": \"%s\", \"start_ms\": %llu, \"formats\": [", first ? "" : ",",
		t, (unsigned long long)w->start_ms);
	for (unsigned int bit = 0; bit < 3; bit++)
		if (w->formats & (1u << bit)) {
			fprintf(f, "%s\"%s\"", sep ? ", " : "", names[bit]);
			sep = true;
		}
	if (count < 0)
		fputs("], \"count\": null}", f);
	else
		fprintf(f, "], \"count\": %lld}", count);
}
