/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pteinspect: every difference between the kernels the module supports, in one place.
 *
 * Supported: Debian's 6.1 (6.1.x) and 6.12 LTS (6.12.118) lines, and 7.3 (7.3.4, trixie-backports).
 * Each shim names the upstream commit and the first release that changed what it covers ("Since
 * commit ... in v6.x"), and tests
 * a feature the kernel offers (a macro, a header) where there is one; LINUX_VERSION_CODE only where
 * there is none. The rest of the module reads the same on every kernel. Line numbers: "6.1"
 * means Debian's linux-source-6.1 (6.1.192), "6.12" Debian's linux-source-6.12 (6.12.118), "7.3"
 * Debian's linux-source-7.3 (7.3.4).
 */
#ifndef PTEINSPECT_COMPAT_H
#define PTEINSPECT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/pagemap.h>
#include <net/genetlink.h>

/*
 * put_unaligned() and friends. Since commit 5f60d5f6bbc1 ("move asm/unaligned.h to
 * linux/unaligned.h") in v6.12, <asm/unaligned.h> no longer exists. Feature test: the header.
 */
#if __has_include(<linux/unaligned.h>)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * The parsed request attributes of a dump. Since commits 9272af109fe6 ("genetlink: add struct
 * genl_info to struct genl_dumpit_info") and 7288dd2fd488 ("genetlink: use attrs from struct
 * genl_info") in v6.6, struct genl_dumpit_info holds a struct genl_info and the attributes are
 * info.attrs (6.12 include/net/genetlink.h L282-285; 6.1 L195-199: ->attrs). No macro tells the
 * two apart.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define pi_dumpit_attrs(dumpit_info)	((dumpit_info)->info.attrs)
#else
#define pi_dumpit_attrs(dumpit_info)	((dumpit_info)->attrs)
#endif

/*
 * Extack in a dump's start() callback: since commit 5ab8c41cef30 ("netlink: support extack in
 * dump ->start()") in v6.5, cb->extack is set there; before, it is NULL in start() and only the
 * dumpit()'s extack reaches the client (in NLMSG_DONE). No macro tells the two apart.
 */
#define PTEINSPECT_START_HAS_EXTACK (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0))

/*
 * The userfaultfd bit of an entry (present: pte_uffd_wp()/pmd_uffd_wp(); swap or marker:
 * pte_swp_uffd_wp()/pmd_swp_uffd_wp(), 6.12 arch/x86/include/asm/pgtable.h). Since commits
 * 2bd507795e62 ("mm: rename uffd-wp PTE bit macros to uffd") and c0ffe79eedc1 ("mm: rename uffd-wp
 * PTE accessors to uffd") in v7.3, the same bit (x86: _PAGE_BIT_SOFTW2, 6.12 and 7.3
 * arch/x86/include/asm/pgtable_types.h L34) also marks userfaultfd's read-write protection (commit
 * 2d427bb01639, "mm/userfaultfd: add RWP fault delivery and expose UFFDIO_REGISTER_MODE_RWP", the
 * same series) and the helpers are pte_uffd(), pmd_uffd(), pte_swp_uffd(), pmd_swp_uffd() (7.3 x86
 * pgtable.h L414, L529, L1568; include/asm-generic/pgtable_uffd.h L22-57 without
 * CONFIG_HAVE_ARCH_USERFAULTFD_WP). Which protection a set bit stands for is the VMA's
 * registration (userfaultfd_pte_wp() and userfaultfd_pte_rwp(), 7.3 include/linux/userfaultfd_k.h
 * L238-256); pteinspect reports the bit. Feature test: x86's _PAGE_UFFD (the first of the two
 * renames), then the release.
 */
#if defined(_PAGE_UFFD) || LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0)
#define pi_pte_uffd(pte)	pte_uffd(pte)
#define pi_pmd_uffd(pmd)	pmd_uffd(pmd)
#define pi_pte_swp_uffd(pte)	pte_swp_uffd(pte)
#define pi_pmd_swp_uffd(pmd)	pmd_swp_uffd(pmd)
#else
#define pi_pte_uffd(pte)	pte_uffd_wp(pte)
#define pi_pmd_uffd(pmd)	pmd_uffd_wp(pmd)
#define pi_pte_swp_uffd(pte)	pte_swp_uffd_wp(pte)
#define pi_pmd_swp_uffd(pmd)	pmd_swp_uffd_wp(pmd)
#endif

/*
 * The devmap bit (pte_devmap(), pmd_devmap(), pud_devmap(): ZONE_DEVICE pages mapped by DAX, x86
 * _PAGE_BIT_DEVMAP, 6.12 arch/x86/include/asm/pgtable_types.h L36). Since commit d438d2734170
 * ("mm: remove devmap related functions and page table bits") in v6.17 the bit and its helpers are
 * gone (7.3 pgtable_types.h has no _PAGE_BIT_DEVMAP): DAX maps its pages as normal
 * folios, and vm_normal_page() has no devmap branch (7.3 mm/memory.c __vm_normal_page() L755-810).
 * Feature test: CONFIG_ARCH_HAS_PTE_DEVMAP, which x86 selected until then; without it the
 * kernel's own stubs said "not devmap" as these do.
 */
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP
#define pi_pte_devmap(pte)	pte_devmap(pte)
#define pi_pmd_devmap(pmd)	pmd_devmap(pmd)
#define pi_pud_devmap(pud)	pud_devmap(pud)
#else
#define pi_pte_devmap(pte)	false
#define pi_pmd_devmap(pmd)	false
#define pi_pud_devmap(pud)	false
#endif

/*
 * What folio->mapping points to, by its low bits. 6.1 and 6.12 include/linux/page-flags.h
 * (6.12 L664-668): PAGE_MAPPING_ANON 0x1, PAGE_MAPPING_MOVABLE 0x2, PAGE_MAPPING_KSM 0x3,
 * PAGE_MAPPING_FLAGS 0x3. Since commit df25569d401e ("mm: rename PAGE_MAPPING_* to
 * FOLIO_MAPPING_*") in v6.17 they are FOLIO_MAPPING_ANON, FOLIO_MAPPING_KSM and FOLIO_MAPPING_FLAGS
 * with the same values (7.3 include/linux/page-flags.h L711-714), and since commits 3d388584d599
 * ("mm: convert "movable" flag in page->mapping to a page flag") and bd56d3024203
 * ("mm/page-flags: rename PAGE_MAPPING_MOVABLE to PAGE_MAPPING_ANON_KSM"), same release, a non-LRU
 * movable page is no longer marked in ->mapping (7.3: FOLIO_MAPPING_ANON_KSM 0x2 without ANON is
 * not a kind). Feature tests: the macros.
 */
#ifdef FOLIO_MAPPING_ANON
#define PI_MAPPING_ANON		FOLIO_MAPPING_ANON
#define PI_MAPPING_KSM		FOLIO_MAPPING_KSM
#define PI_MAPPING_FLAGS	FOLIO_MAPPING_FLAGS
#else
#define PI_MAPPING_ANON		PAGE_MAPPING_ANON
#define PI_MAPPING_KSM		PAGE_MAPPING_KSM
#define PI_MAPPING_FLAGS	PAGE_MAPPING_FLAGS
#endif
#ifdef PAGE_MAPPING_MOVABLE
#define PTEINSPECT_HAVE_MAPPING_MOVABLE	1
#define PI_MAPPING_MOVABLE	PAGE_MAPPING_MOVABLE
#else
#define PTEINSPECT_HAVE_MAPPING_MOVABLE	0
#endif

/*
 * The flag word of a struct page or folio. Since commit 53fbef56e07d ("mm: introduce
 * memdesc_flags_t") in v6.18 it is a memdesc_flags_t, the word in its .f (7.3
 * include/linux/mm_types.h L39-41, L81, L409); before, an unsigned long. No macro: the release
 * decides.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define pi_page_flags(page)	READ_ONCE((page)->flags.f)
#else
#define pi_page_flags(page)	READ_ONCE((page)->flags)
#endif

/*
 * A driver that finds the page behind a special entry (vm_normal_page()'s first question for a
 * special PTE). 6.1 and 6.12: vm_operations_struct.find_special_page (6.12 include/linux/mm.h).
 * Since commit 4c89792ea0a2 ("mm: rename vm_ops->find_special_page() to
 * vm_ops->find_normal_page()") in v6.18 it is find_normal_page, present only with
 * CONFIG_FIND_NORMAL_PAGE (7.3 include/linux/mm.h L905-907; xen's gntdev selects it; mm/memory.c
 * L761-764). Feature test: the option, then the release for a kernel without it.
 */
#if defined(CONFIG_FIND_NORMAL_PAGE)
#define pi_vma_finds_special_page(vma)	((vma)->vm_ops && (vma)->vm_ops->find_normal_page)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define pi_vma_finds_special_page(vma)	false
#else
#define pi_vma_finds_special_page(vma)	((vma)->vm_ops && (vma)->vm_ops->find_special_page)
#endif

/*
 * Whether a VMA is a COW mapping (may write, not shared). 6.1 and 6.12: is_cow_mapping(vm_flags)
 * (6.12 include/linux/mm.h). Since commit 51943a18ad4b ("mm: provide vma_[flags_]is_cow_mapping()
 * and remove is_cow_mapping()") in v7.3, vma_is_cow_mapping(vma) over the vma_flags_t bitmap of
 * commit 9ea35a25d51b ("mm: introduce VMA flags bitmap type", v6.19) (7.3
 * include/linux/mm.h L2313-2330). No macro: the release decides.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0)
#define pi_vma_is_cow_mapping(vma)	vma_is_cow_mapping(vma)
#else
#define pi_vma_is_cow_mapping(vma)	is_cow_mapping((vma)->vm_flags)
#endif

/*
 * Walking an anon_vma's interval tree: anon_vma_lock_read()/anon_vma_unlock_read() (6.1 and 6.12
 * include/linux/rmap.h) take the root anon_vma's rwsem for reading. Since commit 7549e3d20f1a
 * ("mm/rmap: make anon_vma functions internal") in v7.0 they live in mm/internal.h (7.3 L308-321), which modules cannot include; the same two lines here, for every
 * kernel (struct anon_vma's root and rwsem are in include/linux/rmap.h on all three).
 */
#include <linux/rmap.h>
static inline void pi_anon_vma_lock_read(struct anon_vma *anon_vma)
{
	down_read(&anon_vma->root->rwsem);
}
static inline void pi_anon_vma_unlock_read(struct anon_vma *anon_vma)
{
	up_read(&anon_vma->root->rwsem);
}

/*
 * Software leaf entries: what a non-present, non-none PTE or PMD holds (a swap entry, a
 * migration, device or hwpoison entry, a PTE marker). 6.1 and 6.12: swp_entry_t and the helpers of
 * include/linux/swapops.h (non_swap_entry(), is_*_migration_entry(), is_device_*_entry(),
 * is_hwpoison_entry(), is_pte_marker_entry(), pte_marker_get(), is_pfn_swap_entry(),
 * swp_offset_pfn(), pte_to_swp_entry(), pmd_to_swp_entry()). Since commit 68aa2fdbf57f ("mm:
 * introduce leaf entry type and use to simplify leaf entry logic") in v6.19, softleaf_t and
 * include/linux/leafops.h (7.3: softleaf_from_pte() L55, softleaf_from_pmd() L94, softleaf_type()
 * L160, softleaf_is_marker() L326, softleaf_to_marker() L337, softleaf_has_pfn() L355,
 * softleaf_to_pfn() L378), and the old helpers are gone in the same release (commits
 * 0ac881efe164 "mm: replace pmd_to_swp_entry() with softleaf_from_pmd()", 9ff30bb9ab40 "mm:
 * remove non_swap_entry() and use softleaf helpers instead", 93976a20345b "mm: eliminate further
 * swapops predicates", a3a3e215c9c1 "mm: replace remaining pte_to_swp_entry() with
 * softleaf_from_pte()"). softleaf_t is still a
 * swp_entry_t (7.3 include/linux/mm_types.h L313), so swp_type() and swp_offset() read it.
 * Feature test: the header.
 */
#if __has_include(<linux/leafops.h>)
#include <linux/leafops.h>
typedef softleaf_t pi_leaf_t;
#define pi_leaf_from_pte(pte)			softleaf_from_pte(pte)
#define pi_leaf_from_pmd(pmd)			softleaf_from_pmd(pmd)
#define pi_leaf_is_swap(e)			softleaf_is_swap(e)
#define pi_leaf_is_migration_write(e)		softleaf_is_migration_write(e)
#define pi_leaf_is_migration_read_exclusive(e)	softleaf_is_migration_read_exclusive(e)
#define pi_leaf_is_migration_read(e)		softleaf_is_migration_read(e)
#define pi_leaf_is_device_private(e)		softleaf_is_device_private(e)
#define pi_leaf_is_device_exclusive(e)		softleaf_is_device_exclusive(e)
#define pi_leaf_is_hwpoison(e)			softleaf_is_hwpoison(e)
#define pi_leaf_is_marker(e)			softleaf_is_marker(e)
#define pi_leaf_marker(e)			softleaf_to_marker(e)
#define pi_leaf_has_pfn(e)			softleaf_has_pfn(e)
#define pi_leaf_pfn(e)				softleaf_to_pfn(e)
#else
typedef swp_entry_t pi_leaf_t;
#define pi_leaf_from_pte(pte)			pte_to_swp_entry(pte)
#define pi_leaf_from_pmd(pmd)			pmd_to_swp_entry(pmd)
#define pi_leaf_is_swap(e)			(!non_swap_entry(e))
#define pi_leaf_is_migration_write(e)		is_writable_migration_entry(e)
#define pi_leaf_is_migration_read_exclusive(e)	is_readable_exclusive_migration_entry(e)
#define pi_leaf_is_migration_read(e)		is_readable_migration_entry(e)
#define pi_leaf_is_device_private(e)		is_device_private_entry(e)
#define pi_leaf_is_device_exclusive(e)		is_device_exclusive_entry(e)
#define pi_leaf_is_hwpoison(e)			is_hwpoison_entry(e)
#define pi_leaf_is_marker(e)			is_pte_marker_entry(e)
#define pi_leaf_marker(e)			pte_marker_get(e)
#define pi_leaf_has_pfn(e)			is_pfn_swap_entry(e)
#define pi_leaf_pfn(e)				swp_offset_pfn(e)
#endif


/*
 * The special bit of a PMD. Since commits 6857be5fecae ("mm: introduce ARCH_SUPPORTS_HUGE_PFNMAP and
 * special bits to pmd/pud") and 75182022a043 ("mm/x86: support large pfn mappings") in v6.12, with
 * CONFIG_ARCH_SUPPORTS_PMD_PFNMAP, pmd_special() exists (6.12 arch/x86/include/asm/pgtable.h
 * L349, include/linux/mm.h L2755); 6.1 has no special bit at PMD level. Feature test: the option.
 * Since commits af38538801c6 ("mm/memory: factor out common code from vm_normal_page_*()") and
 * d82d09e48219 ("mm/huge_memory: mark PMD mappings of the huge zero folio special") in v6.18,
 * vm_normal_page_pmd() asks the PTE's questions of a PMD (__vm_normal_page(), 7.3 mm/memory.c
 * L755-810: special -> find_normal_page, PFNMAP/MIXEDMAP, zero or huge zero page, else bad; not
 * special -> normal), and the huge zero page's PMD is special (7.3 mm/huge_memory.c L1556). No
 * macro: the release decides.
 */
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#define pi_pmd_special(pmd)	pmd_special(pmd)
#else
#define pi_pmd_special(pmd)	false
#endif
#define PTEINSPECT_PMD_NORMAL_AS_PTE	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0))

/*
 * The anonymous page offset of a VMA: where the index of its anonymous folios counts from. Since
 * commits 0bd14001eb26 ("mm/vma: introduce VMA anon page offset field and add helpers"),
 * c02fe674feaf ("mm: abstract vma_address() and introduce vma_anon_address()") and 93c0c8dc87f6
 * ("mm/rmap: use anon pgoff to track MAP_PRIVATE file-backed anon folios") in v7.3, a VMA keeps
 * it apart from vm_pgoff (vma_start_anon_pgoff(), 7.3 include/linux/mm.h L4469-4479; set to
 * vm_start >> PAGE_SHIFT at mmap, mm/vma.c L2877-2878): __folio_set_anon() indexes a new anonymous
 * folio with linear_anon_page_index() (mm/rmap.c L1495; include/linux/pagemap.h L1125-1136), and
 * the anon interval tree and vma_anon_address() count from it (mm/interval_tree.c L84-92,
 * mm/internal.h L1062-1074). For an anonymous VMA it equals vm_pgoff; for a MAP_PRIVATE file VMA
 * (a driver's remap_pfn_range() COW mapping: vm_pgoff is the PFN) it need not. Before, vm_pgoff
 * was both. No macro: the release decides.
 */
#define PTEINSPECT_HAVE_ANON_PGOFF	(LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0))
static inline pgoff_t pi_vma_anon_pgoff(const struct vm_area_struct *vma)
{
#if PTEINSPECT_HAVE_ANON_PGOFF
	return vma_start_anon_pgoff(vma);
#else
	return vma->vm_pgoff;
#endif
}

/*
 * Mapping a PTE table and taking its lock: pi_pte_offset_map_lock() / pi_pte_unmap_unlock().
 *
 * Since commit 0d940a9b270b ("mm/pgtable: allow pte_offset_map[_lock]() to fail") in v6.5, a
 * PTE table can be freed (RCU-deferred, pte_free_defer()) with only the mmap lock held for reading
 * (retract_page_tables() since commit 1d65b771bc08 ("mm/khugepaged: retract_page_tables() without
 * mmap or vma lock") in v6.6, 6.12 mm/khugepaged.c L1698, pte_free_defer() at L1776), so
 * pte_offset_map_lock() may return NULL and the caller must look
 * at the PMD again. Its implementation, __pte_offset_map_lock(), is not exported on 6.12 (nor are
 * __pte_offset_map() and pte_offset_map_nolock(); 6.12 Module.symvers), so here it is rebuilt from
 * inline helpers, line by line after 6.12 mm/pgtable-generic.c:
 *   __pte_offset_map() L282-306:  rcu_read_lock(); a lockless PMD read (pmdp_get_lockless() between
 *       pmdp_get_lockless_start()/_end()); none or migration entry, trans-huge or devmap -> NULL
 *       (7.3 L285-306: none or not present, trans-huge -> NULL; "not present" is the migration
 *       entry of 6.12 and 7.3's device-private PMD; there is no devmap, pi_pmd_devmap() above);
 *       bad -> NULL (the kernel also does pmd_clear_bad(): pteinspect never writes a target's page
 *       tables, so a bad PMD is left as it is); otherwise __pte_map() (kmap_local with HIGHPTE,
 *       pte_offset_kernel() without) of the PMD value read, not of *pmd;
 *   __pte_offset_map_lock() L364-382:  ptl = pte_lockptr(mm, &pmdval); spin_lock(ptl); if the PMD
 *       still equals the value the table was mapped from, return with the lock held; otherwise
 *       pte_unmap_unlock() and start again.
 * pte_unmap() (include/linux/pgtable.h L104-116) ends the RCU read side. On 6.1, where a table
 * under the mmap read lock never goes away, the kernel's own inline pte_offset_map_lock() (a macro
 * of pte_offset_map() and pte_lockptr(), 6.1 include/linux/mm.h) is used as it is; it cannot fail.
 * Feature test: pte_offset_map_nolock() has no macro, so the version that introduced it decides.
 */
#define PTEINSPECT_PTE_MAP_MAY_FAIL (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0))

#if PTEINSPECT_PTE_MAP_MAY_FAIL
/*
 * pmdp_get_lockless_start()/_end() are static in 6.12 mm/pgtable-generic.c L257-279: interrupts
 * off around the two-halves PMD read where a PMD is read in two halves (32-bit PAE), nothing
 * otherwise (x86_64). The same two branches.
 */
#if defined(CONFIG_GUP_GET_PXX_LOW_HIGH) && (defined(CONFIG_SMP) || defined(CONFIG_PREEMPT_RCU))
static inline unsigned long pi_pmdp_get_lockless_start(void)
{
	unsigned long irqflags;

	local_irq_save(irqflags);
	return irqflags;
}
static inline void pi_pmdp_get_lockless_end(unsigned long irqflags)
{
	local_irq_restore(irqflags);
}
#else
static inline unsigned long pi_pmdp_get_lockless_start(void) { return 0; }
static inline void pi_pmdp_get_lockless_end(unsigned long irqflags) { }
#endif

static inline pte_t *pi_pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
					    spinlock_t **ptlp)
{
	unsigned long irqflags;
	spinlock_t *ptl;
	pmd_t pmdval;
	pte_t *pte;

again:
	rcu_read_lock();
	irqflags = pi_pmdp_get_lockless_start();
	pmdval = pmdp_get_lockless(pmd);
	pi_pmdp_get_lockless_end(irqflags);
	if (unlikely(pmd_none(pmdval) || !pmd_present(pmdval) || pmd_trans_huge(pmdval) ||
		     pi_pmd_devmap(pmdval) || pmd_bad(pmdval))) {
		rcu_read_unlock();
		return NULL;
	}
	pte = __pte_map(&pmdval, addr);
	ptl = pte_lockptr(mm, &pmdval);
	spin_lock(ptl);
	if (likely(pmd_same(pmdval, pmdp_get_lockless(pmd)))) {
		*ptlp = ptl;
		return pte;
	}
	pte_unmap_unlock(pte, ptl);
	goto again;
}
#else
static inline pte_t *pi_pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
					    spinlock_t **ptlp)
{
	return pte_offset_map_lock(mm, pmd, addr, ptlp);
}
#endif
#define pi_pte_unmap_unlock(pte, ptl)	pte_unmap_unlock(pte, ptl)

