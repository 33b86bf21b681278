/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pteinspect: generic-netlink protocol between the pteinspect module and its clients.
 *
 * This header is the single source of truth for the protocol: the module includes it, the Swift
 * client imports it through a C module, and kmod/pteinspect.yaml (YNL spec) is checked against it.
 * Add new values at the end of an enum only; never renumber.
 */
#ifndef _UAPI_LINUX_PTEINSPECT_H
#define _UAPI_LINUX_PTEINSPECT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PTEINSPECT_GENL_NAME		"pteinspect"
/*
 * Bumped on any incompatible change of commands or attribute meaning.
 * 2: GET_PTES replies carry their entries as PTEINSPECT_A_ENTRY structs, many per message (1: one
 *    message per entry, one attribute per field).
 * Additions that keep the version (a client that does not use them sees no change):
 *   module 0.4.0: GET_PTES's READ_DATA flag and struct pteinspect_entry.data (FEAT_PAGE_DATA).
 */
#define PTEINSPECT_GENL_VERSION		2

enum pteinspect_cmd {
	PTEINSPECT_CMD_UNSPEC,
	/* doit: reply carries MODULE_VERSION, KERNEL_RELEASE, PAGE_SIZE, FEATURES, PROTOCOL. */
	PTEINSPECT_CMD_GET_INFO,
	/*
	 * dump: request carries PID, START, END (and optionally READ_DATA); every non-none entry in
	 * [START, END), ascending by address, holes skipped, as one PTEINSPECT_A_ENTRY (struct
	 * pteinspect_entry) each, as many per reply message as the dump's skb holds.
	 */
	PTEINSPECT_CMD_GET_PTES,
	/*
	 * dump: request carries PID (START, END optional: default the whole address space); one
	 * reply message per VMA that overlaps [START, END), ascending.
	 */
	PTEINSPECT_CMD_GET_VMAS,
	/*
	 * dump: request carries PID and START (the address of one page of that process); one reply
	 * message per VMA the kernel's reverse map would visit for the folio mapped there, with the
	 * address it computes and whether the entry there really maps the folio.
	 */
	PTEINSPECT_CMD_GET_RMAP,

	__PTEINSPECT_CMD_MAX,
	PTEINSPECT_CMD_MAX = __PTEINSPECT_CMD_MAX - 1
};

/* Attributes of requests and replies (one attribute space for the whole family). */
enum pteinspect_attr {
	PTEINSPECT_A_UNSPEC,
	PTEINSPECT_A_PAD,

	/* GET_INFO reply */
	PTEINSPECT_A_MODULE_VERSION,	/* string */
	PTEINSPECT_A_KERNEL_RELEASE,	/* string: utsname()->release */
	PTEINSPECT_A_PAGE_SIZE,		/* u32 */
	PTEINSPECT_A_FEATURES,		/* u64: PTEINSPECT_FEAT_* */
	PTEINSPECT_A_PROTOCOL,		/* u32: PTEINSPECT_GENL_VERSION of the module */

	/* GET_PTES request */
	PTEINSPECT_A_PID,		/* u32: pid in the caller's pid namespace */
	PTEINSPECT_A_START,		/* u64: page aligned, inclusive */
	PTEINSPECT_A_END,		/* u64: page aligned, exclusive, > START; clamped to TASK_SIZE */

