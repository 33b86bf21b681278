/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pteinspect: every difference between the kernels the module supports, in one place.
 *
 * Supported: Debian's 6.1 (6.1.x) and 6.12 LTS (6.12.117) lines. Each shim names the upstream
 * commit and the first release that changed what it covers ("Since commit ... in v6.x"), and tests
 * a feature the kernel offers (a macro, a header) where there is one; LINUX_VERSION_CODE only where
 * there is none. The rest of the module reads the same on every kernel. Line numbers: "6.1"
 * means Debian's linux-source-6.1 (6.1.192), "6.12" Debian's linux-source-6.12 (6.12.117).
 */
#ifndef PTEINSPECT_COMPAT_H
#define PTEINSPECT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/swap.h>
#include <linux/swapops.h>
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
 *       pmdp_get_lockless_start()/_end()); none or migration entry, trans-huge or devmap -> NULL;
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
	if (unlikely(pmd_none(pmdval) || is_pmd_migration_entry(pmdval) ||
		     pmd_trans_huge(pmdval) || pmd_devmap(pmdval) || pmd_bad(pmdval))) {
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
 *   Copied here. No macro marks the move.
 */
#define PI_HAS_PAGE_MAPCOUNT (LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0))

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
 */
static inline pgoff_t pi_page_index(struct folio *folio, struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
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
