// SPDX-License-Identifier: GPL-2.0
/*
 * PTEINSPECT_CMD_GET_PTES: a netlink dump of the page-table entries of one process.
 *
 * Locking, per dump batch (one call of the dumpit callback: one skb, holding one reply message):
 *   get_task_mm() -> mmap_read_lock_killable() -> [pmd_lock() | pi_pte_offset_map_lock()]
 *   -> unlock.
 * Nothing is held between batches; the cursor (next address) lives in cb->ctx, so a range of any
 * size is dumped in constant memory and the target runs freely between batches. Each entry is
 * read once, under its page-table lock, and the struct page behind it is read while that lock
 * still keeps the page mapped (zap_pte_range() and try_to_unmap_one() need the same lock to
 * remove the mapping, so the page cannot be freed under us). The module takes no page
 * reference, so the refcount it reports is the kernel's own.
 *
 * The walk is the one of mm/pagewalk.c (walk_pgd_range() ... walk_pte_range()), reimplemented
 * because walk_page_range() is not exported, and with one difference: it never modifies the
 * target. The kernel's pmd_none_or_trans_huge_or_clear_bad() clears a bad PMD; here a bad entry
 * is skipped.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/pagemap.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/swapops.h>
#include <linux/memory_hotplug.h>
#include <linux/page_ref.h>
#include <linux/highmem.h>

#include "pteinspect.h"
#include "pteinspect_compat.h"

/* One batch's output state. */
struct pteinspect_emit {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	struct vm_area_struct *vma;
	void *hdr;		/* this batch's reply message, opened at its first entry */
	unsigned long resume;	/* when an entry did not fit: where the next batch starts */
	unsigned int budget;	/* entries this batch may still read (ENTRY_BUDGET) */
	bool read_data;		/* the request had READ_DATA */
	/* the run the last record holds: a copy, and where it lies in the skb */
	struct pteinspect_entry run;
	void *run_data;
	/* the last folio->mapping and its identity: neighbouring pages mostly share it */
	const void *id_object;
	u64 id;
};

/*
 * Every entry is read under its page-table lock into a struct pteinspect_entry (UAPI header:
 * fields, runs, and which groups @has says are set), then, still under the lock, either appended
 * to the run the batch's last record holds or written as a new PTEINSPECT_A_ENTRY attribute of
 * the batch's one reply message. Protocol 1 sent a message per entry with an attribute per
 * field: 172 bytes an entry, of which the headers were half.
 */
#define ENTRY_ATTR_SIZE	nla_total_size(sizeof(struct pteinspect_entry))
/*
 * Entries one batch reads at most (PTEINSPECT_RUN_MAX, UAPI). A batch holds the target's mmap
 * lock for reading; with runs a 32 KiB skb could take a whole range of populated memory in one
 * batch, so the batch also ends after this many entries, and the target's writers get their turn.
 */
#define ENTRY_BUDGET	PTEINSPECT_RUN_MAX

/*
 * Whether @r is the entry that continues the run in e->run: the run's first entry advanced by
 * count places (UAPI header: which fields advance, by how much), every other field equal. The
 * raw step is whatever the second entry brings; the third and later must follow it. Field by
 * field rather than memcmp() of an advanced copy: this runs for every entry of a dump, and
 * lib/string.c's memcmp() is a byte loop. The BUILD_BUG_ON is a reminder: a new field of struct
 * pteinspect_entry must be compared here.
 */
static bool run_continues(const struct pteinspect_emit *e, const struct pteinspect_entry *r)
{
	const struct pteinspect_entry *run = &e->run;
	u64 i = run->count;

	BUILD_BUG_ON(sizeof(struct pteinspect_entry) != 104);
	if (!e->run_data || r->level != PTEINSPECT_LEVEL_PTE || run->level != PTEINSPECT_LEVEL_PTE)
		return false;
	/* the fields that advance */
	if (r->addr != run->addr + (i << PAGE_SHIFT) || r->linear_index != run->linear_index + i ||
	    r->pfn != run->pfn + ((run->has & PTEINSPECT_HAS_PFN) ? i : 0) ||
	    r->swap_offset != run->swap_offset + ((run->has & PTEINSPECT_HAS_SWAP) ? i : 0) ||
	    r->index != run->index + ((run->has & PTEINSPECT_HAS_INDEX) ? i : 0))
		return false;
	if (i > 1 && r->raw != run->raw + (u64)run->raw_step * i)
		return false;	/* (the second entry sets the step: any raw continues a run of one) */
	/* the fields that stay */
	return r->mapping_id == run->mapping_id && r->entry_flags == run->entry_flags &&
	       r->page_flags == run->page_flags && r->mapcount == run->mapcount &&
	       r->folio_mapcount == run->folio_mapcount && r->refcount == run->refcount &&
	       r->swap_type == run->swap_type && r->has == run->has && r->kind == run->kind &&
	       r->normal_page == run->normal_page && r->pfn_linear == run->pfn_linear &&
	       r->mapping_kind == run->mapping_kind && r->folio_order == run->folio_order &&
	       r->pte_marker == run->pte_marker && r->data == run->data;
}