/*
 * The mapcount of one page: PTEs mapping this page plus PMDs mapping its whole folio, the value
 * /proc/kpagecount shows.
 * - 6.1: page_mapcount() (include/linux/mm.h L882; compound pages in __page_mapcount(), mm/util.c
 *   L787, which is exported).
 * - Since commit cdd9a571b7d8 ("fs/proc: move page_mapcount() to fs/proc/internal.h") in v6.11
 *   there is no page_mapcount() for modules; 6.12 keeps the count as
 *   folio_precise_page_mapcount() (6.12 fs/proc/internal.h L183-194, which modules cannot
 *   include): _mapcount + 1 (0 for a page type), plus folio_entire_mapcount() for a large folio.
 *   Copied here (7.3 fs/proc/internal.h L186-197 is the same). No macro marks the move.
 * - Since commits e63ee43e3eda ("mm: CONFIG_NO_PAGE_MAPCOUNT to prepare for not maintain per-page
 *   mapcounts in large folios") and 749492229e3b ("mm: stop maintaining the per-page mapcount of
 *   large folios (CONFIG_NO_PAGE_MAPCOUNT)") in v6.15, a kernel built with CONFIG_NO_PAGE_MAPCOUNT
 *   keeps no per-page mapcount in the pages of a large folio (7.3 mm/Kconfig L981-998;
 *   folio_precise_page_mapcount() is a BUILD_BUG() there, fs/proc/internal.h L198-204, and
 *   /proc/kpagecount shows folio_average_page_mapcount(), fs/proc/page.c L53-56). The module then
 *   reports no per-page mapcount for such a page (PTEINSPECT_PF_NO_PAGE_MAPCOUNT), never the stale
 *   _mapcount. Debian's 7.3 config has CONFIG_PAGE_MAPCOUNT=y. Feature test: the option.
 */
