// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cgroup path parser (cgpath.h). Each component is looked at on its own, outermost first,
 * so the innermost unit, container and pod win; nothing here allocates or reads a file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sample/cgpath.h"

struct comp {
	const char *s;
	size_t len;
};

static bool has_prefix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.len >= n && !memcmp(c.s, p, n);
}

static bool has_suffix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.len >= n && !memcmp(c.s + c.len - n, p, n);
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return n > 0;
}

static void copy(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void set_container(struct cgpath_info *ci, const char *runtime, const char *id)
{
	size_t i;

	snprintf(ci->runtime, sizeof(ci->runtime), "%s", runtime);
	for (i = 0; i < CGPATH_ID_LEN; i++)
		ci->container_id[i] = id[i] >= 'A' && id[i] <= 'F' ? id[i] - 'A' + 'a' : id[i];
	ci->container_id[CGPATH_ID_LEN] = '\0';
}

/* prefix<64 hex>suffix: the id, or NULL. */
static const char *id_between(struct comp c, const char *prefix, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (c.len != p + CGPATH_ID_LEN + s || !has_prefix(c, prefix) || !has_suffix(c, suffix) ||
	    !is_hex(c.s + p, CGPATH_ID_LEN))
		return NULL;
	return c.s + p;
}

/* A container component; prev is the component above it (len 0 at the top). */
static void match_container(struct cgpath_info *ci, struct comp c, struct comp prev)
{
	static const struct {
		const char *prefix, *suffix, *runtime;
	} scopes[] = {
		{ "docker-", ".scope", "docker" },
		{ "cri-containerd-", ".scope", "containerd" },
		{ "crio-", ".scope", "crio" },
		{ "libpod-", ".scope", "podman" },
		{ "libpod-", "", "podman" },		/* podman, cgroupfs driver */
	};
	static const struct {
		const char *sep, *runtime;
	} colon[] = {
		{ ":cri-containerd:", "containerd" },
		{ ":crio:", "crio" },
		{ ":docker:", "docker" },
	};
	const char *id;
	size_t i;

	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		id = id_between(c, scopes[i].prefix, scopes[i].suffix);
		if (id) {
			set_container(ci, scopes[i].runtime, id);
			return;
		}
	}
	/* containerd with the systemd driver under a v1-style parent: SLICE:cri-containerd:ID */
	for (i = 0; i < sizeof(colon) / sizeof(colon[0]); i++) {
		size_t n = strlen(colon[i].sep);

		if (c.len > CGPATH_ID_LEN + n &&
		    !memcmp(c.s + c.len - CGPATH_ID_LEN - n, colon[i].sep, n) &&
		    is_hex(c.s + c.len - CGPATH_ID_LEN, CGPATH_ID_LEN)) {
			set_container(ci, colon[i].runtime, c.s + c.len - CGPATH_ID_LEN);
			return;
		}
	}
	/* cgroupfs driver: a bare id under /docker/ or under a pod. */
	if (c.len == CGPATH_ID_LEN && is_hex(c.s, c.len)) {
		if (prev.len == 6 && !memcmp(prev.s, "docker", 6))
			set_container(ci, "docker", c.s);
		else if (ci->pod_uid[0])
			set_container(ci, "cri", c.s);
	}
}

