// SPDX-License-Identifier: GPL-2.0-only
/* cgroup paths: units, containers of every runtime and driver, pods and their QoS; group names. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "sample/cgpath.h"

#define ID "3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a493827160"
#define UID "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"
#define UID_ "1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901"

static int parse(const char *path, struct cgpath_info *ci)
{
	return cgpath__parse(path, strlen(path), ci);
}

static const char *group(int g, const char *path)
{
	static char buf[512];
	struct cgpath_info ci;

	parse(path, &ci);
	cgpath__group_name(g, path, &ci, buf, sizeof(buf));
	return buf;
}

TEST(cgpath_units)
{
	struct cgpath_info ci;

	CHECK_EQ_INT(parse("/fe.slice/x.service", &ci), 0);
	CHECK_EQ_STR(ci.unit, "x.service");
	CHECK_EQ_STR(ci.slice, "fe.slice");
	CHECK_EQ_STR(ci.runtime, "");
	CHECK_EQ_STR(ci.pod_uid, "");
	/* The innermost unit; a delegated sub-cgroup (not a unit name) does not hide it. */
	parse("/user.slice/user-1000.slice/user@1000.service/app.slice/y.scope/payload", &ci);
	CHECK_EQ_STR(ci.unit, "y.scope");
	CHECK_EQ_STR(ci.slice, "app.slice");
	parse("/", &ci);
	CHECK_EQ_STR(ci.unit, "");
	CHECK_EQ_STR(group(CGPATH_GROUP_UNIT, "/"), "[no unit]");
	CHECK_EQ_STR(group(CGPATH_GROUP_UNIT, "/a.slice"), "a.slice");
	CHECK_EQ_STR(group(CGPATH_GROUP_UNIT, "/a.slice/b.service/c"), "b.service");
	CHECK_EQ_STR(group(CGPATH_GROUP_CGROUP, "/a.slice/b.service"), "/a.slice/b.service");
	CHECK_EQ_INT(cgpath__parse("", 0, &ci), -EINVAL);
	CHECK_EQ_INT(cgpath__parse("/a\0b", 4, &ci), -EINVAL);
}

TEST(cgpath_containers)
{
	static const struct {
		const char *path, *runtime;
	} cases[] = {
		{ "/system.slice/docker-" ID ".scope", "docker" },
		{ "/docker/" ID, "docker" },
		{ "/system.slice/cri-containerd-" ID ".scope", "containerd" },
		{ "/system.slice/crio-" ID ".scope", "crio" },
		{ "/machine.slice/libpod-" ID ".scope/container", "podman" },
		{ "/libpod_parent/libpod-" ID, "podman" },
		{ "/system.slice/containerd.service/kubepods-burstable-pod" UID_
		  ".slice:cri-containerd:" ID, "containerd" },
		/* docker in docker: the innermost */
		{ "/docker/0000000000000000000000000000000000000000000000000000000000000000/docker/" ID,
		  "docker" },
	};
	struct cgpath_info ci;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ_INT(parse(cases[i].path, &ci), 0);
		CHECK_EQ_STR(ci.runtime, cases[i].runtime);
		CHECK_EQ_STR(ci.container_id, ID);
	}
	CHECK_EQ_STR(group(CGPATH_GROUP_CONTAINER, "/system.slice/docker-" ID ".scope"),
		     "docker:3f4e5d6c7b8a");
	/* Upper-case hex is the same container. */
	parse("/docker/3F4E5D6C7B8A9F0E1D2C3B4A5968778695A4B3C2D1E0F9E8D7C6B5A493827160", &ci);
	CHECK_EQ_STR(ci.container_id, ID);
	/* Not containers: conmon's scopes, a short id, a bare id outside docker and pods. */
	parse("/machine.slice/libpod-conmon-" ID ".scope", &ci);
	CHECK_EQ_STR(ci.runtime, "");
	parse("/system.slice/crio-conmon-" ID ".scope", &ci);
	CHECK_EQ_STR(ci.runtime, "");
	parse("/system.slice/docker-3f4e5d6c7b8a.scope", &ci);
	CHECK_EQ_STR(ci.runtime, "");
	parse("/other/" ID, &ci);
	CHECK_EQ_STR(ci.runtime, "");
	CHECK_EQ_STR(group(CGPATH_GROUP_CONTAINER, "/system.slice/cron.service"), "[no container]");
}

TEST(cgpath_pods)
{
	struct cgpath_info ci;

	parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	      ".slice/cri-containerd-" ID ".scope", &ci);
	CHECK_EQ_STR(ci.pod_uid, UID);
	CHECK_EQ_STR(ci.qos, "burstable");
	CHECK_EQ_STR(ci.runtime, "containerd");
	parse("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope", &ci);
	CHECK_EQ_STR(ci.pod_uid, UID);
	CHECK_EQ_STR(ci.qos, "guaranteed");
	CHECK_EQ_STR(ci.runtime, "crio");
	parse("/kubepods/besteffort/pod" UID "/" ID, &ci);
	CHECK_EQ_STR(ci.pod_uid, UID);
	CHECK_EQ_STR(ci.qos, "besteffort");
	CHECK_EQ_STR(ci.runtime, "cri");
	parse("/kubepods/pod" UID "/" ID, &ci);
	CHECK_EQ_STR(ci.qos, "guaranteed");
	CHECK_EQ_STR(group(CGPATH_GROUP_POD, "/kubepods/burstable/pod" UID "/" ID),
		     "pod:" UID " (burstable)");
	/* A pod directory outside kubepods is no pod. */
	parse("/other/pod" UID "/" ID, &ci);
	CHECK_EQ_STR(ci.pod_uid, "");
	CHECK_EQ_STR(group(CGPATH_GROUP_POD, "/system.slice"), "[no pod]");
}

TEST(cgpath_group_by)
{
	int g = -1;

	CHECK_EQ_INT(cgpath__parse_group_by("none", &g), 0);
	CHECK_EQ_INT(g, CGPATH_GROUP_NONE);
	CHECK_EQ_INT(cgpath__parse_group_by("container", &g), 0);
	CHECK_EQ_INT(g, CGPATH_GROUP_CONTAINER);
	CHECK_EQ_INT(cgpath__parse_group_by("pods", &g), -EINVAL);
	CHECK_EQ_INT(cgpath__parse_group_by("", &g), -EINVAL);
}