/*
 * Appends @r (a run of one) to the batch's message, or to the run before it; -EMSGSIZE (and
 * nothing written) if a new record does not fit.
 */
static int emit_record(struct pteinspect_emit *e, const struct pteinspect_entry *r)
{
	struct sk_buff *skb = e->skb;
	struct nlattr *nla;

	if (!e->budget)
		return -EMSGSIZE;	/* the batch ends here; the next one starts at this entry */
	e->budget--;
	if (run_continues(e, r)) {
		struct pteinspect_entry *out = e->run_data;

		if (e->run.count == 1) {
			e->run.raw_step = (s64)(r->raw - e->run.raw);
			put_unaligned(e->run.raw_step, &out->raw_step);
		}
		e->run.count++;
		put_unaligned(e->run.count, &out->count);
		return 0;
	}
	if (!e->hdr) {
		if (skb_tailroom(skb) < nlmsg_total_size(GENL_HDRLEN) + ENTRY_ATTR_SIZE)
			return -EMSGSIZE;
		e->hdr = pteinspect_dump_put(skb, e->cb, PTEINSPECT_CMD_GET_PTES);
		if (!e->hdr)
			return -EMSGSIZE;
	}
	if (skb_tailroom(skb) < ENTRY_ATTR_SIZE)
		return -EMSGSIZE;
	/* nla_put() without its room check (done above); 104 bytes: no padding to clear */
	BUILD_BUG_ON(sizeof(*r) != NLA_ALIGN(sizeof(*r)));
	nla = __skb_put(skb, ENTRY_ATTR_SIZE);
	nla->nla_len = nla_attr_size(sizeof(*r));
	nla->nla_type = PTEINSPECT_A_ENTRY;
	memcpy(nla_data(nla), r, sizeof(*r));
	e->run = *r;
	e->run_data = nla_data(nla);
	return 0;
}

/* pteinspect_id() of @object, remembered for the next entry (siphash per entry costs). */
static u64 emit_id(struct pteinspect_emit *e, const void *object)
{
	if (object != e->id_object) {
		e->id_object = object;
		e->id = pteinspect_id(object);
	}
	return e->id;
}

/*
 * What folio->mapping points to, by its low bits (PI_MAPPING_*, pteinspect_compat.h: anon 1,
 * KSM 3, and until 7.x non-LRU movable 2), and whose it is.
 */
static void read_mapping(struct pteinspect_emit *e, struct pteinspect_entry *r, unsigned long mapping)
{
	unsigned long flags = mapping & PI_MAPPING_FLAGS;
	void *object = (void *)(mapping & ~PI_MAPPING_FLAGS);

	if (!object)
		r->mapping_kind = PTEINSPECT_MAPPING_NONE;
	else if (flags == PI_MAPPING_KSM)
		r->mapping_kind = PTEINSPECT_MAPPING_KSM;
	else if (flags == PI_MAPPING_ANON)
		r->mapping_kind = PTEINSPECT_MAPPING_ANON;
#if PTEINSPECT_HAVE_MAPPING_MOVABLE
	else if (flags == PI_MAPPING_MOVABLE)
		r->mapping_kind = PTEINSPECT_MAPPING_MOVABLE;
#endif
	else
		r->mapping_kind = PTEINSPECT_MAPPING_FILE;
	if (object) {
		r->mapping_id = emit_id(e, object);
		r->has |= PTEINSPECT_HAS_MAPPING_ID;
	}
}

/*
 * vm_normal_page() (mm/memory.c, 6.1, CONFIG_ARCH_HAS_PTE_SPECIAL branch) as a decision with its
 * reason, without calling it (it is not exported) and without calling a driver's
 * find_special_page(). One deviation: the kernel's last check is pfn > highest_memmap_pfn, which
 * is not exported; pfn_valid() answers the same question (does a memmap entry exist). @page is
 * pfn_to_online_page(pfn): where it found one, pfn_valid() is true and is not asked again (it
 * checks that the section is valid and the pfn's subsection map bit, include/linux/mmzone.h
 * pfn_valid(), 6.12 L2026; pfn_to_online_page() checked an online section, which is a valid one,
 * and pfn_section_valid(), mm/memory_hotplug.c 6.12 L345-369; 6.1 the same).
 */