	/*
	 * Per-entry attributes. GET_RMAP replies use ADDR, PFN, INDEX, MAPPING_KIND, MAPPING_ID;
	 * the others were GET_PTES's in protocol 1 and are the names of struct pteinspect_entry's
	 * fields now (never sent since protocol 2; numbers kept).
	 */
	PTEINSPECT_A_ADDR,		/* u64: first virtual address the entry maps */
	PTEINSPECT_A_LEVEL,		/* u8: PTEINSPECT_LEVEL_* */
	PTEINSPECT_A_RAW,		/* u64: pte_val()/pmd_val() as read under the page-table lock */
	PTEINSPECT_A_ENTRY_KIND,	/* u8: PTEINSPECT_KIND_* */
	PTEINSPECT_A_ENTRY_FLAGS,	/* u64: PTEINSPECT_EF_* decoded from the entry */
	PTEINSPECT_A_SWAP_TYPE,		/* u32: swp_type(), non-present entries only */
	PTEINSPECT_A_SWAP_OFFSET,	/* u64: swp_offset(), non-present entries only */
	PTEINSPECT_A_PFN,		/* u64: present entries and pfn-carrying swap entries */
	/* struct page state: present only when the PFN has an online struct page */
	PTEINSPECT_A_PAGE_FLAGS,	/* u64: PTEINSPECT_PF_* */
	PTEINSPECT_A_MAPCOUNT,		/* s32: this page's mapcount: PTEs mapping it + PMDs mapping its
					 * folio (page_mapcount() on 6.1, the same count as
					 * folio_precise_page_mapcount() on 6.12: /proc/kpagecount) */
	PTEINSPECT_A_REFCOUNT,		/* s32: folio_ref_count(); the module holds no reference */
	PTEINSPECT_A_INDEX,		/* u64: folio->index + the page's offset in the folio
					 * (page_to_index() on 6.1); only when MAPPING_KIND is
					 * ANON, KSM or FILE: elsewhere the word is no index */

	/* GET_PTES reply, present entries: decisions recomputed with the kernel's own rules */
	PTEINSPECT_A_NORMAL_PAGE,	/* u8: PTEINSPECT_NORMAL_*: what vm_normal_page() decides, why */
	PTEINSPECT_A_PFN_LINEAR,	/* u8: 1 if pfn == vm_pgoff + (addr - vm_start) >> PAGE_SHIFT */
	PTEINSPECT_A_LINEAR_INDEX,	/* u64: linear_page_index(vma, addr) */
	PTEINSPECT_A_MAPPING_KIND,	/* u8: PTEINSPECT_MAPPING_*: what folio->mapping points to */
	PTEINSPECT_A_MAPPING_ID,	/* u64: keyed hash of folio->mapping without its flag bits */

	/* GET_VMAS reply: one VMA per message */
	PTEINSPECT_A_VMA_START,		/* u64 */
	PTEINSPECT_A_VMA_END,		/* u64 */
	PTEINSPECT_A_VMA_PGOFF,		/* u64: vm_pgoff */
	PTEINSPECT_A_VMA_FLAGS,		/* u64: vm_flags as the kernel holds them (config dependent) */
	PTEINSPECT_A_VMA_FLAGS_DECODED,	/* u64: PTEINSPECT_VMF_*, stable across kernels */
	PTEINSPECT_A_VMA_ID,		/* u64: keyed hash of the VMA */
	PTEINSPECT_A_ANON_VMA_ID,	/* u64: keyed hash of vma->anon_vma; absent when NULL */
	PTEINSPECT_A_ANON_VMA_ROOT_ID,	/* u64: keyed hash of vma->anon_vma->root */
	PTEINSPECT_A_ANON_VMA_CHAIN,	/* nested: one ANON_VMA_ID per anon_vma_chain entry */
	PTEINSPECT_A_ANON_VMA_CHAIN_LEN, /* u32: entries on the chain (the nest may stop earlier) */
	PTEINSPECT_A_VMA_NAME,		/* string: file path, [heap], [stack], [vdso]...; absent for anon */

	/* GET_RMAP reply: one visited VMA per message (with VMA_*, ADDR, PFN, INDEX, MAPPING_*) */
	PTEINSPECT_A_RMAP_PID,		/* u32: a process using that mm, caller's pid ns; 0 if none */
	PTEINSPECT_A_MM_ID,		/* u64: keyed hash of the mm */
	PTEINSPECT_A_RMAP_MAPPED,	/* u8: 1 if the entry at ADDR maps a page of the folio */
	PTEINSPECT_A_FOLIO_PAGES,	/* u32: pages in the folio (folio_nr_pages()) */

