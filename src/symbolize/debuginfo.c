// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <elfutils/debuginfod.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base/lazylib.h"
#include "symbolize/debuginfo.h"
#include "base/elfimage.h"
#include "symbolize/elfsyms.h"
#include "base/log.h"
#include "base/rootfs.h"
#include "base/util.h"

#define DFD_SYMS(X)                                                                                \
	X(debuginfod_begin)                                                                        \
	X(debuginfod_end)                                                                          \
	X(debuginfod_find_debuginfo)                                                               \
	X(debuginfod_get_user_data)                                                                \
	X(debuginfod_set_progressfn)                                                               \
	X(debuginfod_set_user_data)
LAZYLIB(dfd, "libdebuginfod.so.1", DFD_SYMS);

#define DEFAULT_DEBUG_DIR "/usr/lib/debug"
/* The xz decoder's own memory (its dictionary): xz -9 needs 65 MiB, a crafted header asks 4 GiB. */
#define UNXZ_MEMLIMIT (128ULL << 20)

const char *const debuginfo_source_names[DEBUGINFO_SOURCE_MAX] = {
	[DEBUGINFO_NONE] = "none",
	[DEBUGINFO_BUILD_ID] = "build-id",
	[DEBUGINFO_DEBUGLINK] = "debuglink",
	[DEBUGINFO_DEBUGINFOD] = "debuginfod",
};

struct debuginfo {
	const char **dirs;	/* extra dirs, then DEFAULT_DEBUG_DIR; NULL-terminated */
	bool debuginfod;
	uint64_t timeout_ns, budget_ns;
	debuginfod_client *client;
	bool client_failed;
	uint64_t deadline_ns;	/* of the current fetch */
	uint64_t spent_ns;	/* on the fetches of this window */
	struct debuginfo_stats st;
};

struct debuginfo *debuginfo__new(const struct debuginfo_opts *o)
{
	struct debuginfo *d = calloc(1, sizeof(*d));
	size_t n = 0, i;

	if (!d)
		return NULL;
	while (o && o->dirs && o->dirs[n])
		n++;
	d->dirs = calloc(n + 2, sizeof(*d->dirs));
	if (!d->dirs) {
		free(d);
		return NULL;
	}
	for (i = 0; i < n; i++)
		d->dirs[i] = o->dirs[i];
	d->dirs[n] = DEFAULT_DEBUG_DIR;
	d->debuginfod = o && o->debuginfod;
	d->timeout_ns = (uint64_t)(o && o->timeout_s ? o->timeout_s : 10) * 1000000000ULL;
	d->budget_ns = (uint64_t)(o && o->budget_s ? o->budget_s : 60) * 1000000000ULL;
	return d;
}

void debuginfo__free(struct debuginfo *d)
{
	if (!d)
		return;
	if (d->client)
		dfd_fn.debuginfod_end(d->client);
	free(d->dirs);
	free(d);
}

void debuginfo__stats(const struct debuginfo *d, struct debuginfo_stats *st)
{
	*st = d->st;
}

void debuginfo__new_window(struct debuginfo *d)
{
	d->spent_ns = 0;
}

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name && !strcmp(name, want))
			return sh->sh_type == SHT_NOBITS ? NULL : scn;
	}
	return NULL;
}

int debuginfo__debuglink(Elf *elf, const char **name, uint32_t *crc)
{
	Elf_Data *data;
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t len, off;

	scn = find_section(elf, ".gnu_debuglink", &sh);
	data = scn ? elf_getdata(scn, NULL) : NULL;
	if (!data || !data->d_buf || !data->d_size)
		return -ENOENT;
	/* The name, NUL, padding to 4 bytes, then the CRC in the file's byte order. */
	len = strnlen(data->d_buf, data->d_size);
	off = (len + 4) & ~(size_t)3;
	if (!len || len == data->d_size || off + 4 > data->d_size)
		return -ENOENT;
	if (!gelf_xlatetom(elf, &(Elf_Data){ .d_buf = crc, .d_type = ELF_T_WORD, .d_size = 4,
					     .d_version = EV_CURRENT },
			   &(Elf_Data){ .d_buf = (char *)data->d_buf + off, .d_type = ELF_T_WORD,
					.d_size = 4, .d_version = EV_CURRENT },
			   elf_getident(elf, NULL)[EI_DATA]))
		return -ENOENT;
	*name = data->d_buf;
	return 0;
}

