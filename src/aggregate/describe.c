// SPDX-License-Identifier: GPL-2.0-only
/*
 * The words of a profile's facts, in one place. Every output that describes a profile reads
 * them from here, so a fact added to the meta shows up in the SVG subtitle of one-shot and
 * continuous profiles, the pprof comments and the summary on stderr alike.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aggregate/describe.h"

#define NSEC 1000000000ULL

void describe__count(char *buf, size_t size, uint64_t v)
{
	char t[32];
	int i = sizeof(t) - 1, digits = 0;

	t[i] = '\0';
	do {
		if (digits && digits % 3 == 0)
			t[--i] = ',';
		t[--i] = '0' + v % 10;
		v /= 10;
		digits++;
	} while (v);
	snprintf(buf, size, "%s", t + i);
}

/* "2025-01-02 03:04:05.678" (UTC) */
static void utc_ms(uint64_t real_ns, char *buf, size_t size)
{
	time_t t = real_ns / NSEC;
	struct tm tm;
	char s[24];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, size, "%.19s.%03u", s, (unsigned int)(real_ns % NSEC / 1000000));
}

/* A window names its start and end (the end's date only when it crosses midnight). */
static void span(const struct profile_meta *m, unsigned int flags, char *buf, size_t size)
{
	char a[32], b[32];

	if (!(flags & DESCRIBE_WINDOW) || !m->start_ns) {
		if (m->duration_ns)
			snprintf(buf, size, "%.1f s", (double)m->duration_ns / 1e9);
		return;
	}
	utc_ms(m->start_ns, a, sizeof(a));
	utc_ms(m->start_ns + m->duration_ns, b, sizeof(b));
	snprintf(buf, size, "%s to %s UTC (%.1f s)", a, strncmp(a, b, 10) ? b : b + 11,
		 (double)m->duration_ns / 1e9);
}

static void lost(const struct profile_meta *m, char *buf, size_t size)
{
	size_t len = 0;
	int i, n;

	/* Plain numbers: scripts read them back from the summary on stderr. */
	for (i = 0; i < LOST_MAX && len < size; i++) {
		if (!m->lost[i])
			continue;
		n = snprintf(buf + len, size - len, "%s%s %llu", len ? ", " : "lost: ",
			     profile_lost_names[i], (unsigned long long)m->lost[i]);
		if (n < 0)
			break;
		len += n;
	}
}

static void unwind(const struct profile_meta *m, char *buf, size_t size)
{
	if (!m->unwind[0])
		return;
	if (strcmp(m->unwind, "dwarf")) {
		snprintf(buf, size, "unwind: %.8s", m->unwind);
		return;
	}
	snprintf(buf, size,
		 "unwind: dwarf, %llu stacks by tables (%llu partly by frame pointers, %llu "
		 "truncated), %u tables in %.1f MiB%s",
		 (unsigned long long)m->dwarf_stacks, (unsigned long long)m->dwarf_fp_stacks,
		 (unsigned long long)m->dwarf_truncated, m->unwind_tables,
		 m->unwind_table_bytes / 1048576.0,
		 m->unwind_tables_over_cap ? ", some binaries over the memory cap" : "");
}

/* Frames the symbolizer looked up for this profile: how many stayed unnamed, and why. */
static void symbols(const struct profile_meta *m, char *buf, size_t size)
{
	int n;

	if (!m->sym_frames)
		return;
	n = snprintf(buf, size, "symbols: %llu frames, %llu unnamed, %llu unknown",
		     (unsigned long long)m->sym_frames, (unsigned long long)m->sym_unnamed,
		     (unsigned long long)m->sym_unknown);
	if (m->sym_jit && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - n, ", %llu JIT", (unsigned long long)m->sym_jit);
}

void profile_meta__describe(const struct profile_meta *m, unsigned int flags,
			    const char *count_name, struct profile_desc *d)
{
	char num[32];

	memset(d, 0, sizeof(*d));
	span(m, flags, d->fact[FACT_SPAN], PROFILE_FACT_LEN);
	if (m->freq_hz)
		snprintf(d->fact[FACT_RATE], PROFILE_FACT_LEN, "%u Hz", m->freq_hz);
	if (m->nr_cpus)
		snprintf(d->fact[FACT_CPUS], PROFILE_FACT_LEN, "%u CPU%s", m->nr_cpus,
			 m->nr_cpus == 1 ? "" : "s");
	if (m->profile_mode != PROFILE_CPU) {
		/* Counts are microseconds: the total in seconds, and what it measures. */
		snprintf(d->fact[FACT_COUNT], PROFILE_FACT_LEN, "%.2f s of %s",
			 (double)m->samples / 1e6, profile_mode__what(m->profile_mode));
	} else {
		describe__count(num, sizeof(num), m->samples);
		snprintf(d->fact[FACT_COUNT], PROFILE_FACT_LEN, "%s %s", num,
			 count_name ? count_name : "samples");
	}
	lost(m, d->fact[FACT_LOST], PROFILE_FACT_LEN);
	if (m->host[0])
		snprintf(d->fact[FACT_HOST], PROFILE_FACT_LEN, "host %.*s", (int)sizeof(m->host),
			 m->host);
	if (m->mode[0])
		snprintf(d->fact[FACT_TARGET], PROFILE_FACT_LEN, "%.*s", (int)sizeof(m->mode),
			 m->mode);
	unwind(m, d->fact[FACT_UNWIND], PROFILE_FACT_LEN);
	symbols(m, d->fact[FACT_SYMBOLS], PROFILE_FACT_LEN);
}

void profile_desc__join(const struct profile_desc *d, unsigned int mask, char *buf, size_t size)
{
	size_t len = 0;
	int i, n;

	if (!size)
		return;
	buf[0] = '\0';
	for (i = 0; i < FACT_MAX && len < size; i++) {
		if (!(mask & FACT_BIT(i)) || !d->fact[i][0])
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", d->fact[i]);
		if (n < 0)
			break;
		len += n;
	}
}
