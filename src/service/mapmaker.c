// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "service/mapmaker.h"
#include "service/privs.h"
#include "base/log.h"
#include "../../bpf/unwind.h"

struct mapmaker {
	pid_t pid;
	int fd;
};

/* The maker: one chunk per request, of a shape fixed at the fork, max_maps in all. */
static void __attribute__((noreturn)) serve(int fd, const uint32_t size[2], uint32_t max_maps)
{
	struct bpf_map_create_opts opts = { .sz = sizeof(opts), .map_flags = BPF_F_MMAPABLE };
	uint32_t made = 0, want;
	int map, ret;

	while (recv(fd, &want, sizeof(want), 0) == sizeof(want)) {
		char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { .iov_base = &ret, .iov_len = sizeof(ret) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct cmsghdr *c;

		map = -1;
		if (want != size[0] && want != size[1]) {
			ret = -EINVAL;
		} else if (made >= max_maps) {
			ret = -ENOSPC;
		} else {
			map = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(uint32_t), want,
					     UNWIND_CHUNK, &opts);
			ret = map < 0 ? -errno : 0;
			made += map >= 0;
		}
		if (map >= 0) {
			msg.msg_control = ctl;
			msg.msg_controllen = sizeof(ctl);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &map, sizeof(int));
		}
		if (sendmsg(fd, &msg, MSG_NOSIGNAL) != sizeof(ret))
			_exit(1);
		if (map >= 0)
			close(map);
	}
	_exit(0);
}

struct mapmaker *mapmaker__start(const uint32_t value_size[2], uint32_t max_maps, int *err)
{
	struct mapmaker *m = calloc(1, sizeof(*m));
	pid_t parent = getpid();
	int sv[2];

	*err = 0;
	if (!m) {
		*err = -ENOMEM;
		return NULL;
	}
	m->fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		*err = -errno;
		goto cleanup;
	}
	m->pid = fork();
	if (m->pid < 0) {
		*err = -errno;
		close(sv[0]);
		close(sv[1]);
		goto cleanup;
	}
	if (!m->pid) {
		/* Dies with flamed; holds nothing of it but the socket (and stderr). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		prctl(PR_SET_DUMPABLE, 0);
		if (dup2(sv[1], 3) < 0 || dup2(2, 0) < 0 || dup2(2, 1) < 0)
			_exit(1);
		/* A system call filter may lack close_range (older systemd's @basic-io). */
		if (close_range(4, ~0U, 0))
			for (int fd = 4; fd < 65536; fd++)
				close(fd);
		if (privs__drop_to(1ULL << CAP_BPF))
			_exit(1);
		serve(3, value_size, max_maps);
	}
	close(sv[1]);
	m->fd = sv[0];
	return m;
cleanup:
	pr_err("cannot start the unwind-table chunk maker: %s", strerror(-*err));
	free(m);
	return NULL;
}

int mapmaker__chunk(void *ctx, uint32_t value_size)
{
	struct mapmaker *m = ctx;
	char ctl[CMSG_SPACE(sizeof(int))];
	int ret = -EPIPE, fd = -1;
	struct iovec iov = { .iov_base = &ret, .iov_len = sizeof(ret) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;

	if (send(m->fd, &value_size, sizeof(value_size), MSG_NOSIGNAL) != sizeof(value_size))
		return -EPIPE;
	if (recvmsg(m->fd, &msg, MSG_CMSG_CLOEXEC) != sizeof(ret))
		return -EPIPE;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (ret < 0) {
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd >= 0 ? fd : -EPIPE;
}

void mapmaker__free(struct mapmaker *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (m->pid > 0)
		waitpid(m->pid, NULL, 0);
	free(m);
}
