// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unwind-table chunk maker (src/service/mapmaker.c): a forked process that keeps CAP_BPF
 * alone and makes BPF arrays of the chunk's shape only, a fixed number in all, so a flamed with
 * no BPF privilege left still grows its tables and a flamed taken over gets nothing more.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "harness.h"
#include "service/mapmaker.h"
#include "../../bpf/unwind.h"

/*
 * The maker: the only child of ours (every process in /proc is looked at: on a busy machine
 * its pid may be anywhere, the pids having wrapped). Its effective capabilities, and
 * no_new_privs in *nnp; ~0 when not found.
 */
static unsigned long long maker_caps(pid_t self, int *nnp)
{
	char path[300], line[256];
	unsigned long long eff = ~0ULL;
	struct dirent *de;
	DIR *d = opendir("/proc");

	*nnp = -1;
	while (d && (de = readdir(d))) {
		int ppid = -1, n = -1;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		eff = ~0ULL;
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "PPid: %d", &ppid);
			sscanf(line, "CapEff: %llx", &eff);
			sscanf(line, "NoNewPrivs: %d", &n);
		}
		fclose(f);
		if (ppid == self) {
			*nnp = n;
			closedir(d);
			return eff;
		}
	}
	if (d)
		closedir(d);
	return ~0ULL;
}

TEST(mapmaker_chunks_of_one_shape_bounded)
{
	const uint32_t sizes[2] = { 8, 16 };
	struct mapmaker *m;
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err, fd, fd2, nnp;
	void *mem;

	if (geteuid()) {
		SKIP("making BPF maps needs root");
		return;
	}
	m = mapmaker__start(sizes, 2, &err);
	CHECK(m != NULL);
	if (!m)
		return;
	fd = mapmaker__chunk(m, 8);
	CHECK(fd >= 0);
	memset(&info, 0, sizeof(info));
	CHECK_EQ_INT(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	CHECK_EQ_INT(info.type, BPF_MAP_TYPE_ARRAY);
	CHECK_EQ_INT(info.value_size, 8);
	CHECK_EQ_INT(info.max_entries, UNWIND_CHUNK);
	CHECK(info.map_flags & BPF_F_MMAPABLE);
	/* Writable through a mapping, as the sampler fills it. */
	mem = mmap(NULL, (size_t)UNWIND_CHUNK * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(mem != MAP_FAILED);
	if (mem != MAP_FAILED) {
		((volatile uint64_t *)mem)[UNWIND_CHUNK - 1] = 42;
		munmap(mem, (size_t)UNWIND_CHUNK * 8);
	}
	/* Another shape is refused, and so is a map past the count. */
	CHECK_EQ_INT(mapmaker__chunk(m, 4096), -EINVAL);
	fd2 = mapmaker__chunk(m, 16);
	CHECK(fd2 >= 0);
	CHECK_EQ_INT(mapmaker__chunk(m, 8), -ENOSPC);
	/* The maker holds CAP_BPF (39) alone, for good. */
	CHECK_EQ_INT((long long)maker_caps(getpid(), &nnp), (long long)(1ULL << 39));
	CHECK_EQ_INT(nnp, 1);
	close(fd);
	if (fd2 >= 0)
		close(fd2);
	mapmaker__free(m);
	mapmaker__free(NULL);
}
