// SPDX-License-Identifier: GPL-2.0-only
/*
 * Output files (src/base/output.c) against a hostile or failing file system: exact modes, nothing
 * visible before the commit, nothing left after an abort, a failed write or SIGKILL, planted
 * symlinks replaced rather than followed, and a directory swapped mid-run not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "base/output.h"

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/flamed-output.XXXXXX");
	return mkdtemp(dir);
}

/* Entries of dir (hidden ones too), "." and ".." excepted. */
static int nr_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return d ? n : -1;
}

static void rm_tree(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "  cannot remove %s\n", dir);
}

static int read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

TEST(output_mode_exact_and_nothing_visible_before_commit)
{
	char *dir = tmpdir(), path[128], buf[64];
	struct output *o;
	struct stat st;
	mode_t old = umask(077);

	CHECK(dir != NULL);
	snprintf(path, sizeof(path), "%s/p.svg", dir);
	o = output__open(path, 0640);
	umask(old);
	CHECK(o != NULL);
	if (!o)
		return;
	fputs("hello\n", output__file(o));
	/* Unnamed until the commit: the directory shows nothing, hidden or not. */
	CHECK_EQ_INT(nr_entries(dir), 0);
	CHECK_EQ_INT(output__commit(o), 0);
	CHECK_EQ_INT(nr_entries(dir), 1);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0640);
	CHECK_EQ_INT(read_all(path, buf, sizeof(buf)), 6);
	CHECK_EQ_STR(buf, "hello\n");
	rm_tree(dir);
}

TEST(output_abort_leaves_nothing)
{
	char *dir = tmpdir(), path[128];
	struct output *o;

	snprintf(path, sizeof(path), "%s/a.folded", dir);
	o = output__open(path, 0640);
	CHECK(o != NULL);
	fputs("x 1\n", output__file(o));
	output__abort(o);
	output__abort(NULL);
	CHECK_EQ_INT(nr_entries(dir), 0);
	rm_tree(dir);
}

/*
 * -o /dev/null, -o FIFO: written to as they are (a rename would have replaced /dev/null with a
 * regular file for the whole machine; it did, once, under a benchmark).
 */
TEST(output_device_and_fifo_written_through)
{
	char *dir = tmpdir(), path[128], buf[16] = "";
	struct output *o;
	struct stat st;
	int rfd;

	o = output__open("/dev/null", 0644);
	CHECK(o != NULL);
	fputs("x 1\n", output__file(o));
	CHECK_EQ_INT(output__commit(o), 0);
	CHECK(!stat("/dev/null", &st) && S_ISCHR(st.st_mode));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK_EQ_INT(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(rfd >= 0);
	o = output__open(path, 0644);
	CHECK(o != NULL);
	fputs("a;b 2\n", output__file(o));
	CHECK_EQ_INT(output__commit(o), 0);
	CHECK_EQ_INT(read(rfd, buf, sizeof(buf) - 1), 6);
	CHECK_EQ_STR(buf, "a;b 2\n");
	CHECK(!lstat(path, &st) && S_ISFIFO(st.st_mode));
	CHECK_EQ_INT(nr_entries(dir), 1);
	close(rfd);
	rm_tree(dir);
}

TEST(output_replaces_planted_symlink)
{
	char *dir = tmpdir(), path[128], victim[128], buf[64];
	struct output *o;
	struct stat st;
	int fd;

	/* Someone who may write to a shared directory points the output name at a file of ours. */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(path, sizeof(path), "%s/out.svg", dir);
	fd = open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "precious\n", 9) == 9);
	close(fd);
	CHECK_EQ_INT(symlink(victim, path), 0);
	o = output__open(path, 0640);
	CHECK(o != NULL);
	if (!o)
		return;
	fputs("profile\n", output__file(o));
	CHECK_EQ_INT(output__commit(o), 0);
	CHECK_EQ_INT(lstat(path, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ_INT(read_all(victim, buf, sizeof(buf)), 9);
	CHECK_EQ_STR(buf, "precious\n");
	rm_tree(dir);
}

TEST(output_dir_swapped_mid_run_not_followed)
{
	char *dir = tmpdir(), a[96], b[96], c[96], path[128], inb[128];
	struct output *o;

	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);
	snprintf(path, sizeof(path), "%s/out.folded", a);
	snprintf(inb, sizeof(inb), "%s/out.folded", b);
	CHECK_EQ_INT(mkdir(a, 0755), 0);
	CHECK_EQ_INT(mkdir(c, 0755), 0);
	o = output__open(path, 0640);
	CHECK(o != NULL);
	if (!o)
		return;
	/* While profiling: the directory moves away and a symlink to elsewhere takes its name. */
	CHECK_EQ_INT(rename(a, b), 0);
	CHECK_EQ_INT(symlink(c, a), 0);
	fputs("x 1\n", output__file(o));
	CHECK_EQ_INT(output__commit(o), 0);
	CHECK_EQ_INT(access(inb, F_OK), 0);
	CHECK_EQ_INT(nr_entries(c), 0);
	rm_tree(dir);
}