static u8 pte_normal_decision(struct vm_area_struct *vma, pte_t pte, unsigned long pfn,
			      struct page *page)
{
	if (!pte_special(pte))
		return page || pfn_valid(pfn) ? PTEINSPECT_NORMAL_PAGE : PTEINSPECT_NORMAL_INVALID_PFN;
	if (pi_vma_finds_special_page(vma))
		return PTEINSPECT_NORMAL_FIND_SPECIAL_PAGE;
	if (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP))
		return PTEINSPECT_NORMAL_SPECIAL_PFNMAP;
	if (is_zero_pfn(pfn))
		return PTEINSPECT_NORMAL_ZERO_PAGE;
	if (pi_pte_devmap(pte))
		return PTEINSPECT_NORMAL_DEVMAP;
	return PTEINSPECT_NORMAL_SPECIAL_BAD;
}

/*
 * The seed-002 rule: in a VM_PFNMAP VMA made by remap_pfn_range() on a COW mapping,
 * vm_pgoff is the first PFN, so "pfn == vm_pgoff + page offset" marks a raw PFN mapping. The
 * kernel still uses it where entries have no special bit (the !ARCH_HAS_PTE_SPECIAL branch of
 * vm_normal_page(), and vm_normal_page_pmd()).
 */
static bool pfn_is_linear(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn)
{
	return pfn == vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
}

/* What every present entry carries besides its bits: PFN, the rules above. */
static void read_present(struct pteinspect_entry *r, struct vm_area_struct *vma, unsigned long addr,
			 unsigned long pfn, u8 normal)
{
	r->kind = PTEINSPECT_KIND_PRESENT;
	r->pfn = pfn;
	r->normal_page = normal;
	r->pfn_linear = pfn_is_linear(vma, addr, pfn);
	r->has |= PTEINSPECT_HAS_PFN | PTEINSPECT_HAS_RULES;
}

/*
 * struct page state. Called with the page-table lock held and the entry mapping @page, so the
 * page cannot be freed. For a special entry (zero page, VM_PFNMAP/VM_MIXEDMAP) the mapping holds
 * no reference and the values are a snapshot of a page the VM does not manage for this mapping.
 *
 * The flag words and folio->mapping are each read once and the bits taken from that snapshot,
 * with the definitions of include/linux/page-flags.h (6.1 and 6.12 alike; 6.12 line numbers):
 * PageAnon() and PageKsm() are tests of folio->mapping's low bits (folio_test_anon() L694,
 * folio_test_ksm() L723, false without CONFIG_KSM); folio_test_swapcache() (L584) is
 * PG_swapbacked && PG_swapcache of the folio, false without CONFIG_SWAP (PG_swapcache is
 * PG_owner_priv_1 then, L134); the folio tests read the
 * folio's (the head page's) flags, PageReserved() the page's own. Besides being consistent with
 * each other, one load instead of one per bit: this runs for every present entry of a dump (under
 * TCG each test_bit() is a memory access of its own). PageAnonExclusive() and PageHead() are still
 * asked: on 6.12 the former reads a hugetlb folio's head (L1131-1141), and the latter (L832)
 * excludes HVO's fake heads (page_is_fake_head()); PageHead() only for a large folio, since
 * a small folio is its own page and PG_head is clear in it.
 */
static void read_page_state(struct pteinspect_emit *e, struct pteinspect_entry *r,
			    struct page *page)
{
	struct folio *folio = page_folio(page);
	unsigned long page_flags = pi_page_flags(page);
	unsigned long folio_flags = &folio->page == page ? page_flags : pi_page_flags(folio);
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	u32 pf = 0;

	if (mapping & PI_MAPPING_ANON)
		pf |= PTEINSPECT_PF_ANON;
	if (IS_ENABLED(CONFIG_KSM) && (mapping & PI_MAPPING_FLAGS) == PI_MAPPING_KSM)
		pf |= PTEINSPECT_PF_KSM;
	/* include/linux/page-flags.h: PageAnonExclusive() is defined for anon, non-KSM pages only */
	if ((pf & (PTEINSPECT_PF_ANON | PTEINSPECT_PF_KSM)) == PTEINSPECT_PF_ANON &&
	    PageAnonExclusive(page))
		pf |= PTEINSPECT_PF_ANON_EXCLUSIVE;
	if (IS_ENABLED(CONFIG_SWAP) && (folio_flags & BIT(PG_swapbacked)) &&
	    (folio_flags & BIT(PG_swapcache)))
		pf |= PTEINSPECT_PF_SWAPCACHE;
	if (folio_flags & BIT(PG_dirty))
		pf |= PTEINSPECT_PF_DIRTY;
	if (folio_flags & BIT(PG_lru))
		pf |= PTEINSPECT_PF_LRU;
	if (folio_flags & BIT(PG_locked))
		pf |= PTEINSPECT_PF_LOCKED;
	if (folio_flags & BIT(PG_writeback))
		pf |= PTEINSPECT_PF_WRITEBACK;
	if (folio_flags & BIT(PG_head)) {	/* folio_test_large() */
		pf |= PTEINSPECT_PF_LARGE;
		if (PageHead(page))
			pf |= PTEINSPECT_PF_HEAD;
	}
	if (folio_flags & BIT(PG_swapbacked))
		pf |= PTEINSPECT_PF_SWAPBACKED;
	if (page_flags & BIT(PG_reserved))
		pf |= PTEINSPECT_PF_RESERVED;

