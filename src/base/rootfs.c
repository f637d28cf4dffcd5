// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/rootfs.h"

int rootfs__open_root(uint32_t pid)
{
	char path[32];
	int fd;

	if (!pid)
		fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	else {
		snprintf(path, sizeof(path), "/proc/%u/root", pid);
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * Reopens an O_PATH fd for reading once it is known to be a regular file. The O_PATH fd pins
 * the inode: the reopen cannot be raced onto another file.
 */
static int reopen_regular(int pathfd)
{
	char proc[32];
	struct stat sb;
	int fd;

	if (fstat(pathfd, &sb))
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static int openat_how(int rootfd, const char *path, bool symlinks, int flags)
{
	struct open_how how = {
		/* Not yet for reading: opening a device or FIFO can block or act. */
		.flags = O_PATH | O_CLOEXEC | flags,
		/* Magic links (/proc/self/fd/N inside the container) could lead anywhere. */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   (symlinks ? 0 : RESOLVE_NO_SYMLINKS),
	};
	long fd = -1;
	int tries, err;

	/* RESOLVE_IN_ROOT treats a leading '/' as the root itself; skip it for clarity. */
	while (*path == '/')
		path++;
	if (!*path)
		return -EISDIR;
	/* EAGAIN: a rename raced with the walk; the kernel asks for a retry. */
	for (tries = 0; tries < 8; tries++) {
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0)
		return -errno;
	err = reopen_regular(fd);
	close(fd);
	return err;
}

int rootfs__openat(int rootfd, const char *path)
{
	return openat_how(rootfd, path, true, 0);
}

int rootfs__openat_nolinks(int rootfd, const char *path)
{
	return openat_how(rootfd, path, false, 0);
}

int rootfs__open_nofollow(uint32_t pid, const char *path)
{
	int root = rootfs__open_root(pid), fd;

	if (root < 0)
		return root;
	/* O_PATH | O_NOFOLLOW opens a final symlink itself, which reopen_regular refuses. */
	fd = openat_how(root, path, true, O_NOFOLLOW);
	close(root);
	return fd;
}

int rootfs__open(uint32_t pid, const char *path)
{
	int root = rootfs__open_root(pid), fd;

	if (root < 0)
		return root;
	fd = rootfs__openat(root, path);
	close(root);
	return fd;
}

bool rootfs__may_mmap(int fd)
{
	struct stat sb;

	return !fstat(fd, &sb) && S_ISREG(sb.st_mode) && sb.st_uid == 0 &&
	       !(sb.st_mode & (S_IWGRP | S_IWOTH));
}

static bool same_inode(const char *x, const char *y)
{
	struct stat a, b;

	return !stat(x, &a) && !stat(y, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool rootfs__same_root(uint32_t pid)
{
	char root[32], mnt[32];

	/* The same root directory can hold other mounts in another mount namespace. */
	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	snprintf(mnt, sizeof(mnt), "/proc/%u/ns/mnt", pid);
	return same_inode(root, "/") && same_inode(mnt, "/proc/self/ns/mnt");
}
