/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening files as another process sees them: through its root (/proc/PID/root), with path
 * resolution that stays inside that root even across absolute symlinks and "..", so a
 * container can never point flamed at a host file (openat2 RESOLVE_IN_ROOT).
 */
#ifndef FLAMED_ROOTFS_H
#define FLAMED_ROOTFS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Opens path read-only (O_CLOEXEC | O_NONBLOCK) inside the root of process pid; pid 0 means
 * our own root. Returns an fd or -errno (-ENOSYS: the kernel lacks openat2, nothing was opened).
 * Regular files only: the path is first resolved to an O_PATH fd and reopened for reading only
 * if it names a regular file, so a planted FIFO, socket or device (a watchdog, a tape, a tty)
 * is never opened for reading: -EINVAL. Use it, with pid 0, for every path a profiled process
 * can influence, even in our own root (a user's symlink to /dev/watchdog).
 */
int rootfs__open(uint32_t pid, const char *path);
/*
 * The same, but a symlink as the last component is refused (-EINVAL), for files anyone can
 * plant (/tmp): the link's target may be one only root can read.
 */
int rootfs__open_nofollow(uint32_t pid, const char *path);
/* Opens a directory as an O_PATH root for rootfs__openat(); pid 0 = "/". fd or -errno. */
int rootfs__open_root(uint32_t pid);
/* Opens path below the root directory fd rootfd (from rootfs__open_root), confined to it;
 * regular files only, as rootfs__open. */
int rootfs__openat(int rootfd, const char *path);
/*
 * rootfs__openat() through no symbolic link at all (-ELOOP if the path holds one): for paths
 * in directories a user may own, where a link could lead out of a container's tree (seen from
 * our root) or to a file that user cannot read.
 */
int rootfs__openat_nolinks(int rootfd, const char *path);
/*
 * Whether the file open as fd may be mapped (mmap, libelf's ELF_C_READ_MMAP): true when only
 * root can change it (owned by root, writable by no group or other). Any other file's owner
 * can truncate it while flamed holds it mapped, and every read of the mapping past the new end
 * is a SIGBUS that kills the daemon: such files are read instead (src/base/elfimage.c).
 */
bool rootfs__may_mmap(int fd);
/* True when process pid sees the same files as flamed: same root, same mount namespace. */
bool rootfs__same_root(uint32_t pid);

#endif
