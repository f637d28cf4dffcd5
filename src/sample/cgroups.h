/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cgroup v2 hierarchy as flamed sees it: where it is mounted (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts), what a --cgroup argument names (a path or a systemd
 * unit found by name), and the path of a cgroup id that BPF recorded. Ids are the kernfs node
 * ids that bpf_get_current_cgroup_id() returns, read with name_to_handle_at(); the id -> path
 * map is filled by walking the hierarchy, again on a miss but at most once a second.
 */
#ifndef FLAMED_CGROUPS_H
#define FLAMED_CGROUPS_H

#include <stdint.h>

/* Bounds of one walk of the hierarchy. */
#define CGROUPS_MAX_DEPTH 32
#define CGROUPS_MAX_NODES 65536

struct cgroups;

struct cgroups_target {
	uint64_t id;
	uint32_t level;		/* components below the root: the root is 0 */
	char path[4096];	/* relative to the mount, "/" for the root */
};

/*
 * Finds the cgroup v2 mount. NULL with *err set and a message logged: -ENOENT on a host with
 * cgroup v1 only, -ENOMEM.
 */
struct cgroups *cgroups__new(int *err);
void cgroups__free(struct cgroups *cg);
const char *cgroups__mount(const struct cgroups *cg);

/*
 * What a --cgroup argument names: an absolute path under the mount, a path relative to the
 * mount (with or without a leading '/'), or NAME.service|.scope|.slice looked up by name
 * anywhere in the hierarchy (every match). Fills up to max targets; their number (>= 1), or
 * -ENOENT / -EINVAL / -E2BIG with a message logged.
 */
int cgroups__resolve(struct cgroups *cg, const char *arg, struct cgroups_target *t, int max);

/*
 * The path of cgroup id relative to the mount ("/" for the root), valid until the next call;
 * NULL when no cgroup has that id (it may have been removed since).
 */
const char *cgroups__path(struct cgroups *cg, uint64_t id);

#endif
