// SPDX-License-Identifier: GPL-2.0
/*
 * PTEINSPECT_CMD_GET_PTES: a netlink dump of the page-table entries of one process.
 *
 * Locking, per dump batch (one call of the dumpit callback, i.e. one skb of replies):
 *   get_task_mm() -> mmap_read_lock_killable() -> [pmd_lock() | pte_offset_map_lock()] -> unlock.
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
#include <linux/version.h>

#include "pteinspect.h"

/* Dump cursor, kept in cb->ctx between batches. */
struct pteinspect_dump_ctx {
	struct pid *pid;	/* reference taken in start(), dropped in done() */
	unsigned long next;	/* first address not yet reported */
	unsigned long end;	/* exclusive */
};

/* One batch's output state. */
struct pteinspect_emit {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	struct vm_area_struct *vma;
	unsigned long resume;	/* when an entry did not fit: where the next batch starts */
};

static struct pteinspect_dump_ctx *dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct pteinspect_dump_ctx) > sizeof(cb->ctx));
	return (struct pteinspect_dump_ctx *)cb->ctx;
}

/*
 * Check the caller and the request, and set up the cursor. Errors carry an extack message.
 *
 * Version shim: before v6.5 a dump's start() callback has no extack (cb->extack is NULL there;
 * Jakub Kicinski, "netlink: support extack in dump ->start()", 2023, net-next for v6.5), so on
 * those kernels this runs from the first dumpit() call instead, whose extack the core sends in
 * NLMSG_DONE. Either way the client gets the errno and the message; only on v6.5+ does it also
 * get NLMSGERR_ATTR_OFFS / MISS_TYPE (NLMSG_DONE carries the message only).
 */
static int begin_dump(struct netlink_callback *cb, struct netlink_ext_ack *extack)
{
	struct nlattr **attrs = genl_dumpit_info(cb)->attrs;
	struct pteinspect_dump_ctx *ctx = dump_ctx(cb);
	struct task_struct *task;
	struct pid *pid;
	u64 start, end;
	int err;

	err = pteinspect_check_caller(cb->skb, extack);
	if (err)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, PTEINSPECT_A_PID)) {
		NL_SET_ERR_MSG(extack, "missing PTEINSPECT_A_PID: the pid of the process to inspect");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, PTEINSPECT_A_START)) {
		NL_SET_ERR_MSG(extack, "missing PTEINSPECT_A_START: the first address of the range");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, PTEINSPECT_A_END)) {
		NL_SET_ERR_MSG(extack, "missing PTEINSPECT_A_END: the address after the range");
		return -EINVAL;
	}
	start = nla_get_u64(attrs[PTEINSPECT_A_START]);
	end = nla_get_u64(attrs[PTEINSPECT_A_END]);
	if (!PAGE_ALIGNED(start)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_START], "start is not page aligned");
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(end)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_END], "end is not page aligned");
		return -EINVAL;
	}
	if (end < start) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_END],
				    "range wraps: end is below start (end is exclusive)");
		return -EINVAL;
	}
	if (end == start) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_END],
				    "empty range: end equals start (end is exclusive)");
		return -EINVAL;
	}
	if (start >= TASK_SIZE_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_START],
				    "start is above the highest user address (TASK_SIZE_MAX)");
		return -EINVAL;
	}

	pid = find_get_pid(nla_get_u32(attrs[PTEINSPECT_A_PID]));
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	if (!task) {
		put_pid(pid);
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_PID],
				    "no such process (pid not found in the caller's pid namespace)");
		return -ESRCH;
	}
	if (task->flags & PF_KTHREAD) {
		put_task_struct(task);
		put_pid(pid);
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_PID],
				    "pid is a kernel thread: it has no user address space");
		return -EINVAL;
	}
	put_task_struct(task);

	ctx->pid = pid;
	ctx->next = start;
	ctx->end = min_t(u64, end, TASK_SIZE_MAX);
	return 0;
}

#define PTEINSPECT_START_HAS_EXTACK (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0))

int pteinspect_ptes_start(struct netlink_callback *cb)
{
	if (PTEINSPECT_START_HAS_EXTACK)
		return begin_dump(cb, cb->extack);
	return 0;	/* cb->ctx is zeroed by __netlink_dump_start(): ctx->pid == NULL */
}