#define PI_HAS_PAGE_MAPCOUNT (LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0))
#define PTEINSPECT_LARGE_PAGE_MAPCOUNT (!IS_ENABLED(CONFIG_NO_PAGE_MAPCOUNT))

/*
 * The counters are read raw, as the helpers do but without their VM_BUG_ON_FOLIO(!large) /
 * VM_WARN_ON_FOLIO(!large): the page-table lock keeps a normal page's folio from being split, but
 * not the page behind a special entry (the zero page, a driver's VM_PFNMAP page), whose "large"
 * may change between the test and the read. The value is then a snapshot of memory that exists
 * (the second page of a former folio), never a crash of the kernel under test.
 * 6.12: _entire_mapcount and _large_mapcount (include/linux/mm_types.h L372-373, read by
 * folio_entire_mapcount() L1207 and folio_large_mapcount() L1213 of include/linux/mm.h); 6.1: the
 * compound mapcount behind folio_mapcount_ptr() (include/linux/mm_types.h L351, read by
 * folio_entire_mapcount(), include/linux/mm.h L846).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define pi_entire_mapcount(folio)	(atomic_read(&(folio)->_entire_mapcount) + 1)
#else
#define pi_entire_mapcount(folio)	(atomic_read(folio_mapcount_ptr(folio)) + 1)
#endif

static inline int pi_page_mapcount(struct folio *folio, struct page *page)
{
#if PI_HAS_PAGE_MAPCOUNT
	return page_mapcount(page);
#else
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += pi_entire_mapcount(folio);
	return mapcount;
#endif
}

/*
 * The mapcount of the whole folio: every page-table entry that maps any part of it.
 * - 6.12: folio_mapcount() is inline (include/linux/mm.h L1239): _mapcount + 1 for a small folio,
 *   else folio_large_mapcount() (L1213), the one counter commit 05c5323b2a34 ("mm: track mapcount
 *   of large folios in single value") added in v6.10.
 * - 6.1: folio_mapcount() is an unexported function (mm/util.c L817-837) that adds up the
 *   subpages; the same sum, copied here: entire mapcount + each subpage's _mapcount + 1, minus
 *   the entire mapcount per page for file folios (their subpages count it already) and minus one
 *   per page while an anon THP is PageDoubleMap.
 * The bound is the single counter's release (v6.10, verified in the 6.12 source); the copy is the
 * 6.1 function (verified in the 6.1 source). Kernels from 6.2 to 6.9 (neither form) are not
 * supported. Raw reads as in pi_page_mapcount().
 */