TEST(output_failed_write_leaves_old_file_and_no_temp)
{
	char *dir = tmpdir(), path[128], buf[64];
	int status = -1, fd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/full.folded", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0640);
	CHECK(fd >= 0 && write(fd, "old 1\n", 6) == 6);
	close(fd);
	fflush(NULL);
	/* A file size limit stands in for a full disk: writes fail with EFBIG past 4 KiB. */
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		struct output *o;
		char line[100];
		int i;

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		o = output__open(path, 0640);
		if (!o)
			_exit(2);
		memset(line, 'x', sizeof(line) - 1);
		line[sizeof(line) - 1] = '\n';
		for (i = 0; i < 1000; i++)
			fwrite(line, 1, sizeof(line), output__file(o));
		_exit(output__commit(o) == -EFBIG ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(nr_entries(dir), 1);
	CHECK_EQ_INT(read_all(path, buf, sizeof(buf)), 6);
	rm_tree(dir);
}

TEST(output_sigkill_leaves_nothing)
{
	char *dir = tmpdir(), path[128];
	int i, status, p[2];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/k.svg", dir);
	/*
	 * Killed while writing (before the commit), a hundred times at different points: never a
	 * file, not even hidden. output_sigkill_during_commit kills during the commit.
	 */
	for (i = 0; i < 100; i++) {
		char c;

		CHECK_EQ_INT(pipe(p), 0);
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct output *o = output__open(path, 0640);
			int j;

			close(p[0]);
			if (write(p[1], "r", 1) != 1 || !o)
				_exit(1);
			for (j = 0;; j++) {
				fprintf(output__file(o), "<rect n=\"%d\"/>\n", j);
				if (j % 1000 == 0)
					fflush(output__file(o));
			}
		}
		close(p[1]);
		CHECK(read(p[0], &c, 1) == 1);
		close(p[0]);
		usleep(i * 37 % 1000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status));
	}
	CHECK_EQ_INT(nr_entries(dir), 0);
	rm_tree(dir);
}

/* What a directory holds after a kill: the target, a hidden temp, each complete or not. */
struct after_kill {
	int target, target_complete, hidden, hidden_complete, other;
};

static void look(const char *dir, const char *want, size_t want_len, struct after_kill *a)
{
	static char buf[65536];
	char path[512];
	DIR *d = opendir(dir);
	struct dirent *de;
	int n;

	memset(a, 0, sizeof(*a));
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = read_all(path, buf, sizeof(buf));
		if (!strcmp(de->d_name, "k.folded")) {
			a->target++;
			a->target_complete += n == (int)want_len && !memcmp(buf, want, want_len);
		} else if (!strncmp(de->d_name, ".k.folded.", 10)) {
			a->hidden++;
			a->hidden_complete += n == (int)want_len && !memcmp(buf, want, want_len);
		} else {
			a->other++;
		}
		unlink(path);
	}
	if (d)
		closedir(d);
}

