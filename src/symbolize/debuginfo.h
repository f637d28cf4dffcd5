/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a stripped binary's names live: a separate debug file found by build id
 * (<dir>/.build-id/xx/rest.debug) or by .gnu_debuglink (beside the binary, in its .debug/
 * folder, or under <dir>/<binary's directory>, CRC checked), a debuginfod server, or the
 * binary's own MiniDebugInfo (.gnu_debugdata, an xz-compressed ELF image holding a .symtab).
 * Files are looked up in the profiled process's root first (containers), then in ours.
 */
#ifndef FLAMED_DEBUGINFO_H
#define FLAMED_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Elf Elf;

enum debuginfo_source {
	DEBUGINFO_NONE = 0,
	DEBUGINFO_BUILD_ID,	/* <dir>/.build-id/xx/rest.debug */
	DEBUGINFO_DEBUGLINK,	/* .gnu_debuglink name, CRC checked */
	DEBUGINFO_DEBUGINFOD,	/* fetched from a debuginfod server */
	DEBUGINFO_SOURCE_MAX,
};

extern const char *const debuginfo_source_names[DEBUGINFO_SOURCE_MAX];

struct debuginfo_opts {
	const char *const *dirs;	/* NULL-terminated; searched before /usr/lib/debug */
	bool debuginfod;		/* ask the servers in DEBUGINFOD_URLS */
	uint32_t timeout_s;		/* per file fetched from debuginfod; 0 = 10 s */
	uint32_t budget_s;		/* for the fetches of one window; 0 = 60 s */
};

struct debuginfo_stats {
	uint64_t found[DEBUGINFO_SOURCE_MAX];	/* [DEBUGINFO_NONE]: searches that found nothing */
	uint64_t crc_mismatch;		/* debuglink candidates rejected by their CRC */
	uint64_t build_id_mismatch;	/* candidates whose build id was another file's */
	uint64_t debuginfod_failed;	/* debuginfod queries that failed or timed out */
	uint64_t minidebuginfo;		/* .gnu_debugdata images unpacked */
	uint64_t refused;		/* debug files and images left out for their size */
};

/*
 * A MiniDebugInfo image holds symbols only: a few MB (Fedora's largest, libxul's, about 20);
 * one that inflates further is refused (-EFBIG), so a small xz bomb costs at most this much.
 */
#define DEBUGINFO_MINIDEBUG_MAX (64u << 20)

struct debuginfo;

struct debuginfo *debuginfo__new(const struct debuginfo_opts *o);
void debuginfo__free(struct debuginfo *d);

/*
 * Finds the separate debug file of the binary elf (build id build_id_hex, "" if none) mapped
 * as path by process pid (pid 0: no process root to search, e.g. the process has exited).
 * Returns an fd and sets *src, or -ENOENT.
 */
int debuginfo__find(struct debuginfo *d, Elf *elf, const char *build_id_hex, const char *path,
		    uint32_t pid, enum debuginfo_source *src);

/*
 * Unpacks the MiniDebugInfo of elf: a malloc'd ELF image and its length, or NULL (-ENOENT:
 * no .gnu_debugdata; -EINVAL: corrupt; -EFBIG: over the size limit).
 */
void *debuginfo__minidebug(struct debuginfo *d, Elf *elf, size_t *len, int *err);

void debuginfo__stats(const struct debuginfo *d, struct debuginfo_stats *st);
/* A new window (symbolization round): debuginfod may spend its budget again. */
void debuginfo__new_window(struct debuginfo *d);

/* Pure helpers, exposed for tests. */
/* The .gnu_debuglink of elf: *name points into elf's data. 0 or -ENOENT. */
int debuginfo__debuglink(Elf *elf, const char **name, uint32_t *crc);
/* CRC-32 (the one .gnu_debuglink uses) of a whole file. 0 or -errno. */
int debuginfo__crc32_fd(int fd, uint32_t *crc);
/* xz-decompresses buf; malloc'd result or NULL with *err as for debuginfo__minidebug. */
void *debuginfo__unxz(const void *buf, size_t len, size_t max, size_t *out_len, int *err);

#endif