static inline int pi_folio_mapcount(struct folio *folio)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	int mapcount;

	if (likely(!folio_test_large(folio))) {
		mapcount = atomic_read(&folio->_mapcount) + 1;
		return page_mapcount_is_type(mapcount) ? 0 : mapcount;
	}
	return atomic_read(&folio->_large_mapcount) + 1;
#else
	int i, compound, nr, ret;

	if (likely(!folio_test_large(folio)))
		return atomic_read(&folio->_mapcount) + 1;
	compound = pi_entire_mapcount(folio);
	if (folio_test_hugetlb(folio))
		return compound;
	ret = compound;
	nr = folio_nr_pages(folio);
	for (i = 0; i < nr; i++)
		ret += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
	if (!folio_test_anon(folio))
		return ret - compound * nr;
	if (folio_test_double_map(folio))
		ret -= nr;
	return ret;
#endif
}

/*
 * The page's index in its mapping: folio->index plus the page's offset in the folio (hugetlb
 * VMAs are never walked, so their index units do not arise).
 * - 6.1: page_to_index() (include/linux/pagemap.h L834).
 * - Since commit a08c7193e4f1 ("mm/filemap: remove hugetlb special casing in filemap.c") in v6.7
 *   the same function is page_to_pgoff() (6.12 include/linux/pagemap.h L1027). No macro.
 * - Since commit f7470591f8db ("mm: convert page_to_pgoff() to page_pgoff()") in v6.13 it is
 *   page_pgoff(folio, page) (7.3 include/linux/pagemap.h L1033). No macro.
 */
