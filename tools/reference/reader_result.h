/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one line a benchmark reader prints when it is done (tools/bench; the Swift side decodes it
 * as `BenchReaderResult`, Sources/PteInspectKit/Bench/BenchReaderResult.swift):
 *   {"reader":"NAME","records":N,"seconds":S,"user":U,"system":Y,"maxrss_kib":K,"bytes":B}
 * seconds: wall time from opening the first file to the last record (CLOCK_MONOTONIC); user and
 * system: this process's CPU time over the same span (getrusage); maxrss_kib: its peak RSS at the
 * end, VmHWM of /proc/self/status (not getrusage's ru_maxrss: that one survives execve() and
 * holds the RSS of the parent a posix_spawn()ed reader started as; VmHWM is the new mm's own);
 * bytes: what the reader received from the kernel (netlink payload or pread bytes).
 */
#ifndef PTEINSPECT_READER_RESULT_H
#define PTEINSPECT_READER_RESULT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/resource.h>

struct reader_clock {
	struct timespec wall;
	struct rusage usage;
};

static inline void reader_clock_start(struct reader_clock *c)
{
	getrusage(RUSAGE_SELF, &c->usage);
	clock_gettime(CLOCK_MONOTONIC, &c->wall);
}

static inline double reader_tv(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* VmHWM of /proc/self/status, KiB; -1 if unreadable */
static inline long reader_hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *status = fopen("/proc/self/status", "r");

	if (!status)
		return -1;
	while (fgets(line, sizeof(line), status))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(status);
	return kib;
}

static inline void reader_result_print(const char *reader, const struct reader_clock *c,
				       uint64_t records, uint64_t bytes)
{
	struct timespec now;
	struct rusage usage;

	clock_gettime(CLOCK_MONOTONIC, &now);
	getrusage(RUSAGE_SELF, &usage);
	printf("{\"reader\":\"%s\",\"records\":%llu,\"seconds\":%.6f,\"user\":%.6f,\"system\":%.6f,"
	       "\"maxrss_kib\":%ld,\"bytes\":%llu}\n",
	       reader, (unsigned long long)records,
	       (double)(now.tv_sec - c->wall.tv_sec) + (double)(now.tv_nsec - c->wall.tv_nsec) / 1e9,
	       reader_tv(usage.ru_utime) - reader_tv(c->usage.ru_utime),
	       reader_tv(usage.ru_stime) - reader_tv(c->usage.ru_stime),
	       reader_hwm_kib(), (unsigned long long)bytes);
	fflush(stdout);
}

#endif