	/* a large folio's page on a CONFIG_NO_PAGE_MAPCOUNT kernel has no mapcount of its own */
	if (!PTEINSPECT_LARGE_PAGE_MAPCOUNT && (pf & PTEINSPECT_PF_LARGE))
		pf |= PTEINSPECT_PF_NO_PAGE_MAPCOUNT;
	else
		r->mapcount = pi_page_mapcount(folio, page);
	r->page_flags = pf;
	read_mapping(e, r, mapping);
	r->folio_mapcount = pi_folio_mapcount(folio);
	r->folio_order = folio_order(folio);
	r->refcount = folio_ref_count(folio);
	/*
	 * page->index is an index only for a folio in a mapping (an anon_vma, a KSM stable node, an
	 * address_space). Otherwise it holds whatever the page's last user left in that word (a slab
	 * freelist pointer, a page table's pt_mm...), and that must not leave the kernel: pteinspect
	 * fuzz found a VM_PFNMAP fixture page on the 6.12 debug kernel whose "index" was a
	 * direct-map address (0xffff888009ac3a80). The zero page, PFNMAP and movable pages get none.
	 */
	if (r->mapping_kind == PTEINSPECT_MAPPING_ANON || r->mapping_kind == PTEINSPECT_MAPPING_KSM ||
	    r->mapping_kind == PTEINSPECT_MAPPING_FILE) {
		r->index = pi_page_index(folio, page);
		r->has |= PTEINSPECT_HAS_INDEX;
	}
	r->has |= PTEINSPECT_HAS_PAGE;
}

/*
 * READ_DATA: the first 4 bytes of @page, for the data checks of the scenarios (a page must hold
 * what its process wrote or inherited, never another process's later write). Called with the
 * page-table lock held and the entry mapping @page, so the page cannot be freed (see
 * read_page_state()). The bytes are read through the kernel's own mapping of the page
 * (kmap_local_page(): the direct map on 64-bit, a short-lived atomic-safe kmap on HIGHMEM), never
 * through the target's PTE: the target's accessed bit stays as it was and nothing faults, which a
 * read from user space (the process itself, /proc/PID/mem, process_vm_readv()) cannot promise.
 *
 * Which pages: only those the VM manages for this entry (vm_normal_page() would return them) and
 * that are anonymous (KSM pages included), or the zero page. Not file pages: a secretmem page is
 * one, and it is removed from the direct map (mm/secretmem.c secretmem_fault():
 * set_direct_map_invalid_noflush(), 6.1 and 6.12), so a load would oops; not VM_PFNMAP/MIXEDMAP
 * memory, which may be mapped with other cache attributes than the direct map's. Never a
 * hardware-poisoned page: a load from it raises a machine check (mm/memory-failure.c).
 *
 * The target may store to the page meanwhile: its store is one aligned u32, and the copy may see
 * the old bytes or the new (data_race(): the race is the point, not a bug).
 */
static void read_page_data(struct pteinspect_entry *r, struct page *page)
{
	const void *kaddr;
	u32 data;
	unsigned long left;

	if (PageHWPoison(page))
		return;
	kaddr = kmap_local_page(page);
	/*
	 * copy_mc_to_kernel(), not a plain load: memory_failure() marks a page poisoned only after
	 * the error is found, and a load from a poisoned line that is not marked yet would be a fatal
	 * machine check; this one returns what it could not copy instead (x86: copy_mc_fragile /
	 * copy_mc_enhanced_fast_string where the CPU has them, arch/x86/lib/copy_mc.c; otherwise,
	 * and on other architectures, a plain memcpy() with no recovery, include/linux/uaccess.h).
	 * Never sleeps: callable under the PTE lock.
	 */
	left = data_race(copy_mc_to_kernel(&data, kaddr, sizeof(data)));
	kunmap_local(kaddr);
	if (left)
		return;
	r->data = data;
	r->has |= PTEINSPECT_HAS_DATA;
}

