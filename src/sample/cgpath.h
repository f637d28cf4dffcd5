/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a cgroup v2 path says about its processes: the systemd unit, the container (docker,
 * containerd, CRI-O, podman; systemd and cgroupfs drivers) and the Kubernetes pod (UID and QoS
 * class, from kubepods slices or directories). A pure parser of path strings: no file is read,
 * so it tests and fuzzes on strings. Names of pods and containers are not in paths; flamed does
 * not look them up.
 *
 * Recognised container components (the innermost wins):
 *   docker-<64hex>.scope  cri-containerd-<64hex>.scope  crio-<64hex>.scope  libpod-<64hex>.scope
 *   /docker/<64hex>  /libpod_parent/libpod-<64hex>  .../<slice>:cri-containerd:<64hex>
 *   a bare <64hex> under a kubepods pod (cgroupfs driver; runtime "cri")
 * conmon's own scopes (crio-conmon-, libpod-conmon-) are not containers.
 * Pods: kubepods[.slice]/[kubepods-]{burstable,besteffort}[.slice]/[kubepods-...-]pod<UID>[.slice],
 * QoS guaranteed when the pod sits directly under kubepods; '_' in a systemd UID becomes '-'.
 */
#ifndef FLAMED_CGPATH_H
#define FLAMED_CGPATH_H

#include <stddef.h>

#define CGPATH_ID_LEN 64

struct cgpath_info {
	char unit[256];		/* innermost NAME.service or NAME.scope ("" = none) */
	char slice[256];	/* innermost NAME.slice ("" = none) */
	char runtime[16];	/* docker, containerd, crio, podman, cri ("" = no container) */
	char container_id[CGPATH_ID_LEN + 1];	/* lower-case hex */
	char pod_uid[40];	/* "" = not a pod */
	char qos[16];		/* guaranteed, burstable, besteffort ("" = not a pod) */
};

/*
 * Parses a cgroup path ("/a.slice/b.service/...", as in /proc/PID/cgroup or relative to the
 * cgroup2 mount), len bytes, any bytes. Always fills out (empty fields for what is not there).
 * 0, or -EINVAL when the path is not a path (empty, NUL inside).
 */
int cgpath__parse(const char *path, size_t len, struct cgpath_info *out);

/* The container frame: "docker:3f4e5d6c7b8a" (runtime and 12 hex digits); "" without one. */
void cgpath__container_name(const struct cgpath_info *ci, char *buf, size_t size);

/* --group-by: what the first frame of every stack names. */
enum cgpath_group {
	CGPATH_GROUP_NONE = 0,
	CGPATH_GROUP_CGROUP,	/* the cgroup path: /system.slice/cron.service */
	CGPATH_GROUP_UNIT,	/* the systemd unit: cron.service, else the slice, else [no unit] */
	CGPATH_GROUP_CONTAINER,	/* docker:3f4e5d6c7b8a, else [no container] */
	CGPATH_GROUP_POD,	/* pod:<UID> (burstable), else [no pod] */
	CGPATH_GROUP_MAX,
};

extern const char *const cgpath_group_names[CGPATH_GROUP_MAX];

/* "none", "cgroup", "unit", "container" or "pod"; 0 or -EINVAL. */
int cgpath__parse_group_by(const char *s, int *group);

/* The group frame of a cgroup path (relative to the mount) and what cgpath__parse made of it. */
void cgpath__group_name(int group, const char *path, const struct cgpath_info *ci, char *buf,
			size_t size);

#endif
