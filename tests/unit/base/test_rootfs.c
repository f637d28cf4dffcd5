// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container file systems (src/base/rootfs.c and its users): no path a profiled process chooses
 * (mapping paths, debuglink names, perf map names) leads flamed out of that process's root
 * (absolute symlinks, "..", magic links), and none makes it block or open a device (FIFOs,
 * sockets, device nodes). A temp directory stands for a container's root; a chrooted child for
 * a process in it. Every test runs under an alarm: a block fails it instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize/debuginfo.h"
#include "harness.h"
#include "symbolize/perfmap.h"
#include "sample/procs.h"
#include "base/rootfs.h"

static char root[64];

static void on_alarm(int sig)
{
	static const char msg[] = "  test_rootfs: blocked for 10 s (a FIFO or device was opened?)\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static void put(const char *rel, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fprintf(stderr, "  cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
}

static void at(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

/*
 * The tree:
 *   etc/passwd           "container"       (the host's /etc/passwd must never be read)
 *   abs -> /etc/passwd   absolute symlink: /etc/passwd of the root
 *   up -> ../../../../../../etc/hostname   climbs past the root: stays at it
 *   slash -> /           the root itself, not the host's
 *   magic -> /proc/self/root/etc/passwd    magic link (if the root had a /proc)
 *   fifo, sock, null (char 1:3), dir/      never opened for reading
 *   tmp/, bin/dbg.debug (a FIFO where a debuglink points)
 */
static void make_tree(void)
{
	char p[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	snprintf(root, sizeof(root), "/tmp/flamed-rootfs.XXXXXX");
	if (!mkdtemp(root))
		return;
	at(p, sizeof(p), "etc");
	mkdir(p, 0755);
	at(p, sizeof(p), "tmp");
	mkdir(p, 01777);
	at(p, sizeof(p), "bin");
	mkdir(p, 0755);
	at(p, sizeof(p), "dir");
	mkdir(p, 0755);
	put("etc/passwd", "container\n");
	at(p, sizeof(p), "abs");
	if (symlink("/etc/passwd", p))
		perror("symlink");
	at(p, sizeof(p), "up");
	if (symlink("../../../../../../etc/hostname", p))
		perror("symlink");
	at(p, sizeof(p), "slash");
	if (symlink("/", p))
		perror("symlink");
	at(p, sizeof(p), "magic");
	if (symlink("/proc/self/root/etc/passwd", p))
		perror("symlink");
	at(p, sizeof(p), "fifo");
	mkfifo(p, 0644);
	at(p, sizeof(p), "bin/dbg.debug");
	mkfifo(p, 0644);
	at(p, sizeof(p), "null");
	if (!geteuid())
		mknod(p, S_IFCHR | 0666, makedev(1, 3));
	at(p, sizeof(p), "sock");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", p);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)))
			perror("bind");
		close(s);
	}
	signal(SIGALRM, on_alarm);
	alarm(10);
}

static void rm_tree(void)
{
	char cmd[128];

	alarm(0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "  cannot remove %s\n", root);
}

/* Reads what fd holds into buf (NUL-terminated); closes fd. */
static const char *slurp(int fd, char *buf, size_t len)
{
	ssize_t n;

	if (fd < 0)
		return "(not opened)";
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

TEST(rootfs_stays_inside_the_root)
{
	char buf[64];
	int rfd;

	make_tree();
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rfd >= 0);
	CHECK_EQ_STR(slurp(rootfs__openat(rfd, "/etc/passwd"), buf, sizeof(buf)), "container\n");
	/* Absolute symlinks and ".." resolve against the root, never the host's /. */
	CHECK_EQ_STR(slurp(rootfs__openat(rfd, "abs"), buf, sizeof(buf)), "container\n");
	CHECK_EQ_STR(slurp(rootfs__openat(rfd, "../../../../etc/passwd"), buf, sizeof(buf)),
		     "container\n");
	CHECK_EQ_STR(slurp(rootfs__openat(rfd, "slash/etc/passwd"), buf, sizeof(buf)),
		     "container\n");
	CHECK_EQ_STR(slurp(rootfs__openat(rfd, "dir/../../../etc/passwd"), buf, sizeof(buf)),
		     "container\n");
	/* The host has /etc/hostname; the root has not. */
	CHECK_EQ_INT(rootfs__openat(rfd, "up"), -ENOENT);
	CHECK_EQ_INT(rootfs__openat(rfd, "slash/etc/hostname"), -ENOENT);
	CHECK_EQ_INT(rootfs__openat(rfd, "magic"), -ENOENT);
	CHECK_EQ_INT(rootfs__openat(rfd, "/"), -EISDIR);
	close(rfd);
	rm_tree();
}

TEST(rootfs_refuses_fifos_devices_sockets_dirs)
{
	int rfd;

	make_tree();
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* A FIFO with no writer would block a blocking open; a device may act when opened. */
	CHECK_EQ_INT(rootfs__openat(rfd, "fifo"), -EINVAL);
	CHECK_EQ_INT(rootfs__openat(rfd, "sock"), -EINVAL);
	CHECK_EQ_INT(rootfs__openat(rfd, "dir"), -EINVAL);
	if (!geteuid())
		CHECK_EQ_INT(rootfs__openat(rfd, "null"), -EINVAL);
	else
		SKIP("a device node in the tree needs root (mknod)");
	close(rfd);
	/* Our own root too (pid 0): a user's symlink to a device is not opened for reading. */
	CHECK_EQ_INT(rootfs__open(0, "/dev/null"), -EINVAL);
	CHECK_EQ_INT(rootfs__open(0, "/dev/zero"), -EINVAL);
	rm_tree();
}

TEST(rootfs_no_magic_links)
{
	char path[64];
	int rfd = rootfs__open_root(0), fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	/* /proc/self/fd/N could name any file a process holds, in any root. */
	snprintf(path, sizeof(path), "proc/self/fd/%d", fd);
	CHECK(rfd >= 0 && fd >= 0);
	CHECK_EQ_INT(rootfs__openat(rfd, path), -ELOOP);
	snprintf(path, sizeof(path), "proc/self/root/etc/passwd");
	CHECK_EQ_INT(rootfs__openat(rfd, path), -ELOOP);
	close(fd);
	close(rfd);
}

/* A process in the "container": chrooted into root, waiting to be killed. */
static pid_t start_contained(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (chroot(root) || chdir("/"))
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(rootfs_through_a_process_root)
{
	char buf[64];
	pid_t pid;

	if (geteuid()) {
		SKIP("rootfs_through_a_process_root needs root (chroot)");
		return;
	}
	make_tree();
	pid = start_contained();
	CHECK(pid > 0);
	CHECK(!rootfs__same_root(pid));
	CHECK(rootfs__same_root(getpid()));
	CHECK_EQ_STR(slurp(rootfs__open(pid, "/etc/passwd"), buf, sizeof(buf)), "container\n");
	CHECK_EQ_STR(slurp(rootfs__open(pid, "/../../../etc/passwd"), buf, sizeof(buf)),
		     "container\n");
	CHECK_EQ_INT(rootfs__open(pid, "/slash/etc/hostname"), -ENOENT);
	CHECK_EQ_INT(rootfs__open(pid, "/fifo"), -EINVAL);
	stop(pid);
	rm_tree();
}

TEST(rootfs_users_perfmap_debuglink_mapping)
{
	const char *dirs[] = { NULL };
	struct debuginfo_opts o = { .dirs = dirs };
	struct debuginfo *di;
	enum debuginfo_source src;
	struct map_entry m = { 0x1000, 0x2000, 0, 0, 0, 1, NULL };
	char path[256], *img = NULL;
	struct stat st;
	struct perfmap *pm;
	size_t len = 0;
	int err = 0, fd;
	Elf *elf = NULL;
	pid_t pid;
	FILE *f;

	if (geteuid()) {
		SKIP("rootfs_users_perfmap_debuglink_mapping needs root");
		return;
	}
	make_tree();
	pid = start_contained();
	CHECK(pid > 0);
	/* The process's /tmp/perf-PID.map links to a FIFO: refused at once, nothing read. */
	snprintf(path, sizeof(path), "%s/tmp/perf-%d.map", root, (int)pid);
	CHECK_EQ_INT(symlink("/fifo", path), 0);
	pm = perfmap__load(pid, true, &err);
	CHECK(pm == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	/*
	 * Or to the host's /etc/shadow: a perf map that is a symlink is refused as such (the
	 * container's own /etc/shadow would be no map of its process's either).
	 */
	unlink(path);
	CHECK_EQ_INT(symlink("/etc/shadow", path), 0);
	pm = perfmap__load(pid, true, &err);
	CHECK(pm == NULL);
	CHECK_EQ_INT(err, -EINVAL);
	perfmap__free(pm);

	/* A debuglink ("dbg.debug", beside /bin/prog) that names a FIFO in the process's root. */
	f = fopen("tests/fuzz/corpus/fuzz_elf/debuglink", "re");
	CHECK(f != NULL);
	if (f && !fstat(fileno(f), &st) && (img = malloc(st.st_size)) &&
	    fread(img, 1, st.st_size, f) == (size_t)st.st_size)
		len = st.st_size;
	if (f)
		fclose(f);
	elf_version(EV_CURRENT);
	elf = len ? elf_memory(img, len) : NULL;
	CHECK(elf != NULL);
	di = debuginfo__new(&o);
	if (elf && di) {
		fd = debuginfo__find(di, elf, "", "/bin/prog", pid, &src);
		CHECK_EQ_INT(fd, -ENOENT);
	}
	debuginfo__free(di);
	elf_end(elf);
	free(img);

	/*
	 * A mapping whose recorded path now names a device or a FIFO (process gone). The recorded
	 * device and inode are the node's own, so the inode check (-ESTALE) cannot be what
	 * refuses it: the refusal of what is not a regular file (-EINVAL) must.
	 */
	m.path = "/dev/zero";
	CHECK_EQ_INT(stat(m.path, &st), 0);
	m.maj = major(st.st_dev);
	m.min = minor(st.st_dev);
	m.ino = st.st_ino;
	CHECK_EQ_INT(procs__open_mapping(pid, false, &m), -EINVAL);
	at(path, sizeof(path), "fifo");
	m.path = path;
	CHECK_EQ_INT(stat(m.path, &st), 0);
	m.maj = major(st.st_dev);
	m.min = minor(st.st_dev);
	m.ino = st.st_ino;
	CHECK_EQ_INT(procs__open_mapping(pid, false, &m), -EINVAL);
	stop(pid);
	rm_tree();
}