	/* GET_PTES reply, with the struct page state (added in module 0.2.0, protocol 1) */
	PTEINSPECT_A_FOLIO_ORDER,	/* u8: folio_order(): 0 small page, 9 a PMD-sized THP, 2..8 an
					 * mTHP (16 KiB .. 1 MiB anonymous folios, v6.8+) */
	PTEINSPECT_A_FOLIO_MAPCOUNT,	/* s32: folio_mapcount(): entries mapping any page of the
					 * folio (one counter for large folios since v6.10) */
	/* GET_PTES reply, ENTRY_KIND == PTE_MARKER */
	PTEINSPECT_A_PTE_MARKER,	/* u32: PTEINSPECT_MARKER_*: the marker bits the kernel has */

	/* GET_PTES reply (protocol 2): one page-table entry, repeated in a message */
	PTEINSPECT_A_ENTRY,		/* binary: struct pteinspect_entry */

	/*
	 * GET_PTES request (module 0.4.0, FEAT_PAGE_DATA): flag. Also read the first 4 bytes of
	 * each present anonymous page (KSM pages included) and of the zero page, through the
	 * kernel's own mapping of the page, never the target's: entry.data, HAS_DATA. Needs
	 * CAP_SYS_PTRACE besides CAP_SYS_ADMIN (page contents, as /proc/PID/mem): EPERM.
	 */
	PTEINSPECT_A_READ_DATA,		/* flag */
	PTEINSPECT_A_VMA_ANON_PGOFF,	/* u64: the VMA's anonymous page offset, vma_start_anon_pgoff():
					 * where its anonymous folios' index counts from. Only on a kernel
					 * that keeps it apart from vm_pgoff (v7.x; module 0.6.0); before,
					 * vm_pgoff is both (and for an anonymous VMA they are equal) */

	__PTEINSPECT_A_MAX,
	PTEINSPECT_A_MAX = __PTEINSPECT_A_MAX - 1
};

/*
 * One GET_PTES record (PTEINSPECT_A_ENTRY, exactly sizeof(struct pteinspect_entry) bytes): a run
 * of @count consecutive page-table entries at level PTE (a PMD record always has count 1) that
 * differ from the first, entry i of the run (0 <= i < count), only in
 *   addr + i * PAGE_SIZE, raw + i * raw_step, linear_index + i,
 *   pfn + i (HAS_PFN), swap_offset + i (HAS_SWAP), index + i (HAS_INDEX);
 * every other field is the same. The module appends an entry to the run before it only when the
 * entry is exactly that (compared field by field, nothing assumed about how an architecture
 * encodes a PTE), so expanding a run gives back every entry as read; populated anonymous memory
 * with consecutive PFNs gives long runs (in the spirit of PAGEMAP_SCAN's struct page_region).
 * Fields are in host byte order like every netlink attribute; a field whose group is not in @has
 * is 0, as is, in a run of one, @raw_step. With READ_DATA, @data is one of the fields that stay:
 * a run holds pages whose first 4 bytes are equal. The attribute payload is 4-byte aligned
 * (NLA_ALIGNTO): read the u64 fields unaligned. Protocol 1 sent one message per entry with an
 * attribute per field: 172 bytes an entry (tools/bench, README).
 */
