// SPDX-License-Identifier: GPL-2.0-only
/* cgroup paths (/proc/PID/cgroup, cgroupfs names anyone can create): cgpath__parse. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz.h"
#include "sample/cgpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgpath_info ci;
	char name[512];
	char *path;
	int r, g;

	fuzz__quiet();
	/* A buffer of its own size: reading past it is caught. */
	path = malloc(size ? size : 1);
	if (!path)
		return 0;
	memcpy(path, data, size);
	r = cgpath__parse(path, size, &ci);
	if (r != 0 && r != -EINVAL)
		abort();
	/* Every field is a terminated string within its array, whatever the input. */
	if (memchr(ci.unit, 0, sizeof(ci.unit)) == NULL ||
	    memchr(ci.slice, 0, sizeof(ci.slice)) == NULL ||
	    memchr(ci.runtime, 0, sizeof(ci.runtime)) == NULL ||
	    memchr(ci.container_id, 0, sizeof(ci.container_id)) == NULL ||
	    memchr(ci.pod_uid, 0, sizeof(ci.pod_uid)) == NULL ||
	    memchr(ci.qos, 0, sizeof(ci.qos)) == NULL)
		abort();
	if (ci.runtime[0] && strlen(ci.container_id) != CGPATH_ID_LEN)
		abort();
	if (ci.pod_uid[0] && !ci.qos[0])
		abort();
	for (g = 0; g < CGPATH_GROUP_MAX; g++) {
		cgpath__group_name(g, "/x", &ci, name, sizeof(name));
		if (!memchr(name, 0, sizeof(name)))
			abort();
	}
	free(path);
	return 0;
}
