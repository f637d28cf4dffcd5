/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every module. */
#ifndef FLAMED_UTIL_H
#define FLAMED_UTIL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline uint64_t hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* A fast non-cryptographic 64-bit hash: 8 bytes per step, murmur3's finaliser at the end. */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = (h ^ hash_mix(w)) * 0x9e3779b97f4a7c15ULL;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = (h ^ hash_mix(w ^ 0xa5)) * 0x9e3779b97f4a7c15ULL;
	}
	return hash_mix(h);
}

/*
 * Makes room for need elements of elem bytes in *arr (capacity *cap), doubling; 0 or -ENOMEM
 * (also when the size would overflow). *arr and *cap are untouched on failure.
 */
int grow_array(void **arr, size_t *cap, size_t need, size_t elem);

/* Parses a whole decimal unsigned number; -EINVAL on junk, -ERANGE above max. */
int parse_u64(const char *s, uint64_t max, uint64_t *ret);

/* Whether a kernel release string ("6.1.0-18-amd64", uname -r) is at least major.minor. */
bool kernel_release_at_least(const char *release, unsigned int major, unsigned int minor);

/*
 * The event loop must run promptly when a new process maps its code, so its unwind tables are
 * loaded before it runs far: flamed raises its own scheduling priority (it uses well under 1%
 * of a CPU). A profiled command gets the original priority back before exec.
 */
void priority__raise(void);
void priority__restore(void);

/*
 * The code point of the UTF-8 character at s (n > 0 bytes): its length, or 0 when the bytes
 * there are not a valid, shortest-form character of Unicode (surrogates and U+FFFE/U+FFFF
 * count as invalid).
 */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Monotonic and wall clocks in nanoseconds. */
uint64_t now_mono_ns(void);
uint64_t now_real_ns(void);

/* calloc that never answers NULL for success: n = 0 allocates one element. */
static inline void *calloc_n(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

#endif
