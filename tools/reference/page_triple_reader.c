// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's reference reader (tools/bench, reader "d"): /proc/PID/pagemap +
 * /proc/kpageflags + /proc/kpagecount for [START, END) of one process, read the way the kernel's
 * own tools/mm/page-types.c does (6.12: walk_task() -> walk_vma() -> walk_pfn()): the VMAs from
 * /proc/PID/maps, pagemap in batches of PAGEMAP_BATCH (64 Ki) entries, and for present pages
 * kpageflags and kpagecount by PFN. One change, which makes it faster than page-types: where
 * page-types calls walk_pfn(..., count = 1) for every page (two preads per page), this reads
 * kpageflags and kpagecount once per run of consecutive PFNs within a batch.
 *
 * Each present or swapped page becomes one record of 14 fields (below), handed to a sink the
 * compiler cannot drop. Prints one result line (reader_result.h).
 *   page_triple_reader PID START END      (hex or decimal addresses; END exclusive)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader_result.h"

/* Documentation/admin-guide/mm/pagemap.rst */
#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_MMAP_EXCLUSIVE	(1ULL << 56)
#define PM_UFFD_WP		(1ULL << 57)
#define PM_FILE			(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)
#define PAGEMAP_BATCH		(64 << 10)	/* page-types.c */
#define MAX_VMAS		65536

struct record {
	uint64_t addr, word, pfn, swap_type, swap_offset, kpageflags, kpagecount;
	uint8_t present, swapped, soft_dirty, exclusive, uffd_wp, file, has_page;
};

static volatile uint64_t sink;
static uint64_t records, bytes;
static unsigned long page_size;
static int pagemap_fd, kpageflags_fd, kpagecount_fd;
static uint64_t pagemap_buf[PAGEMAP_BATCH], flags_buf[PAGEMAP_BATCH], count_buf[PAGEMAP_BATCH];

static void consume(const struct record *r)
{
	sink += r->addr ^ r->pfn ^ r->kpageflags ^ r->kpagecount ^ r->swap_offset ^ r->present ^
		r->exclusive ^ r->soft_dirty ^ r->file;
	records++;
}

static void die(const char *what)
{
	fprintf(stderr, "page_triple_reader: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* pread of @count words at word @index; all or die (page-types' checked_pread()). */
static void read_words(int fd, uint64_t *buf, uint64_t index, size_t count, const char *what)
{
	ssize_t got = pread(fd, buf, count * 8, (off_t)(index * 8));

	if (got != (ssize_t)(count * 8))
		die(what);
	bytes += (uint64_t)got;
}

/* One pagemap batch of @count pages from virtual page @vpage. */
static void walk_batch(uint64_t vpage, size_t count)
{
	size_t i = 0;

	read_words(pagemap_fd, pagemap_buf, vpage, count, "pread pagemap");
	while (i < count) {
		uint64_t word = pagemap_buf[i], pfn = word & PM_PFN_MASK;
		size_t run = 1, j;

		if (!(word & (PM_PRESENT | PM_SWAP))) {
			i++;
			continue;
		}
		if ((word & PM_PRESENT) && pfn) {
			/* the run of consecutive PFNs that starts here */
			while (i + run < count && (pagemap_buf[i + run] & PM_PRESENT) &&
			       (pagemap_buf[i + run] & PM_PFN_MASK) == pfn + run)
				run++;
			read_words(kpageflags_fd, flags_buf, pfn, run, "pread kpageflags");
			read_words(kpagecount_fd, count_buf, pfn, run, "pread kpagecount");
		}
		for (j = 0; j < run; j++) {
			uint64_t w = pagemap_buf[i + j];
			struct record r = {
				.addr = (vpage + i + j) * page_size,
				.word = w,
				.present = !!(w & PM_PRESENT),
				.swapped = !!(w & PM_SWAP),
				.soft_dirty = !!(w & PM_SOFT_DIRTY),
				.exclusive = !!(w & PM_MMAP_EXCLUSIVE),
				.uffd_wp = !!(w & PM_UFFD_WP),
				.file = !!(w & PM_FILE),
			};

			if (r.present) {
				r.pfn = w & PM_PFN_MASK;
				if (r.pfn) {
					r.kpageflags = flags_buf[j];
					r.kpagecount = count_buf[j];
					r.has_page = 1;
				}
			} else {
				r.swap_type = w & 0x1f;
				r.swap_offset = (w & PM_PFN_MASK) >> 5;
			}
			consume(&r);
		}
		i += run;
	}
}

int main(int argc, char **argv)
{
	static uint64_t vma_start[MAX_VMAS], vma_end[MAX_VMAS];
	struct reader_clock clock;
	char path[64], line[4096];
	uint64_t start, end;
	int nr_vmas = 0, i;
	FILE *maps;

	if (argc != 4) {
		fprintf(stderr, "usage: page_triple_reader PID START END\n");
		return 2;
	}
	start = strtoull(argv[2], NULL, 0);
	end = strtoull(argv[3], NULL, 0);
	page_size = (unsigned long)sysconf(_SC_PAGESIZE);
	reader_clock_start(&clock);

	snprintf(path, sizeof(path), "/proc/%s/pagemap", argv[1]);
	pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		die(path);
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	kpagecount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	if (kpageflags_fd < 0 || kpagecount_fd < 0)
		die("/proc/kpageflags or /proc/kpagecount");
	/* page-types.c parse_pid(): the VMAs, so holes are never read */
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	maps = fopen(path, "r");
	if (!maps)
		die(path);
	while (fgets(line, sizeof(line), maps) && nr_vmas < MAX_VMAS) {
		unsigned long long lo, hi;

		if (sscanf(line, "%llx-%llx", &lo, &hi) == 2) {
			vma_start[nr_vmas] = lo;
			vma_end[nr_vmas] = hi;
			nr_vmas++;
		}
	}
	fclose(maps);

	for (i = 0; i < nr_vmas; i++) {
		uint64_t lo = vma_start[i] > start ? vma_start[i] : start;
		uint64_t hi = vma_end[i] < end ? vma_end[i] : end;
		uint64_t vpage, last;

		if (lo >= hi)
			continue;
		for (vpage = lo / page_size, last = hi / page_size; vpage < last;) {
			size_t count = last - vpage < PAGEMAP_BATCH ? last - vpage : PAGEMAP_BATCH;

			walk_batch(vpage, count);
			vpage += count;
		}
	}
	reader_result_print("reference C (pagemap+kpageflags+kpagecount)", &clock, records, bytes);
	return 0;
}