int debuginfo__crc32_fd(int fd, uint32_t *ret)
{
	struct stat sb;
	uLong crc = crc32(0, NULL, 0);
	off_t off = 0;
	Bytef *buf;

	if (fstat(fd, &sb))
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	if (!sb.st_size) {
		*ret = crc;
		return 0;
	}
	/*
	 * Read, not mapped: the candidate may belong to a user who truncates it meanwhile (a
	 * mapping would turn that into SIGBUS).
	 */
	buf = malloc(1 << 20);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(fd, buf, 1 << 20, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (!n)
			break;
		crc = crc32(crc, buf, n);
		off += n;
	}
	free(buf);
	*ret = crc;
	return 0;
}

void *debuginfo__unxz(const void *buf, size_t len, size_t max, size_t *out_len, int *err)
{
	lzma_stream z = LZMA_STREAM_INIT;
	size_t cap = MAX(len * 4, (size_t)65536);
	unsigned char *out = NULL, *n;
	lzma_ret r;

	*err = -ENOMEM;
	if (lzma_stream_decoder(&z, UNXZ_MEMLIMIT, 0) != LZMA_OK)
		return NULL;
	z.next_in = buf;
	z.avail_in = len;
	for (;;) {
		if (!out || !z.avail_out) {
			size_t used = out ? cap : 0;

			if (out)
				cap *= 2;
			if (cap > max)
				cap = max;
			if (used >= cap) {
				*err = -EFBIG;
				goto fail;
			}
			n = realloc(out, cap);
			if (!n)
				goto fail;
			out = n;
			z.next_out = out + used;
			z.avail_out = cap - used;
		}
		r = lzma_code(&z, LZMA_FINISH);
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK) {
			*err = r == LZMA_MEM_ERROR		? -ENOMEM
			       : r == LZMA_MEMLIMIT_ERROR ? -EFBIG
							  : -EINVAL;
			goto fail;
		}
	}
	*out_len = z.total_out;
	lzma_end(&z);
	*err = 0;
	return out;
fail:
	lzma_end(&z);
	free(out);
	return NULL;
}

void *debuginfo__minidebug(struct debuginfo *d, Elf *elf, size_t *len, int *err)
{
	Elf_Data *data;
	Elf_Scn *scn;
	GElf_Shdr sh;
	void *img;

	scn = find_section(elf, ".gnu_debugdata", &sh);
	data = scn ? elf_getdata(scn, NULL) : NULL;
	if (!data || !data->d_buf || !data->d_size) {
		*err = -ENOENT;
		return NULL;
	}
	img = debuginfo__unxz(data->d_buf, data->d_size, DEBUGINFO_MINIDEBUG_MAX, len, err);
	if (img && d)
		d->st.minidebuginfo++;
	if (*err == -EFBIG && d)
		d->st.refused++;
	return img;
}

static int nolinks_in_ours(const char *path)
{
	int root = rootfs__open_root(0), fd;

	if (root < 0)
		return root;
	fd = rootfs__openat_nolinks(root, path);
	close(root);
	return fd;
}

/*
 * Opens a candidate debug file in root rootfd (-1: ours) and checks it belongs to the binary:
 * same build id when both have one, and the debuglink CRC when asked.
 */