static inline pgoff_t pi_page_index(struct folio *folio, struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	return page_pgoff(folio, page);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return page_to_pgoff(page);
#else
	return page_to_index(page);
#endif
}

/*
 * PTE marker kinds (include/linux/swapops.h): PTE_MARKER_UFFD_WP (6.1 L463, 6.12 L428);
 * PTE_MARKER_POISONED (6.12 L434) since commit af19487f00f3 ("mm: make PTE_MARKER_SWAPIN_ERROR
 * more general") in v6.6, which renamed PTE_MARKER_SWAPIN_ERROR (a kernel that has that name is
 * reported the same way; 6.1 has neither: its swap-in errors are the SWP_SWAPIN_ERROR swap type,
 * include/linux/swap.h L59, reported as kind OTHER); PTE_MARKER_GUARD since commit 7c53dfbdb024
 * ("mm: add PTE_MARKER_GUARD PTE marker") in v6.13, not in 6.12. Feature test: the macros. The
 * module's own names (PI_MARKER_*) are 0 where the kernel has no such marker.
 */
#if defined(PTE_MARKER_POISONED)
#define PI_MARKER_POISONED	PTE_MARKER_POISONED
#elif defined(PTE_MARKER_SWAPIN_ERROR)
#define PI_MARKER_POISONED	PTE_MARKER_SWAPIN_ERROR
#else
#define PI_MARKER_POISONED	0
#endif
#ifdef PTE_MARKER_GUARD
#define PI_MARKER_GUARD		PTE_MARKER_GUARD
#else
#define PI_MARKER_GUARD		0
#endif