struct pteinspect_entry {
	__u64 addr;		/* first virtual address the (first) entry maps */
	__u64 raw;		/* pte_val()/pmd_val() as read under the page-table lock */
	__u64 pfn;		/* HAS_PFN: present entries and pfn-carrying swap entries */
	__u64 swap_offset;	/* HAS_SWAP: swp_offset(), non-present entries */
	__u64 linear_index;	/* linear_page_index(vma, addr) */
	__u64 index;		/* HAS_INDEX: folio->index + the page's offset in the folio, only
				 * when mapping_kind is ANON, KSM or FILE (elsewhere the word is
				 * no index) */
	__u64 mapping_id;	/* HAS_MAPPING_ID: keyed hash of folio->mapping without its flag
				 * bits (an anon page's equals its anon_vma's ANON_VMA_ID) */
	__s64 raw_step;		/* raw of entry i + 1 minus raw of entry i (count > 1) */
	__u32 entry_flags;	/* PTEINSPECT_EF_* decoded from the entry */
	__u32 page_flags;	/* HAS_PAGE: PTEINSPECT_PF_* */
	__s32 mapcount;		/* HAS_PAGE: this page's mapcount, PTEs mapping it + PMDs mapping
				 * its folio (page_mapcount() on 6.1, the count of
				 * folio_precise_page_mapcount() on 6.12 and 7.3: /proc/kpagecount);
				 * 0 and meaningless with PTEINSPECT_PF_NO_PAGE_MAPCOUNT */
	__s32 folio_mapcount;	/* HAS_PAGE: folio_mapcount() */
	__s32 refcount;		/* HAS_PAGE: folio_ref_count(); the module holds no reference */
	__u32 swap_type;	/* HAS_SWAP: swp_type() */
	__u32 count;		/* entries in this run, >= 1 */
	__u8 has;		/* PTEINSPECT_HAS_*: which groups of fields are set */
	__u8 level;		/* PTEINSPECT_LEVEL_* */
	__u8 kind;		/* PTEINSPECT_KIND_* */
	__u8 normal_page;	/* HAS_RULES: PTEINSPECT_NORMAL_*, vm_normal_page()'s decision */
	__u8 pfn_linear;	/* HAS_RULES: 1 if pfn == vm_pgoff + (addr - vm_start) >> PAGE_SHIFT */
	__u8 mapping_kind;	/* HAS_PAGE: PTEINSPECT_MAPPING_* */
	__u8 folio_order;	/* HAS_PAGE: folio_order() */
	__u8 pte_marker;	/* HAS_MARKER: PTEINSPECT_MARKER_* */
	__u32 data;		/* HAS_DATA: the page's first 4 bytes (a u32 in host byte order), read
				 * under the page-table lock through the kernel's mapping of the page
				 * (kmap_local_page()): the target's PTE is not touched, its accessed
				 * bit stays as it was. Only when the request had READ_DATA, only for
				 * anonymous pages and the zero page, never a hardware-poisoned page.
				 * A PMD record's is its first page's. 0 before module 0.4.0 (it was
				 * reserved) */
};

/*
 * The most entries one dump batch reads, so the longest run a record can hold: a batch holds
 * the target's mmap lock for reading, and ends after this many entries even if its skb has room.
 */
#define PTEINSPECT_RUN_MAX		16384

/* struct pteinspect_entry.has */
#define PTEINSPECT_HAS_PFN		(1U << 0) /* pfn */
#define PTEINSPECT_HAS_SWAP		(1U << 1) /* swap_type, swap_offset */
#define PTEINSPECT_HAS_RULES		(1U << 2) /* normal_page, pfn_linear (present entries) */
#define PTEINSPECT_HAS_PAGE		(1U << 3) /* page_flags, mapcounts, refcount, mapping_kind,
						   * folio_order: the PFN has an online struct page */
#define PTEINSPECT_HAS_MAPPING_ID	(1U << 4) /* mapping_id */
#define PTEINSPECT_HAS_MARKER		(1U << 5) /* pte_marker (kind PTE_MARKER) */
#define PTEINSPECT_HAS_INDEX		(1U << 6) /* index */
#define PTEINSPECT_HAS_DATA		(1U << 7) /* data (READ_DATA requests, module 0.4.0) */

/* PTEINSPECT_A_FEATURES */
#define PTEINSPECT_FEAT_SWP_EXCLUSIVE	(1ULL << 0) /* __HAVE_ARCH_PTE_SWP_EXCLUSIVE */
#define PTEINSPECT_FEAT_UFFD_WP		(1ULL << 1) /* CONFIG_HAVE_ARCH_USERFAULTFD_WP */
#define PTEINSPECT_FEAT_THP		(1ULL << 2) /* CONFIG_TRANSPARENT_HUGEPAGE and CPU support */
#define PTEINSPECT_FEAT_SOFT_DIRTY	(1ULL << 3) /* CONFIG_MEM_SOFT_DIRTY */
#define PTEINSPECT_FEAT_PTE_MARKER	(1ULL << 4) /* CONFIG_PTE_MARKER */
#define PTEINSPECT_FEAT_UFFDIO_MOVE	(1ULL << 5) /* kernel >= 6.8 */
#define PTEINSPECT_FEAT_PMD_ENTRIES	(1ULL << 6) /* GET_PTES reports PMD-mapped THPs at LEVEL_PMD */
#define PTEINSPECT_FEAT_VMAS		(1ULL << 7) /* GET_VMAS */
#define PTEINSPECT_FEAT_RMAP		(1ULL << 8) /* GET_RMAP (anon and file folios, not KSM) */
#define PTEINSPECT_FEAT_FIXTURES	(1ULL << 9) /* /dev/pteinspect: PFNMAP mmap, PIN/UNPIN */
#define PTEINSPECT_FEAT_PAGE_DATA	(1ULL << 10) /* GET_PTES READ_DATA, entry.data (0.4.0) */