/*
 * Killed during the commit, at every system call it makes (before and after each: ptrace stops
 * the child at each entry and exit): the target is absent or complete, never partial. Between
 * link and rename the complete file has its hidden name (docs/SECURITY.md says so; continuous
 * mode removes it at start); every one of the three states must be seen, or the kills missed
 * the commit.
 */
TEST(output_sigkill_during_commit)
{
	char *dir = tmpdir(), path[128], want[20000];
	int stops, n, status, nothing = 0, hidden = 0, complete = 0, bad = 0;
	size_t len = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/k.folded", dir);
	for (n = 0; len + 40 < sizeof(want); n++)
		len += snprintf(want + len, sizeof(want) - len, "main;frame_%d %d\n", n, n + 1);
	for (stops = 0; stops < 1000; stops++) {
		struct after_kill a;
		int k, exited = 0;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct output *o = output__open(path, 0640);

			if (!o)
				_exit(2);
			/* Buffered: the write(2) happens inside the commit, as for a profile. */
			fwrite(want, 1, len, output__file(o));
			if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) || raise(SIGSTOP))
				_exit(3);
			_exit(output__commit(o) ? 1 : 0);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
			CHECK(!"child stopped before its commit");
			break;
		}
		ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_EXITKILL);
		for (k = 0; k < stops && !exited; k++) {
			if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) || waitpid(pid, &status, 0) != pid)
				exited = 1;
			else if (WIFEXITED(status) || WIFSIGNALED(status))
				exited = 1;
		}
		if (!exited) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		look(dir, want, len, &a);
		if (exited) {
			/* The commit ran to its end before this many stops: the whole file, alone. */
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			CHECK(a.target == 1 && a.target_complete == 1 && !a.hidden && !a.other);
			break;
		}
		if (!a.target && !a.hidden && !a.other)
			nothing++;
		else if (!a.target && a.hidden == 1 && a.hidden_complete == 1 && !a.other)
			hidden++;
		else if (a.target == 1 && a.target_complete == 1 && !a.hidden && !a.other)
			complete++;
		else
			bad++;
	}
	fprintf(stderr, "  %d kills in the commit: %d left nothing, %d the complete hidden temp, "
			"%d the complete target, %d anything else\n",
		stops, nothing, hidden, complete, bad);
	CHECK_EQ_INT(bad, 0);
	CHECK(nothing > 0 && hidden > 0 && complete > 0);
	rm_tree(dir);
}

TEST(output_open_errors)
{
	char *dir = tmpdir(), path[128];

	CHECK(output__open("/nonexistent-dir/x.svg", 0640) == NULL && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/", dir);
	CHECK(output__open(path, 0640) == NULL && errno == EISDIR);
	rm_tree(dir);
}

/* The temp names leftover sweeps (daemon.c, spool.c) recognise, told by output.c alone. */
TEST(output_temp_target)
{
	char t[16];

	CHECK(output__temp_target(".flamed-1.svg.aB3dE9", t, sizeof(t)));
	CHECK_EQ_STR(t, "flamed-1.svg");
	CHECK(output__temp_target(".x.000000", t, sizeof(t)));
	CHECK_EQ_STR(t, "x");
	CHECK(!output__temp_target("..aB3dE9", t, sizeof(t)));
	CHECK(!output__temp_target("flamed-1.svg.aB3dE9", t, sizeof(t)));
	CHECK(!output__temp_target(".latest.svg.tmp", t, sizeof(t)));
	CHECK(!output__temp_target(".x.aB3-E9", t, sizeof(t)));
	CHECK(!output__temp_target(".x.aB3dE", t, sizeof(t)));
	/* A target longer than the caller's buffer is none of its files. */
	CHECK(!output__temp_target(".0123456789abcdef.aB3dE9", t, sizeof(t)));
	CHECK(output__temp_target(".0123456789abcde.aB3dE9", t, sizeof(t)));
}