/*
 * The swap PTE's exclusive bit (pte_swp_exclusive()). 6.1: present where the architecture defines
 * __HAVE_ARCH_PTE_SWP_EXCLUSIVE (x86: 6.1 arch/x86/include/asm/pgtable.h L1287). Since commit
 * 950fe885a897 ("mm: remove __HAVE_ARCH_PTE_SWP_EXCLUSIVE") in v6.3 every architecture with swap
 * PTEs has it and the macro is gone (6.12 x86 pgtable.h L1584-1589 define it unconditionally).
 * Feature test first, the version where the feature test stopped existing second.
 */
#if defined(__HAVE_ARCH_PTE_SWP_EXCLUSIVE) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define PTEINSPECT_HAVE_SWP_EXCLUSIVE 1
#else
#define PTEINSPECT_HAVE_SWP_EXCLUSIVE 0
#endif

/*
 * PTE markers. 6.1: only with CONFIG_PTE_MARKER (selected by PTE_MARKER_UFFD_WP; 6.1
 * include/linux/swapops.h L466-512 has stubs without it). Since commit ca92ea3dc5a2 ("mm: always
 * compile in pte markers") in v6.2 the option is gone and markers always exist (6.12 swapops.h
 * L437-454, no guard). Feature test first, then the version.
 */
#if defined(CONFIG_PTE_MARKER) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define PTEINSPECT_HAVE_PTE_MARKER 1
#else
#define PTEINSPECT_HAVE_PTE_MARKER 0
#endif

/*
 * The path /proc/PID/maps shows for a file mapping. Since commit def3ae83da02 ("fs: store real
 * path instead of fake path in backing file f_path") in v6.7, an overlayfs-backed VMA's
 * vm_file->f_path is the real (lower) file's, and show_map_vma() prints file_user_path() instead
 * (6.12 fs/proc/task_mmu.c L267; include/linux/fs.h L2816), added by commit 08582d678fcf ("fs:
 * create helper file_user_path() for user displayed mapped file path") in the same release. 6.1
 * prints f_path (fs/proc/task_mmu.c show_map_vma()). file_user_path() is an inline without a
 * macro: the release decides.
 */
#include <linux/fs.h>
static inline const struct path *pi_file_user_path(struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return file_user_path(file);
#else
	return &file->f_path;
#endif
}

#endif /* PTEINSPECT_COMPAT_H */