/*
 * PTEINSPECT_A_NORMAL_PAGE: vm_normal_page() / vm_normal_page_pmd() recomputed (mm/memory.c,
 * 6.1). NORMAL means the VM treats the page as mapped by this entry; every other value is a
 * reason it returns NULL (or, for FIND_SPECIAL_PAGE, defers to the driver, which pteinspect does
 * not call).
 */
enum pteinspect_normal {
	PTEINSPECT_NORMAL_PAGE = 0,
	PTEINSPECT_NORMAL_SPECIAL_PFNMAP,	/* special entry in a VM_PFNMAP/VM_MIXEDMAP VMA */
	PTEINSPECT_NORMAL_ZERO_PAGE,		/* the (huge) zero page */
	PTEINSPECT_NORMAL_DEVMAP,		/* pte_devmap()/pmd_devmap(): legacy ZONE_DEVICE */
	PTEINSPECT_NORMAL_FIND_SPECIAL_PAGE,	/* special, vm_ops->find_special_page() decides */
	PTEINSPECT_NORMAL_SPECIAL_BAD,		/* special for no reason: print_bad_pte() */
	PTEINSPECT_NORMAL_PFNMAP_LINEAR,	/* VM_PFNMAP and pfn == vm_pgoff + offset (PMD rule) */
	PTEINSPECT_NORMAL_PFNMAP_NOT_COW,	/* VM_PFNMAP, not linear, not a COW mapping (PMD) */
	PTEINSPECT_NORMAL_INVALID_PFN,		/* no struct page (mixedmap / beyond memmap) */
};

/* PTEINSPECT_A_MAPPING_KIND: the low bits of folio->mapping (include/linux/page-flags.h) */
enum pteinspect_mapping_kind {
	PTEINSPECT_MAPPING_NONE = 0,	/* mapping is NULL */
	PTEINSPECT_MAPPING_ANON,	/* an anon_vma (PAGE_MAPPING_ANON) */
	PTEINSPECT_MAPPING_KSM,		/* a KSM stable node (PAGE_MAPPING_KSM), not an anon_vma */
	PTEINSPECT_MAPPING_FILE,	/* an address_space */
	PTEINSPECT_MAPPING_MOVABLE,	/* a non-LRU movable page's movable_operations */
};

/* PTEINSPECT_A_VMA_FLAGS_DECODED */
#define PTEINSPECT_VMF_READ		(1ULL << 0)
#define PTEINSPECT_VMF_WRITE		(1ULL << 1)
#define PTEINSPECT_VMF_EXEC		(1ULL << 2)
#define PTEINSPECT_VMF_SHARED		(1ULL << 3)
#define PTEINSPECT_VMF_PFNMAP		(1ULL << 4)
#define PTEINSPECT_VMF_MIXEDMAP		(1ULL << 5)
#define PTEINSPECT_VMF_IO		(1ULL << 6)
#define PTEINSPECT_VMF_DONTCOPY		(1ULL << 7)
#define PTEINSPECT_VMF_WIPEONFORK	(1ULL << 8)
#define PTEINSPECT_VMF_MERGEABLE	(1ULL << 9)
#define PTEINSPECT_VMF_HUGEPAGE		(1ULL << 10)
#define PTEINSPECT_VMF_NOHUGEPAGE	(1ULL << 11)
#define PTEINSPECT_VMF_UFFD_MISSING	(1ULL << 12)
#define PTEINSPECT_VMF_UFFD_WP		(1ULL << 13)
#define PTEINSPECT_VMF_UFFD_MINOR	(1ULL << 14)
#define PTEINSPECT_VMF_LOCKED		(1ULL << 15)
#define PTEINSPECT_VMF_DONTEXPAND	(1ULL << 16)
#define PTEINSPECT_VMF_SOFTDIRTY	(1ULL << 17)
#define PTEINSPECT_VMF_GROWSDOWN	(1ULL << 18)
#define PTEINSPECT_VMF_MAYWRITE		(1ULL << 19)

