// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "base/log.h"
#include "service/privs.h"

#define CAPBIT(c) (1ULL << (c))

int privs__check_setuid(void)
{
	/*
	 * AT_SECURE: the kernel ran us with more privilege than our caller had (set-uid, set-gid,
	 * file capabilities). The id comparisons also catch a caller that kept ids apart.
	 */
	if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid()) {
		pr_err("flamed refuses to run set-uid, set-gid or with file capabilities: its "
		       "options name files it reads and writes as root. Remove the bit "
		       "(chmod u-s,g-s; setcap -r) and run it as root (sudo, or its systemd unit)");
		return -EPERM;
	}
	return 0;
}

void privs__dirname(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* Whether our uid and groups alone (no CAP_DAC_OVERRIDE) may create and rename in dir. */
static bool dir_writable_without_caps(const char *dir)
{
	gid_t groups[256];
	struct stat st;
	mode_t want;
	int n, i;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return false;
	if (st.st_uid == geteuid()) {
		want = S_IWUSR | S_IXUSR;
		return (st.st_mode & want) == want;
	}
	n = getgroups(256, groups);
	for (i = -1; i < n; i++) {
		if ((i < 0 ? getegid() : groups[i]) == st.st_gid) {
			want = S_IWGRP | S_IXGRP;
			return (st.st_mode & want) == want;
		}
	}
	want = S_IWOTH | S_IXOTH;
	return (st.st_mode & want) == want;
}

/* Before 6.5 every bpf() command, map lookups included, wanted CAP_BPF when unprivileged BPF
 * is disabled (the default); since, only creating maps and loading programs do. */
static bool kernel_checks_every_bpf_call(void)
{
	unsigned long major, minor;
	struct utsname u;
	char *end;

	if (uname(&u))
		return true;
	major = strtoul(u.release, &end, 10);
	if (end == u.release || *end != '.')
		return true;
	minor = strtoul(end + 1, &end, 10);
	return major < 6 || (major == 6 && minor < 5);
}

static int last_cap(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16] = "", *end = buf;
	long v = -1;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtol(buf, &end, 10);
		if (end == buf || (*end && *end != '\n'))
			v = -1;
		close(fd);
	}
	return v > 0 && v < 64 ? (int)v : CAP_LAST_CAP;
}

uint64_t privs__keep_mask(const char *write_dir)
{
	uint64_t keep = CAPBIT(CAP_SYS_PTRACE) | CAPBIT(CAP_DAC_READ_SEARCH) | CAPBIT(CAP_SYSLOG);
	int last = last_cap();

	if (CAP_CHECKPOINT_RESTORE <= last)
		keep |= CAPBIT(CAP_CHECKPOINT_RESTORE);
	if (kernel_checks_every_bpf_call() && CAP_BPF <= last)
		keep |= CAPBIT(CAP_BPF);
	if (write_dir && !dir_writable_without_caps(write_dir))
		keep |= CAPBIT(CAP_DAC_OVERRIDE);
	return keep;
}

static int nr_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int capget64(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

static int capset64(uint64_t eff, uint64_t prm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (uint32_t)eff, .permitted = (uint32_t)prm },
		{ .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(prm >> 32) },
	};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static void log_kept(uint64_t keep)
{
	static const struct {
		int cap;
		const char *name;
	} names[] = {
		{ CAP_SYS_PTRACE, "sys_ptrace" }, { CAP_DAC_READ_SEARCH, "dac_read_search" },
		{ CAP_CHECKPOINT_RESTORE, "checkpoint_restore" }, { CAP_SYSLOG, "syslog" },
		{ CAP_BPF, "bpf" }, { CAP_DAC_OVERRIDE, "dac_override" },
	};
	char buf[160] = "";
	size_t i, n = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < sizeof(buf); i++)
		if (keep & CAPBIT(names[i].cap))
			n += snprintf(buf + n, sizeof(buf) - n, " cap_%s", names[i].name);
	pr_info("capabilities dropped; kept:%s", buf);
}

int privs__drop(const char *write_dir)
{
	uint64_t keep = privs__keep_mask(write_dir), eff = 0, prm = 0;
	int err;

	err = privs__drop_to(keep);
	if (!err && !capget64(&eff, &prm))
		log_kept(prm & keep);
	return err;
}

int privs__drop_to(uint64_t keep)
{
	uint64_t eff = 0, prm = 0;
	int last = last_cap(), n, c, err;
	bool setpcap;

	n = nr_threads();
	if (n > 1) {
		pr_warn("cannot drop capabilities: %d threads (capabilities are per thread)", n);
		return -EBUSY;
	}
	err = capget64(&eff, &prm);
	if (err) {
		pr_warn("cannot read our capabilities: %s", strerror(-err));
		return err;
	}
	setpcap = eff & CAPBIT(CAP_SETPCAP);
	/* Ambient capabilities would survive an execve; none are wanted. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (setpcap) {
		/* The bounding set caps what any execve could give back. */
		for (c = 0; c <= last; c++) {
			if (keep & CAPBIT(c))
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL) {
				err = -errno;
				pr_warn("cannot drop capability %d from the bounding set: %s", c,
					strerror(errno));
				return err;
			}
		}
		/* Root's execve gets no capabilities back, and this cannot be undone. */
		if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			  SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
			  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
			  0, 0, 0)) {
			err = -errno;
			pr_warn("cannot set securebits: %s", strerror(errno));
			return err;
		}
	}
	/* Inheritable left empty. Kept capabilities stay effective: they are used all along. */
	err = capset64(eff & keep, prm & keep);
	if (err) {
		pr_warn("cannot drop capabilities: %s", strerror(-err));
		return err;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		pr_warn("cannot set no_new_privs: %s", strerror(errno));
		return err;
	}
	return 0;
}