/* Whether READ_DATA reads the page of entry @r (its vm_normal_page() decision), with entry flags @ef. */
static bool data_readable(const struct pteinspect_entry *r, u32 ef)
{
	if (r->normal_page == PTEINSPECT_NORMAL_ZERO_PAGE)
		return true;
	return r->normal_page == PTEINSPECT_NORMAL_PAGE && !(ef & PTEINSPECT_EF_ZERO_PAGE) &&
	       (r->page_flags & PTEINSPECT_PF_ANON);
}

/* Classify a non-present, non-none entry (software leaf entries, pteinspect_compat.h). */
static u8 swap_entry_kind(pi_leaf_t entry)
{
	if (pi_leaf_is_swap(entry))
		return PTEINSPECT_KIND_SWAP;
	if (pi_leaf_is_migration_write(entry))
		return PTEINSPECT_KIND_MIGRATION_WRITE;
	if (pi_leaf_is_migration_read_exclusive(entry))
		return PTEINSPECT_KIND_MIGRATION_READ_EXCLUSIVE;
	if (pi_leaf_is_migration_read(entry))
		return PTEINSPECT_KIND_MIGRATION_READ;
	if (pi_leaf_is_device_private(entry))
		return PTEINSPECT_KIND_DEVICE_PRIVATE;
	if (pi_leaf_is_device_exclusive(entry))
		return PTEINSPECT_KIND_DEVICE_EXCLUSIVE;
	if (pi_leaf_is_hwpoison(entry))
		return PTEINSPECT_KIND_HWPOISON;
	if (pi_leaf_is_marker(entry))
		return PTEINSPECT_KIND_PTE_MARKER;
	return PTEINSPECT_KIND_OTHER;
}

/* The marker bits of a PTE marker entry, in the protocol's bits (pteinspect_compat.h). */
static u8 marker_bits(pi_leaf_t entry)
{
	pte_marker marker = pi_leaf_marker(entry);
	u8 bits = 0;

	if (marker & PTE_MARKER_UFFD_WP)
		bits |= PTEINSPECT_MARKER_UFFD_WP;
	if (marker & PI_MARKER_POISONED)
		bits |= PTEINSPECT_MARKER_POISONED;
	if (marker & PI_MARKER_GUARD)
		bits |= PTEINSPECT_MARKER_GUARD;
	if (marker & ~(pte_marker)(PTE_MARKER_UFFD_WP | PI_MARKER_POISONED | PI_MARKER_GUARD))
		bits |= PTEINSPECT_MARKER_OTHER;
	return bits;
}

static void read_swap_entry(struct pteinspect_entry *r, pi_leaf_t entry)
{
	r->kind = swap_entry_kind(entry);
	r->swap_type = swp_type(entry);
	r->swap_offset = swp_offset(entry);
	r->has |= PTEINSPECT_HAS_SWAP;
	if (r->kind == PTEINSPECT_KIND_PTE_MARKER) {
		r->pte_marker = marker_bits(entry);
		r->has |= PTEINSPECT_HAS_MARKER;
	}
	/* migration, device-private/exclusive and hwpoison entries carry a PFN (is_pfn_swap_entry) */
	if (pi_leaf_has_pfn(entry)) {
		r->pfn = pi_leaf_pfn(entry);
		r->has |= PTEINSPECT_HAS_PFN;
	}
}

/*
 * The fields every record starts with, PTE or leaf PMD. Every field not set stays 0: nothing of
 * the stack leaks.
 */
static void entry_start(struct pteinspect_entry *r, struct vm_area_struct *vma, unsigned long addr,
			u8 level, u64 raw)
{
	memset(r, 0, sizeof(*r));
	r->count = 1;
	r->addr = addr;
	r->level = level;
	r->raw = raw;
	r->linear_index = linear_page_index(vma, addr);
}

/* The bits of a present leaf (pte_write()... or pmd_write()...), as entry flags. */
static u32 present_bits(bool write, bool dirty, bool young, bool soft_dirty, bool uffd_wp)
{
	return PTEINSPECT_EF_PRESENT |
	       (write ? PTEINSPECT_EF_WRITE : 0) |
	       (dirty ? PTEINSPECT_EF_DIRTY : 0) |
	       (young ? PTEINSPECT_EF_YOUNG : 0) |
	       (soft_dirty ? PTEINSPECT_EF_SOFT_DIRTY : 0) |
	       (uffd_wp ? PTEINSPECT_EF_UFFD_WP : 0);
}

/* The bits of a swap or other non-present leaf (pte_swp_soft_dirty()... or pmd_swp_...). */
static u32 swap_bits(bool soft_dirty, bool uffd_wp)
{
	return (soft_dirty ? PTEINSPECT_EF_SOFT_DIRTY : 0) | (uffd_wp ? PTEINSPECT_EF_UFFD_WP : 0);
}