/*
 * PTEINSPECT_A_PTE_MARKER (include/linux/swapops.h pte_marker_get()). Bits a kernel does not
 * define are never set: POISONED since v6.6 (SWAPIN_ERROR in v6.2..v6.5, reported as POISONED),
 * GUARD since v6.13. OTHER: a marker bit this module does not know.
 */
#define PTEINSPECT_MARKER_UFFD_WP	(1U << 0) /* PTE_MARKER_UFFD_WP: uffd-wp on an empty PTE */
#define PTEINSPECT_MARKER_POISONED	(1U << 1) /* PTE_MARKER_POISONED: accesses get SIGBUS */
#define PTEINSPECT_MARKER_GUARD		(1U << 2) /* PTE_MARKER_GUARD: MADV_GUARD_INSTALL */
#define PTEINSPECT_MARKER_OTHER		(1U << 3)

/* PTEINSPECT_A_LEVEL */
enum pteinspect_level {
	PTEINSPECT_LEVEL_PTE = 0,
	PTEINSPECT_LEVEL_PMD = 1,
};

/* PTEINSPECT_A_ENTRY_KIND: what a non-none entry is */
enum pteinspect_entry_kind {
	PTEINSPECT_KIND_PRESENT = 0,
	PTEINSPECT_KIND_SWAP,			/* a real swap entry (type, offset) */
	PTEINSPECT_KIND_MIGRATION_READ,
	PTEINSPECT_KIND_MIGRATION_READ_EXCLUSIVE,
	PTEINSPECT_KIND_MIGRATION_WRITE,
	PTEINSPECT_KIND_DEVICE_PRIVATE,
	PTEINSPECT_KIND_DEVICE_EXCLUSIVE,
	PTEINSPECT_KIND_HWPOISON,
	PTEINSPECT_KIND_PTE_MARKER,
	PTEINSPECT_KIND_OTHER,			/* a non-swap entry this module does not decode */
};

/*
 * PTEINSPECT_A_ENTRY_FLAGS. For present entries the bits are the arch accessors (pte_write() ...);
 * for swap-like entries SOFT_DIRTY, UFFD_WP and SWP_EXCLUSIVE come from pte_swp_soft_dirty(),
 * pte_swp_uffd_wp() and pte_swp_exclusive(). UFFD_WP is the userfaultfd bit: pte_uffd_wp() up to
 * v7.2, pte_uffd() from v7.3 (the same bit, which there also marks read-write protection in a VMA
 * registered with UFFDIO_REGISTER_MODE_RWP). SPECIAL of a leaf PMD is pmd_special() where the
 * kernel has it (v6.12+ with ARCH_SUPPORTS_PMD_PFNMAP; from v6.18 the huge zero page's PMD too).
 */
#define PTEINSPECT_EF_PRESENT		(1ULL << 0)
#define PTEINSPECT_EF_WRITE		(1ULL << 1)
#define PTEINSPECT_EF_DIRTY		(1ULL << 2)
#define PTEINSPECT_EF_YOUNG		(1ULL << 3)
#define PTEINSPECT_EF_SPECIAL		(1ULL << 4)
#define PTEINSPECT_EF_SOFT_DIRTY	(1ULL << 5)
#define PTEINSPECT_EF_UFFD_WP		(1ULL << 6)
#define PTEINSPECT_EF_SWP_EXCLUSIVE	(1ULL << 7)
#define PTEINSPECT_EF_ZERO_PAGE		(1ULL << 8) /* PFN is the (huge) zero page */
#define PTEINSPECT_EF_HUGE		(1ULL << 9) /* leaf entry above PTE level */