static bool valid_uid(const char *s, size_t n)
{
	size_t i;

	if (!n || n >= sizeof(((struct cgpath_info *)0)->pod_uid))
		return false;
	for (i = 0; i < n; i++)
		if (!is_hex(s + i, 1) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static void set_pod(struct cgpath_info *ci, const char *uid, size_t n, const char *qos)
{
	size_t i;

	copy(ci->pod_uid, sizeof(ci->pod_uid), uid, n);
	for (i = 0; ci->pod_uid[i]; i++)
		if (ci->pod_uid[i] == '_')
			ci->pod_uid[i] = '-';
	snprintf(ci->qos, sizeof(ci->qos), "%s", qos);
}

/*
 * kubepods components. *qos tracks the class seen so far below kubepods ("" = none yet, which
 * makes a pod guaranteed); *in_kube whether kubepods was seen at all.
 */
static void match_pod(struct cgpath_info *ci, struct comp c, bool *in_kube, const char **qos)
{
	static const char *const classes[] = { "burstable", "besteffort" };
	struct comp body = c;
	size_t i;

	if ((c.len == 8 || c.len == 14) && has_prefix(c, "kubepods") &&
	    (c.len == 8 || has_suffix(c, ".slice"))) {
		*in_kube = true;
		*qos = "";
		return;
	}
	if (!*in_kube)
		return;
	/* systemd driver: kubepods-[CLASS-]pod<uid>.slice and kubepods-CLASS.slice */
	if (has_prefix(c, "kubepods-") && has_suffix(c, ".slice")) {
		body.s = c.s + 9;
		body.len = c.len - 9 - 6;
	}
	for (i = 0; i < 2; i++) {
		size_t n = strlen(classes[i]);

		if (body.len == n && has_prefix(body, classes[i])) {
			*qos = classes[i];
			return;
		}
		if (body.len > n + 1 && has_prefix(body, classes[i]) && body.s[n] == '-') {
			*qos = classes[i];
			body.s += n + 1;
			body.len -= n + 1;
			break;
		}
	}
	if (has_prefix(body, "pod") && valid_uid(body.s + 3, body.len - 3))
		set_pod(ci, body.s + 3, body.len - 3, **qos ? *qos : "guaranteed");
}

int cgpath__parse(const char *path, size_t len, struct cgpath_info *out)
{
	struct comp prev = { path, 0 };
	const char *qos = "";
	bool in_kube = false;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (!len || memchr(path, '\0', len))
		return -EINVAL;
	while (i < len) {
		struct comp c;

		while (i < len && path[i] == '/')
			i++;
		c.s = path + i;
		while (i < len && path[i] != '/')
			i++;
		c.len = path + i - c.s;
		if (!c.len)
			break;
		if (c.len < sizeof(out->unit) && (has_suffix(c, ".service") || has_suffix(c, ".scope")))
			copy(out->unit, sizeof(out->unit), c.s, c.len);
		else if (c.len < sizeof(out->slice) && has_suffix(c, ".slice"))
			copy(out->slice, sizeof(out->slice), c.s, c.len);
		match_pod(out, c, &in_kube, &qos);
		match_container(out, c, prev);
		prev = c;
	}
	return 0;
}

void cgpath__container_name(const struct cgpath_info *ci, char *buf, size_t size)
{
	if (!size)
		return;
	if (!ci->runtime[0]) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, size, "%s:%.12s", ci->runtime, ci->container_id);
}

const char *const cgpath_group_names[CGPATH_GROUP_MAX] = {
	[CGPATH_GROUP_NONE] = "none",
	[CGPATH_GROUP_CGROUP] = "cgroup",
	[CGPATH_GROUP_UNIT] = "unit",
	[CGPATH_GROUP_CONTAINER] = "container",
	[CGPATH_GROUP_POD] = "pod",
};

int cgpath__parse_group_by(const char *s, int *group)
{
	int i;

	for (i = 0; i < CGPATH_GROUP_MAX; i++) {
		if (!strcmp(s, cgpath_group_names[i])) {
			*group = i;
			return 0;
		}
	}
	return -EINVAL;
}

void cgpath__group_name(int group, const char *path, const struct cgpath_info *ci, char *buf,
			size_t size)
{
	switch (group) {
	case CGPATH_GROUP_CGROUP:
		snprintf(buf, size, "%s", path);
		break;
	case CGPATH_GROUP_UNIT:
		snprintf(buf, size, "%s", ci->unit[0] ? ci->unit : ci->slice[0] ? ci->slice
									    : "[no unit]");
		break;
	case CGPATH_GROUP_CONTAINER:
		if (ci->runtime[0])
			cgpath__container_name(ci, buf, size);
		else
			snprintf(buf, size, "[no container]");
		break;
	case CGPATH_GROUP_POD:
		if (ci->pod_uid[0])
			snprintf(buf, size, "pod:%s (%s)", ci->pod_uid, ci->qos);
		else
			snprintf(buf, size, "[no pod]");
		break;
	default:
		snprintf(buf, size, "%s", "");
	}
}