/*
 * What a present leaf maps: the vm_normal_page() decision @normal, then the page's state and,
 * with READ_DATA, its first bytes (for a leaf PMD, the THP's first page: the record's first
 * 4 KiB). Under the leaf's lock.
 */
static void read_mapped(struct pteinspect_emit *e, struct pteinspect_entry *r, unsigned long addr,
			unsigned long pfn, struct page *page, u8 normal, u32 ef)
{
	read_present(r, e->vma, addr, pfn, normal);
	if (!page)
		return;
	read_page_state(e, r, page);
	if (e->read_data && data_readable(r, ef))
		read_page_data(r, page);
}

/* One PTE, read under its lock. */
static int emit_pte(struct pteinspect_emit *e, unsigned long addr, pte_t pte)
{
	struct pteinspect_entry r;
	u32 ef;

	entry_start(&r, e->vma, addr, PTEINSPECT_LEVEL_PTE, pte_val(pte));
	if (pte_present(pte)) {
		unsigned long pfn = pte_pfn(pte);
		struct page *page = pfn_to_online_page(pfn);

		ef = present_bits(pte_write(pte), pte_dirty(pte), pte_young(pte),
				  pte_soft_dirty(pte), pi_pte_uffd(pte));
		if (pte_special(pte))
			ef |= PTEINSPECT_EF_SPECIAL;
		if (is_zero_pfn(pfn))
			ef |= PTEINSPECT_EF_ZERO_PAGE;
		read_mapped(e, &r, addr, pfn, page, pte_normal_decision(e->vma, pte, pfn, page), ef);
	} else {
		ef = swap_bits(pte_swp_soft_dirty(pte), pi_pte_swp_uffd(pte));
		if (pte_swp_exclusive(pte))
			ef |= PTEINSPECT_EF_SWP_EXCLUSIVE;
		read_swap_entry(&r, pi_leaf_from_pte(pte));
	}
	r.entry_flags = ef;
	return emit_record(e, &r);
}

/*
 * The PTEs of one table, under its lock. -EAGAIN: the table was gone (or had become a leaf) by the
 * time it was mapped (pi_pte_offset_map_lock() failed, possible since v6.5): the caller reads
 * the PMD again, as walk_pte_range() makes walk_pmd_range() do (ACTION_AGAIN, 6.12
 * mm/pagewalk.c L75-76, L149-150).
 */
static int walk_pte_table(struct pteinspect_emit *e, pmd_t *pmd, unsigned long addr,
			  unsigned long end)
{
	struct mm_struct *mm = e->vma->vm_mm;
	pte_t *start_pte, *ptep;
	spinlock_t *ptl;
	int err = 0;

	start_pte = ptep = pi_pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!start_pte)
		return -EAGAIN;
	for (; addr < end; ptep++, addr += PAGE_SIZE) {
		pte_t pte = ptep_get(ptep);

		if (pte_none(pte))
			continue;
		err = emit_pte(e, addr, pte);
		if (err) {
			e->resume = addr;
			break;
		}
	}
	pi_pte_unmap_unlock(start_pte, ptl);
	return err;
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/*
 * vm_normal_page_pmd() (mm/memory.c) as a decision with its reason.
 * - 6.1: no special bit at PMD level; the VM_PFNMAP/VM_MIXEDMAP rules of the !ARCH_HAS_PTE_SPECIAL
 *   branch, then devmap and the huge zero page.
 * - 6.12 (L671-708): the same, after "if (pmd_special(pmd)) return NULL" ("Currently it's only
 *   used for huge pfnmaps"); a special PMD is reported as a PFNMAP one where the VMA is one, as
 *   a bad one otherwise.
 * - 7.3 (__vm_normal_page() L755-810 via vm_normal_page_pmd() L868-875): the PTE rules of
 *   pte_normal_decision() (PTEINSPECT_PMD_NORMAL_AS_PTE, pteinspect_compat.h); the huge zero
 *   page's PMD is special (set_huge_zero_folio(), 7.3 mm/huge_memory.c L1556).
 * Where the kernel checks pfn > highest_memmap_pfn, pfn_valid() (see pte_normal_decision()).
 */
