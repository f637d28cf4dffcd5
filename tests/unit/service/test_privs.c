// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege (src/service/privs.c): what is kept, and, in a forked child so the test process keeps
 * its own, that after privs__drop() the kernel really refuses what was dropped (BPF, perf
 * events, writing other users' files) and allows what was kept (reading them, other processes'
 * maps), and that nothing execve'd gets capabilities back.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "service/privs.h"

#define CAPBIT(c) (1ULL << (c))
#define NOBODY 65534

TEST(privs_dirname)
{
	char b[64];

	privs__dirname("out.svg", b, sizeof(b));
	CHECK_EQ_STR(b, ".");
	privs__dirname("/out.svg", b, sizeof(b));
	CHECK_EQ_STR(b, "/");
	privs__dirname("/var/lib/flamed/x.svg", b, sizeof(b));
	CHECK_EQ_STR(b, "/var/lib/flamed");
	privs__dirname("a/b", b, sizeof(b));
	CHECK_EQ_STR(b, "a");
}

TEST(privs_keep_mask)
{
	char dir[] = "/tmp/flamed-privs.XXXXXX";
	uint64_t m;

	CHECK(mkdtemp(dir) != NULL);
	m = privs__keep_mask(NULL);
	CHECK(m & CAPBIT(CAP_SYS_PTRACE));
	CHECK(m & CAPBIT(CAP_DAC_READ_SEARCH));
	CHECK(m & CAPBIT(CAP_SYSLOG));
	/* Never kept: what loading BPF and opening perf events needed. */
	CHECK(!(m & (CAPBIT(CAP_SYS_ADMIN) | CAPBIT(CAP_PERFMON) | CAPBIT(CAP_SYS_RESOURCE) |
		     CAPBIT(CAP_SETUID) | CAPBIT(CAP_SETPCAP) | CAPBIT(CAP_DAC_OVERRIDE) |
		     CAPBIT(CAP_NET_ADMIN) | CAPBIT(CAP_SYS_MODULE) | CAPBIT(CAP_FOWNER))));
	/* A directory of our own needs no override... */
	CHECK(!(privs__keep_mask(dir) & CAPBIT(CAP_DAC_OVERRIDE)));
	/* ...one owned by another user with mode 0755 does (sudo flamed -o ~user/x.svg). */
	if (!geteuid()) {
		CHECK_EQ_INT(chown(dir, NOBODY, NOBODY), 0);
		CHECK(privs__keep_mask(dir) & CAPBIT(CAP_DAC_OVERRIDE));
		chmod(dir, 01777);
		CHECK(!(privs__keep_mask(dir) & CAPBIT(CAP_DAC_OVERRIDE)));
	}
	rmdir(dir);
}

static uint64_t status_hex(const char *key)
{
	char line[256];
	uint64_t v = ~0ULL;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static int read_sysctl(const char *path)
{
	char buf[16] = "";
	FILE *f = fopen(path, "re");

	if (f && !fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (f)
		fclose(f);
	return atoi(buf);
}

#define FAIL_IF(cond)                                                                              \
	do {                                                                                       \
		if (cond) {                                                                        \
			fprintf(stderr, "  child: %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

/* Runs in the child: drops, then probes the kernel. Returns the number of failed checks. */
static int child_checks(const char *dir, const char *secret, pid_t target)
{
	uint64_t keep = privs__keep_mask(dir);
	struct perf_event_attr pa = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(pa),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = 99,
		.freq = 1,
	};
	union bpf_attr ba = {
		.map_type = BPF_MAP_TYPE_ARRAY,
		.key_size = 4,
		.value_size = 4,
		.max_entries = 1,
	};
	char line[256], maps[64];
	int bad = 0, fd;
	FILE *p;

	FAIL_IF(privs__drop(dir) != 0);
	FAIL_IF(status_hex("CapEff") != keep);
	FAIL_IF(status_hex("CapPrm") != keep);
	FAIL_IF(status_hex("CapBnd") != keep);
	FAIL_IF(status_hex("CapInh") != 0);
	FAIL_IF(status_hex("CapAmb") != 0);
	FAIL_IF(status_hex("NoNewPrivs") != 1);
	/* Dropped: BPF (no new maps or programs) and system-wide perf events. */
	if (read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled")) {
		fd = syscall(SYS_bpf, BPF_MAP_CREATE, &ba, sizeof(ba));
		FAIL_IF(fd >= 0 || errno != EPERM);
	}
	if (read_sysctl("/proc/sys/kernel/perf_event_paranoid") > 0) {
		fd = syscall(SYS_perf_event_open, &pa, -1, 0, -1, 0);
		FAIL_IF(fd >= 0 || (errno != EACCES && errno != EPERM));
	}
	/* Kept: reading any file; dropped: writing another user's. */
	fd = open(secret, O_RDONLY | O_CLOEXEC);
	FAIL_IF(fd < 0);
	if (fd >= 0)
		close(fd);
	fd = open(secret, O_WRONLY | O_CLOEXEC);
	FAIL_IF(fd >= 0 || errno != EACCES);
	/*
	 * Kept: the maps of a process with more capabilities than we have now (a root process),
	 * which takes ptrace rights.
	 */
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)target);
	fd = open(maps, O_RDONLY | O_CLOEXEC);
	FAIL_IF(fd < 0);
	if (fd >= 0)
		close(fd);
	/* Nothing run from here gets capabilities, even as uid 0. */
	p = popen("grep -E '^Cap(Prm|Eff)' /proc/self/status", "re");
	FAIL_IF(!p);
	while (p && fgets(line, sizeof(line), p))
		FAIL_IF(strtoull(line + 7, NULL, 16) != 0);
	if (p)
		pclose(p);
	return bad;
}

TEST(privs_drop_for_real)
{
	char dir[] = "/tmp/flamed-privs.XXXXXX", secret[64];
	int status = -1, fd;
	pid_t pid, target;

	if (geteuid()) {
		SKIP("privs_drop_for_real needs root");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	fd = open(secret, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ_INT(chown(secret, NOBODY, NOBODY), 0);
	fflush(NULL);
	target = fork();
	if (target == 0) {
		pause();
		_exit(0);
	}
	pid = fork();
	if (pid == 0)
		_exit(child_checks(dir, secret, target));
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	unlink(secret);
	rmdir(dir);
}

TEST(privs_refuses_setuid)
{
	/* Run normally: not set-uid. (tests/e2e/test_security.sh runs a set-uid copy.) */
	CHECK_EQ_INT(privs__check_setuid(), 0);
}