int pteinspect_ptes_done(struct netlink_callback *cb)
{
	struct pteinspect_dump_ctx *ctx = dump_ctx(cb);

	put_pid(ctx->pid);
	ctx->pid = NULL;
	return 0;
}

/*
 * struct page state. Called with the page-table lock held and the entry mapping @page, so the
 * page cannot be freed. For a special entry (zero page, VM_PFNMAP/VM_MIXEDMAP) the mapping holds
 * no reference and the values are a snapshot of a page the VM does not manage for this mapping.
 */
static int put_page_state(struct sk_buff *skb, struct page *page)
{
	struct folio *folio = page_folio(page);
	u64 pf = 0;

	if (PageAnon(page))
		pf |= PTEINSPECT_PF_ANON;
	if (PageKsm(page))
		pf |= PTEINSPECT_PF_KSM;
	/* include/linux/page-flags.h: PageAnonExclusive() is defined for anon, non-KSM pages only */
	if ((pf & (PTEINSPECT_PF_ANON | PTEINSPECT_PF_KSM)) == PTEINSPECT_PF_ANON &&
	    PageAnonExclusive(page))
		pf |= PTEINSPECT_PF_ANON_EXCLUSIVE;
	if (folio_test_swapcache(folio))
		pf |= PTEINSPECT_PF_SWAPCACHE;
	if (folio_test_dirty(folio))
		pf |= PTEINSPECT_PF_DIRTY;
	if (folio_test_lru(folio))
		pf |= PTEINSPECT_PF_LRU;
	if (folio_test_locked(folio))
		pf |= PTEINSPECT_PF_LOCKED;
	if (folio_test_writeback(folio))
		pf |= PTEINSPECT_PF_WRITEBACK;
	if (folio_test_large(folio))
		pf |= PTEINSPECT_PF_LARGE;
	if (PageHead(page))
		pf |= PTEINSPECT_PF_HEAD;
	if (folio_test_swapbacked(folio))
		pf |= PTEINSPECT_PF_SWAPBACKED;
	if (PageReserved(page))
		pf |= PTEINSPECT_PF_RESERVED;

	if (nla_put_u64_64bit(skb, PTEINSPECT_A_PAGE_FLAGS, pf, PTEINSPECT_A_PAD) ||
	    nla_put_s32(skb, PTEINSPECT_A_MAPCOUNT, page_mapcount(page)) ||
	    nla_put_s32(skb, PTEINSPECT_A_REFCOUNT, folio_ref_count(folio)) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_INDEX, page_to_index(page), PTEINSPECT_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Classify a non-present, non-none entry (include/linux/swapops.h). */
static u8 swap_entry_kind(swp_entry_t entry)
{
	if (!non_swap_entry(entry))
		return PTEINSPECT_KIND_SWAP;
	if (is_writable_migration_entry(entry))
		return PTEINSPECT_KIND_MIGRATION_WRITE;
	if (is_readable_exclusive_migration_entry(entry))
		return PTEINSPECT_KIND_MIGRATION_READ_EXCLUSIVE;
	if (is_readable_migration_entry(entry))
		return PTEINSPECT_KIND_MIGRATION_READ;
	if (is_device_private_entry(entry))
		return PTEINSPECT_KIND_DEVICE_PRIVATE;
	if (is_device_exclusive_entry(entry))
		return PTEINSPECT_KIND_DEVICE_EXCLUSIVE;
	if (is_hwpoison_entry(entry))
		return PTEINSPECT_KIND_HWPOISON;
	if (is_pte_marker_entry(entry))
		return PTEINSPECT_KIND_PTE_MARKER;
	return PTEINSPECT_KIND_OTHER;
}

static int put_swap_entry(struct sk_buff *skb, swp_entry_t entry, u8 kind)
{
	if (nla_put_u8(skb, PTEINSPECT_A_ENTRY_KIND, kind) ||
	    nla_put_u32(skb, PTEINSPECT_A_SWAP_TYPE, swp_type(entry)) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_SWAP_OFFSET, swp_offset(entry), PTEINSPECT_A_PAD))
		return -EMSGSIZE;
	/* migration, device-private/exclusive and hwpoison entries carry a PFN (is_pfn_swap_entry) */
	if (is_pfn_swap_entry(entry) &&
	    nla_put_u64_64bit(skb, PTEINSPECT_A_PFN, swp_offset_pfn(entry), PTEINSPECT_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static void *begin_entry(struct pteinspect_emit *e, unsigned long addr, u8 level, u64 raw)
{
	void *hdr = genlmsg_put(e->skb, NETLINK_CB(e->cb->skb).portid, e->cb->nlh->nlmsg_seq,
				&pteinspect_family, NLM_F_MULTI, PTEINSPECT_CMD_GET_PTES);

	if (!hdr)
		return NULL;
	if (nla_put_u64_64bit(e->skb, PTEINSPECT_A_ADDR, addr, PTEINSPECT_A_PAD) ||
	    nla_put_u8(e->skb, PTEINSPECT_A_LEVEL, level) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_RAW, raw, PTEINSPECT_A_PAD)) {
		genlmsg_cancel(e->skb, hdr);
		return NULL;
	}
	return hdr;
}

static int end_entry(struct pteinspect_emit *e, void *hdr, int err)
{
	if (err) {
		genlmsg_cancel(e->skb, hdr);
		return err;
	}
	genlmsg_end(e->skb, hdr);
	return 0;
}

/* One PTE, read under its lock. */
static int emit_pte(struct pteinspect_emit *e, unsigned long addr, pte_t pte)
{
	void *hdr = begin_entry(e, addr, PTEINSPECT_LEVEL_PTE, pte_val(pte));
	struct sk_buff *skb = e->skb;
	u64 ef = 0;
	int err = 0;

	if (!hdr)
		return -EMSGSIZE;

	if (pte_present(pte)) {
		unsigned long pfn = pte_pfn(pte);
		struct page *page = pfn_to_online_page(pfn);

		ef |= PTEINSPECT_EF_PRESENT;
		if (pte_write(pte))
			ef |= PTEINSPECT_EF_WRITE;
		if (pte_dirty(pte))
			ef |= PTEINSPECT_EF_DIRTY;
		if (pte_young(pte))
			ef |= PTEINSPECT_EF_YOUNG;
		if (pte_special(pte))
			ef |= PTEINSPECT_EF_SPECIAL;
		if (pte_soft_dirty(pte))
			ef |= PTEINSPECT_EF_SOFT_DIRTY;
		if (pte_uffd_wp(pte))
			ef |= PTEINSPECT_EF_UFFD_WP;
		if (is_zero_pfn(pfn))
			ef |= PTEINSPECT_EF_ZERO_PAGE;
		if (nla_put_u8(skb, PTEINSPECT_A_ENTRY_KIND, PTEINSPECT_KIND_PRESENT) ||
		    nla_put_u64_64bit(skb, PTEINSPECT_A_PFN, pfn, PTEINSPECT_A_PAD))
			err = -EMSGSIZE;
		if (!err && page)
			err = put_page_state(skb, page);
	} else {
		swp_entry_t entry = pte_to_swp_entry(pte);

		if (pte_swp_soft_dirty(pte))
			ef |= PTEINSPECT_EF_SOFT_DIRTY;
		if (pte_swp_uffd_wp(pte))
			ef |= PTEINSPECT_EF_UFFD_WP;
		if (pte_swp_exclusive(pte))
			ef |= PTEINSPECT_EF_SWP_EXCLUSIVE;
		err = put_swap_entry(skb, entry, swap_entry_kind(entry));
	}
	if (!err && nla_put_u64_64bit(skb, PTEINSPECT_A_ENTRY_FLAGS, ef, PTEINSPECT_A_PAD))
		err = -EMSGSIZE;
	return end_entry(e, hdr, err);
}

static int walk_pte_table(struct pteinspect_emit *e, pmd_t *pmd, unsigned long addr,
			  unsigned long end)
{
	struct mm_struct *mm = e->vma->vm_mm;
	pte_t *start_pte, *ptep;
	spinlock_t *ptl;
	int err = 0;

	start_pte = ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
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
	pte_unmap_unlock(start_pte, ptl);
	return err;
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
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
	void *hdr = NULL;
	u64 ef = PTEINSPECT_EF_HUGE;
	int err = 0;

	if (pmd_none(pmd))
		goto unlock;			/* zapped meanwhile: a hole now */
	if (!pmd_trans_huge(pmd) && !pmd_devmap(pmd) && pmd_present(pmd)) {
		spin_unlock(ptl);
		return 1;			/* split meanwhile: a PTE table now */
	}
	hdr = begin_entry(e, haddr, PTEINSPECT_LEVEL_PMD, pmd_val(pmd));
	if (!hdr) {
		err = -EMSGSIZE;
		goto unlock;
	}
	if (pmd_present(pmd)) {
		unsigned long pfn = pmd_pfn(pmd);
		struct page *page = pfn_to_online_page(pfn);

		ef |= PTEINSPECT_EF_PRESENT;
		if (pmd_write(pmd))
			ef |= PTEINSPECT_EF_WRITE;
		if (pmd_dirty(pmd))
			ef |= PTEINSPECT_EF_DIRTY;
		if (pmd_young(pmd))
			ef |= PTEINSPECT_EF_YOUNG;
		if (pmd_soft_dirty(pmd))
			ef |= PTEINSPECT_EF_SOFT_DIRTY;
		if (pmd_uffd_wp(pmd))
			ef |= PTEINSPECT_EF_UFFD_WP;
		/*
		 * is_huge_zero_pmd() needs huge_zero_pfn, which 6.1 does not export. In an anonymous
		 * VMA the only non-anon page a PMD can map is the huge zero page
		 * (do_huge_pmd_anonymous_page() -> set_huge_zero_page()).
		 */
		if (page && vma_is_anonymous(vma) && !PageAnon(page))
			ef |= PTEINSPECT_EF_ZERO_PAGE;
		if (nla_put_u8(e->skb, PTEINSPECT_A_ENTRY_KIND, PTEINSPECT_KIND_PRESENT) ||
		    nla_put_u64_64bit(e->skb, PTEINSPECT_A_PFN, pfn, PTEINSPECT_A_PAD))
			err = -EMSGSIZE;
		if (!err && page)
			err = put_page_state(e->skb, page);
	} else {
		swp_entry_t entry = pmd_to_swp_entry(pmd);

		if (pmd_swp_soft_dirty(pmd))
			ef |= PTEINSPECT_EF_SOFT_DIRTY;
		if (pmd_swp_uffd_wp(pmd))
			ef |= PTEINSPECT_EF_UFFD_WP;
		err = put_swap_entry(e->skb, entry, swap_entry_kind(entry));
	}
	if (!err && nla_put_u64_64bit(e->skb, PTEINSPECT_A_ENTRY_FLAGS, ef, PTEINSPECT_A_PAD))
		err = -EMSGSIZE;
	err = end_entry(e, hdr, err);
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
		/* pmd_none_or_trans_huge_or_clear_bad() (include/linux/pgtable.h), minus the clear */
		pmd = READ_ONCE(*pmdp);
		barrier();
		if (pmd_none(pmd))
			continue;
		if (pmd_trans_huge(pmd) || pmd_devmap(pmd) || !pmd_present(pmd)) {
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
		 * The PMD points to a page table. Under mmap_read_lock it stays one: in 6.1 a PTE
		 * table is freed or replaced only with mmap_lock held for write (free_pgtables(),
		 * collapse_huge_page(), retract_page_tables() with mmap_write_trylock()). That is why
		 * pte_offset_map_lock() may re-read the PMD here.
		 */
		err = walk_pte_table(e, pmdp, addr, next);
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
		if (pud_none(pud) || pud_trans_huge(pud) || pud_devmap(pud) || pud_bad(pud))
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
	struct pteinspect_dump_ctx *ctx = dump_ctx(cb);
	struct pteinspect_emit e = { .skb = skb, .cb = cb };
	struct task_struct *task;
	struct mm_struct *mm;
	int err;

	if (!ctx->pid) {		/* first call, on kernels without extack in start() */
		err = begin_dump(cb, cb->extack);
		if (err)
			return err;
	}
	if (ctx->next >= ctx->end)
		return 0;		/* done: the core sends NLMSG_DONE */

	task = get_pid_task(ctx->pid, PIDTYPE_PID);
	mm = task ? get_task_mm(task) : NULL;
	if (task)
		put_task_struct(task);
	if (!mm) {
		NL_SET_ERR_MSG(cb->extack, "the target process exited during the dump");
		return -ESRCH;
	}
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	err = walk_range(mm, ctx, &e);
	mmap_read_unlock(mm);
	mmput(mm);

	if (err == -EMSGSIZE) {
		/* Not even one entry fits an empty skb: cannot happen with NLMSG_GOODSIZE skbs. */
		if (!skb->len)
			return -EMSGSIZE;
		return skb->len;
	}
	if (err)
		return err;
	return skb->len;	/* > 0: more to come, or 0 when the range had nothing left */
}