static int try_file(struct debuginfo *d, int rootfd, const char *path, const char *bid,
		    bool check_crc, uint32_t crc, bool symlinks)
{
	struct elfimage *im;
	char cand[41];
	struct stat sb;
	uint32_t got;
	int fd, err = 0;

	/* Regular files only, in our root too: a debuglink can name a user's symlink to a device. */
	if (symlinks)
		fd = rootfd >= 0 ? rootfs__openat(rootfd, path) : rootfs__open(0, path);
	else
		fd = rootfd >= 0 ? rootfs__openat_nolinks(rootfd, path) : nolinks_in_ours(path);
	if (fd == -ELOOP) {
		d->st.refused++;
		pr_info("%s: a symbolic link beside the binary, seen from outside its process's "
			"root: ignored", path);
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	/*
	 * Checking the CRC reads the whole file: one its owner can change (make huge, sparse) is
	 * read only up to the cap of a file read into memory, which it could not pass anyway.
	 */
	if (check_crc && !rootfs__may_mmap(fd) && (uint64_t)sb.st_size > ELFIMAGE_FILE_MAX) {
		d->st.refused++;
		pr_info("%s: %.0f MiB, over the %llu MiB cap of a debug file its owner can change: "
			"ignored", path, sb.st_size / 1048576.0, ELFIMAGE_FILE_MAX >> 20);
		err = -EFBIG;
		goto cleanup;
	}
	im = elfimage__open(fd, ELFIMAGE_NOTES, &err);
	if (!im) {
		if (err == -EFBIG)
			d->st.refused++;
		goto cleanup;
	}
	elfsyms__read_build_id(elfimage__elf(im), cand);
	elfimage__free(im);
	if (*bid && *cand && strcmp(bid, cand)) {
		d->st.build_id_mismatch++;
		pr_debug("%s: build id %s, not %s: ignored", path, cand, bid);
		err = -ESTALE;
		goto cleanup;
	}
	if (check_crc) {
		err = debuginfo__crc32_fd(fd, &got);
		if (!err && got != crc) {
			d->st.crc_mismatch++;
			pr_debug("%s: CRC %08x, debuglink wants %08x: ignored", path, got, crc);
			err = -ESTALE;
		}
	}
cleanup:
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* snprintf that refuses to truncate: a cut path names another file. */
static __attribute__((format(printf, 3, 4))) bool fmt_path(char *buf, size_t size,
							   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

static int by_build_id(struct debuginfo *d, int rootfd, const char *bid)
{
	char path[PATH_MAX];
	size_t i;
	int fd;

	if (strlen(bid) < 4)
		return -ENOENT;
	for (i = 0; d->dirs[i]; i++) {
		if (!fmt_path(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", d->dirs[i], bid,
			      bid + 2))
			continue;
		fd = try_file(d, rootfd, path, bid, false, 0, true);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

static int by_debuglink(struct debuginfo *d, int rootfd, const char *bid, const char *bin,
			const char *name, uint32_t crc)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *slash;
	size_t i, dlen;
	int fd;

	/* A debuglink names a file, never a path. */
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -ENOENT;
	slash = strrchr(bin, '/');
	if (!slash || bin[0] != '/')
		return -ENOENT;
	dlen = slash - bin;
	if (dlen >= sizeof(dir))
		return -ENOENT;
	memcpy(dir, bin, dlen);
	dir[dlen] = '\0';
	/*
	 * Beside the binary, in our root, the directories are the binary's: a user's, or a
	 * container's tree seen from outside, where an absolute link would resolve against our
	 * root, not the container's. Followed only inside the process's own root.
	 */
	if (fmt_path(path, sizeof(path), "%s/%s", dir, name) &&
	    (fd = try_file(d, rootfd, path, bid, true, crc, rootfd >= 0)) >= 0)
		return fd;
	if (fmt_path(path, sizeof(path), "%s/.debug/%s", dir, name) &&
	    (fd = try_file(d, rootfd, path, bid, true, crc, rootfd >= 0)) >= 0)
		return fd;
	for (i = 0; d->dirs[i]; i++) {
		if (fmt_path(path, sizeof(path), "%s%s/%s", d->dirs[i], dir, name) &&
		    (fd = try_file(d, rootfd, path, bid, true, crc, true)) >= 0)
			return fd;
	}
	return -ENOENT;
}

static int progress(debuginfod_client *c, long a, long b)
{
	struct debuginfo *d = dfd_fn.debuginfod_get_user_data(c);

	/* Non-zero cancels the transfer. */
	return now_mono_ns() > d->deadline_ns;
}

static int by_debuginfod(struct debuginfo *d, const char *bid)
{
	uint64_t start, left;
	int fd;

	if (!d->debuginfod || d->client_failed || !*bid)
		return -ENOENT;
	if (d->spent_ns >= d->budget_ns) {
		d->st.debuginfod_failed++;
		return -ETIME;
	}
	if (!d->client) {
		/* libdebuginfod (and the libcurl it brings) only for a run that fetches. */
		if (lazylib__load(&dfd)) {
			d->client_failed = true;
			pr_warn("cannot fetch from debuginfod: %s, ignoring", lazylib__why(&dfd));
			return -ENOENT;
		}
		d->client = dfd_fn.debuginfod_begin();
		if (!d->client) {
			d->client_failed = true;
			pr_warn("cannot start a debuginfod client, ignoring");
			return -ENOENT;
		}
		dfd_fn.debuginfod_set_user_data(d->client, d);
		dfd_fn.debuginfod_set_progressfn(d->client, progress);
	}
	start = now_mono_ns();
	left = d->budget_ns - d->spent_ns;
	d->deadline_ns = start + MIN(d->timeout_ns, left);
	fd = dfd_fn.debuginfod_find_debuginfo(d->client, (const unsigned char *)bid, 0, NULL);
	d->spent_ns += now_mono_ns() - start;
	if (fd < 0) {
		d->st.debuginfod_failed++;
		pr_debug("debuginfod: no debug info for build id %s: %s", bid, strerror(-fd));
		return fd;
	}
	return fd;
}

int debuginfo__find(struct debuginfo *d, Elf *elf, const char *bid, const char *path,
		    uint32_t pid, enum debuginfo_source *src)
{
	const char *link = NULL;
	char bin[PATH_MAX];
	int roots[2] = { -1, -1 }, nroots = 0, fd = -ENOENT, i;
	bool has_link;
	uint32_t crc = 0;
	size_t len;

	/* Paths of deleted files carry a " (deleted)" suffix in the kernel's records. */
	snprintf(bin, sizeof(bin), "%s", path ? path : "");
	len = strlen(bin);
	if (len > 10 && !strcmp(bin + len - 10, " (deleted)"))
		bin[len - 10] = '\0';
	has_link = !debuginfo__debuglink(elf, &link, &crc);
	/* The process's own root first: a container's files are the ones it was built with. */
	if (pid && !rootfs__same_root(pid)) {
		roots[0] = rootfs__open_root(pid);
		if (roots[0] >= 0)
			nroots++;
	}
	roots[nroots++] = -1;
	for (i = 0; i < nroots && fd < 0; i++) {
		fd = by_build_id(d, roots[i], bid);
		if (fd >= 0) {
			*src = DEBUGINFO_BUILD_ID;
			break;
		}
		if (has_link)
			fd = by_debuglink(d, roots[i], bid, bin, link, crc);
		if (fd >= 0)
			*src = DEBUGINFO_DEBUGLINK;
	}
	if (roots[0] >= 0)
		close(roots[0]);
	if (fd < 0 && (fd = by_debuginfod(d, bid)) >= 0)
		*src = DEBUGINFO_DEBUGINFOD;
	if (fd < 0) {
		d->st.found[DEBUGINFO_NONE]++;
		return -ENOENT;
	}
	d->st.found[*src]++;
	return fd;
}