static u8 pmd_normal_decision(struct vm_area_struct *vma, unsigned long addr, pmd_t pmd,
			      unsigned long pfn, bool huge_zero)
{
	if (pi_pmd_special(pmd)) {
#if PTEINSPECT_PMD_NORMAL_AS_PTE
		if (pi_vma_finds_special_page(vma))
			return PTEINSPECT_NORMAL_FIND_SPECIAL_PAGE;
#endif
		if (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP))
			return PTEINSPECT_NORMAL_SPECIAL_PFNMAP;
		if (PTEINSPECT_PMD_NORMAL_AS_PTE && huge_zero)
			return PTEINSPECT_NORMAL_ZERO_PAGE;
		return PTEINSPECT_NORMAL_SPECIAL_BAD;
	}
	if (!PTEINSPECT_PMD_NORMAL_AS_PTE && (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP))) {
		if (vma->vm_flags & VM_MIXEDMAP)
			return pfn_valid(pfn) ? PTEINSPECT_NORMAL_PAGE : PTEINSPECT_NORMAL_INVALID_PFN;
		if (pfn_is_linear(vma, addr, pfn))
			return PTEINSPECT_NORMAL_PFNMAP_LINEAR;
		if (!pi_vma_is_cow_mapping(vma))
			return PTEINSPECT_NORMAL_PFNMAP_NOT_COW;
	}
	if (pi_pmd_devmap(pmd))
		return PTEINSPECT_NORMAL_DEVMAP;
	if (huge_zero)
		return PTEINSPECT_NORMAL_ZERO_PAGE;
	return pfn_valid(pfn) ? PTEINSPECT_NORMAL_PAGE : PTEINSPECT_NORMAL_INVALID_PFN;
}

/*
 * A leaf PMD (PMD-mapped THP, or a PMD migration entry), read under pmd_lock() as
 * __pmd_trans_huge_lock() (mm/huge_memory.c) does. Returns 1 if, under the lock, the PMD turned
 * out to point to a page table (a THP split raced with us): the caller walks the PTEs instead.
 */
static int emit_leaf_pmd(struct pteinspect_emit *e, pmd_t *pmdp, unsigned long addr)
{
	struct vm_area_struct *vma = e->vma;
	unsigned long haddr = addr & HPAGE_PMD_MASK;
	spinlock_t *ptl = pmd_lock(vma->vm_mm, pmdp);
	pmd_t pmd = *pmdp;
	struct pteinspect_entry r;
	u32 ef;
	int err = 0;

	if (pmd_none(pmd))
		goto unlock;			/* zapped meanwhile: a hole now */
	if (!pmd_trans_huge(pmd) && !pi_pmd_devmap(pmd) && pmd_present(pmd)) {
		spin_unlock(ptl);
		return 1;			/* split meanwhile: a PTE table now */
	}
	entry_start(&r, vma, haddr, PTEINSPECT_LEVEL_PMD, pmd_val(pmd));
	if (pmd_present(pmd)) {
		unsigned long pfn = pmd_pfn(pmd);
		struct page *page = pfn_to_online_page(pfn);

		ef = PTEINSPECT_EF_HUGE |
		     present_bits(pmd_write(pmd), pmd_dirty(pmd), pmd_young(pmd),
				  pmd_soft_dirty(pmd), pi_pmd_uffd(pmd));
		/*
		 * is_huge_zero_pmd() needs huge_zero_pfn, which 6.1 does not export. In an anonymous
		 * VMA the only non-anon page a PMD can map is the huge zero page
		 * (do_huge_pmd_anonymous_page() -> set_huge_zero_page()).
		 */
		if (page && vma_is_anonymous(vma) && !PageAnon(page))
			ef |= PTEINSPECT_EF_ZERO_PAGE;
		if (pi_pmd_special(pmd))
			ef |= PTEINSPECT_EF_SPECIAL;
		read_mapped(e, &r, haddr, pfn, page,
			    pmd_normal_decision(vma, haddr, pmd, pfn, ef & PTEINSPECT_EF_ZERO_PAGE), ef);
	} else {
		ef = PTEINSPECT_EF_HUGE | swap_bits(pmd_swp_soft_dirty(pmd), pi_pmd_swp_uffd(pmd));
		read_swap_entry(&r, pi_leaf_from_pmd(pmd));
	}
	r.entry_flags = ef;
	err = emit_record(e, &r);
unlock:
	spin_unlock(ptl);
	if (err)
		e->resume = addr;
	return err;
}
#else
static int emit_leaf_pmd(struct pteinspect_emit *e, pmd_t *pmdp, unsigned long addr)
{
	return 0;
}
#endif