/* PTEINSPECT_A_PAGE_FLAGS: struct page / folio state */
#define PTEINSPECT_PF_ANON		(1ULL << 0) /* PageAnon() */
#define PTEINSPECT_PF_ANON_EXCLUSIVE	(1ULL << 1) /* PageAnonExclusive(), only if ANON && !KSM */
#define PTEINSPECT_PF_KSM		(1ULL << 2) /* PageKsm() */
#define PTEINSPECT_PF_SWAPCACHE		(1ULL << 3) /* folio_test_swapcache() */
#define PTEINSPECT_PF_DIRTY		(1ULL << 4) /* folio_test_dirty() */
#define PTEINSPECT_PF_LRU		(1ULL << 5) /* folio_test_lru() */
#define PTEINSPECT_PF_LOCKED		(1ULL << 6) /* folio_test_locked() */
#define PTEINSPECT_PF_WRITEBACK		(1ULL << 7) /* folio_test_writeback() */
#define PTEINSPECT_PF_LARGE		(1ULL << 8) /* folio_test_large() */
#define PTEINSPECT_PF_HEAD		(1ULL << 9) /* PageHead() */
#define PTEINSPECT_PF_SWAPBACKED	(1ULL << 10) /* folio_test_swapbacked() */
#define PTEINSPECT_PF_RESERVED		(1ULL << 11) /* PageReserved() */
/*
 * The kernel keeps no per-page mapcount for this page: a page of a large folio on a kernel built
 * with CONFIG_NO_PAGE_MAPCOUNT (v6.15+; Debian's 6.1, 6.12 and 7.3 configs do not set it). The
 * mapcount field is then 0 and means nothing; folio_mapcount is still the folio's own count.
 */
#define PTEINSPECT_PF_NO_PAGE_MAPCOUNT	(1ULL << 12)

/*
 * Test fixtures: the misc device /dev/pteinspect (root only, CAP_SYS_ADMIN checked at open).
 * Everything it does acts on the calling process only, and lives and dies with the open file or
 * the mappings made from it.
 *
 * mmap(fd, offset 0, at most PTEINSPECT_FIXTURE_MAX_PAGES pages): maps module-owned, physically
 * contiguous, zeroed RAM with remap_pfn_range(), so the VMA is VM_PFNMAP|VM_IO and its PTEs are
 * special; for a MAP_PRIVATE mapping remap_pfn_range() sets vm_pgoff to the first PFN. The pages
 * are freed when the last VMA made from them is unmapped (also across fork and mremap).
 */
#define PTEINSPECT_FIXTURE_MAX_PAGES	64
#define PTEINSPECT_PIN_MAX_PAGES	512

/* struct pteinspect_pin.flags */
#define PTEINSPECT_PIN_WRITE		(1U << 0) /* FOLL_WRITE */
#define PTEINSPECT_PIN_LONGTERM		(1U << 1) /* FOLL_LONGTERM */

struct pteinspect_pin {
	__u64 addr;	/* page aligned, in the caller's address space */
	__u64 pages;	/* 1 .. PTEINSPECT_PIN_MAX_PAGES */
	__u32 flags;	/* PTEINSPECT_PIN_* */
	__u32 reserved;	/* must be 0 */
};

/*
 * PIN: pin_user_pages_fast() (FOLL_PIN) on [addr, addr + pages * PAGE_SIZE) of the caller; all
 * pages or none. Returns 0. UNPIN: release a pin made with the same addr and pages (ENOENT if
 * there is none). Closing the file releases every pin still held.
 */
#define PTEINSPECT_IOC_PIN	_IOW('P', 1, struct pteinspect_pin)
#define PTEINSPECT_IOC_UNPIN	_IOW('P', 2, struct pteinspect_pin)

#endif /* _UAPI_LINUX_PTEINSPECT_H */