static int walk_pmd(struct pteinspect_emit *e, pud_t *pud, unsigned long addr, unsigned long end)
{
	pmd_t *pmdp = pmd_offset(pud, addr);
	unsigned long next;
	int err;

	do {
		pmd_t pmd;

		next = pmd_addr_end(addr, end);
again:
		/* pmd_none_or_trans_huge_or_clear_bad() (include/linux/pgtable.h), minus the clear */
		pmd = READ_ONCE(*pmdp);
		barrier();
		if (pmd_none(pmd))
			continue;
		if (pmd_trans_huge(pmd) || pi_pmd_devmap(pmd) || !pmd_present(pmd)) {
			err = emit_leaf_pmd(e, pmdp, addr);
			if (err < 0)
				return err;
			if (err == 0)
				continue;
			/* it became a page table: fall through to the PTE walk */
		} else if (pmd_bad(pmd)) {
			continue;
		}
		/*
		 * The PMD pointed to a page table. On 6.1 it stays one under mmap_read_lock: a PTE
		 * table is freed or replaced only with mmap_lock held for write (free_pgtables(),
		 * collapse_huge_page(), retract_page_tables() with mmap_write_trylock()). Since v6.6
		 * retract_page_tables() frees a file THP's table under the mmap read lock (RCU-deferred):
		 * pi_pte_offset_map_lock() then fails, and the PMD is read again (pteinspect_compat.h).
		 */
		err = walk_pte_table(e, pmdp, addr, next);
		if (err == -EAGAIN)
			goto again;
		if (err)
			return err;
	} while (pmdp++, addr = next, addr != end);
	return 0;
}

static int walk_pud(struct pteinspect_emit *e, p4d_t *p4d, unsigned long addr, unsigned long end)
{
	pud_t *pudp = pud_offset(p4d, addr);
	unsigned long next;
	int err;

	do {
		pud_t pud = READ_ONCE(*pudp);

		next = pud_addr_end(addr, end);
		/* PUD leaves exist only for hugetlb (not walked) and DAX: not reported */
		if (pud_none(pud) || pud_trans_huge(pud) || pi_pud_devmap(pud) || pud_bad(pud))
			continue;
		err = walk_pmd(e, pudp, addr, next);
		if (err)
			return err;
	} while (pudp++, addr = next, addr != end);
	return 0;
}

static int walk_p4d(struct pteinspect_emit *e, pgd_t *pgd, unsigned long addr, unsigned long end)
{
	p4d_t *p4dp = p4d_offset(pgd, addr);
	unsigned long next;
	int err;

	do {
		p4d_t p4d = READ_ONCE(*p4dp);

		next = p4d_addr_end(addr, end);
		if (p4d_none(p4d) || p4d_bad(p4d))
			continue;
		err = walk_pud(e, p4dp, addr, next);
		if (err)
			return err;
	} while (p4dp++, addr = next, addr != end);
	return 0;
}

static int walk_vma_range(struct pteinspect_emit *e, unsigned long addr, unsigned long end)
{
	pgd_t *pgdp = pgd_offset(e->vma->vm_mm, addr);
	unsigned long next;
	int err;

	do {
		pgd_t pgd = READ_ONCE(*pgdp);

		next = pgd_addr_end(addr, end);
		if (pgd_none(pgd) || pgd_bad(pgd))
			continue;
		err = walk_p4d(e, pgdp, addr, next);
		if (err)
			return err;
	} while (pgdp++, addr = next, addr != end);
	return 0;
}

/*
 * Walk [ctx->next, ctx->end) VMA by VMA (gaps between VMAs cost one find_vma()), advancing the
 * cursor. Returns 0 when the range is done, -EMSGSIZE when the skb is full (cursor at the entry
 * that did not fit), or another error.
 */
static int walk_range(struct mm_struct *mm, struct pteinspect_dump_ctx *ctx,
		      struct pteinspect_emit *e)
{
	while (ctx->next < ctx->end) {
		struct vm_area_struct *vma = find_vma(mm, ctx->next);
		unsigned long start, end;
		int err;

		if (!vma || vma->vm_start >= ctx->end) {
			ctx->next = ctx->end;
			break;
		}
		start = max(ctx->next, vma->vm_start);
		end = min(ctx->end, vma->vm_end);
		/*
		 * hugetlb VMAs use huge_pte_lock() and huge_ptep_get() at PMD/PUD level; not
		 * supported yet, so they are skipped (documented in pteinspect.yaml).
		 */
		if (!is_vm_hugetlb_page(vma)) {
			e->vma = vma;
			err = walk_vma_range(e, start, end);
			if (err) {
				if (err == -EMSGSIZE)
					ctx->next = e->resume;
				return err;
			}
		}
		ctx->next = end;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();	/* many empty VMAs in one batch; the mmap lock is a sleeping lock */
	}
	return 0;
}

int pteinspect_ptes_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);
	struct pteinspect_emit e = { .skb = skb, .cb = cb, .budget = ENTRY_BUDGET };
	struct mm_struct *mm;
	int err;

	mm = pteinspect_dump_lock_mm(cb, &err);
	if (!mm)
		return err;
	/* only now: before v6.5 the first call above is what parsed the request (begin_dump()) */
	e.read_data = ctx->read_data;
	err = walk_range(mm, ctx, &e);
	pteinspect_dump_unlock_mm(mm);
	if (e.hdr)
		genlmsg_end(skb, e.hdr);
	return pteinspect_dump_result(skb, err);
}
