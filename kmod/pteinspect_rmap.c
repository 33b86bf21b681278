// SPDX-License-Identifier: GPL-2.0
/*
 * PTEINSPECT_CMD_GET_RMAP: where the kernel's reverse map finds the folio mapped at one address.
 *
 * rmap_walk() is not exported, so this follows rmap_walk_anon() and rmap_walk_file()
 * (mm/rmap.c, 6.1; the same walk over folios in 6.12, mm/rmap.c rmap_walk_anon() L2639) with
 * exported and inline helpers:
 *   anon: anon_vma_lock_read(folio's anon_vma), every VMA in its interval tree whose pgoff range
 *         overlaps [folio->index, folio->index + nr - 1];
 *   file: i_mmap_lock_read(mapping), the same over the address_space's i_mmap tree;
 * and the address in each VMA is vma_pgoff_address() (mm/internal.h). The interval-tree
 * iterators are not exported either, so the tree is walked in full (rb_first/rb_next) and
 * filtered by the same overlap test.
 *
 * Locking, in mm/rmap.c's order (mmap_lock -> anon_vma->rwsem / i_mapping->i_mmap_rwsem ->
 * page-table lock):
 *  1. the target's mmap_lock (read): under it, the folio mapped at the address is read under its
 *     page-table lock, and so is folio->mapping. The anon_vma stays alive after the PT lock is
 *     dropped: the target VMA is linked into its tree (that is how rmap finds it), and only
 *     unlink_anon_vmas() with the mmap_lock held for writing removes that link. A file mapping
 *     lives as long as the target VMA's file.
 *  2. the anon_vma (root) rwsem or i_mmap_rwsem for reading, then, for each VMA of another
 *     process, that VMA's page-table lock, as page_vma_mapped_walk() does. No mmap_lock of the
 *     other processes is taken, as in the kernel's own walkers: their page tables cannot be freed
 *     meanwhile, because free_pgtables() unlinks a VMA from the anon_vma / i_mmap tree (write
 *     lock) before free_pgd_range() frees the tables (mm/memory.c, 6.1). The one table that can
 *     go without that (v6.6+: retract_page_tables() of a file THP, RCU-deferred) is read the way
 *     the kernel reads it, with pi_pte_offset_map_lock()'s RCU read side and PMD recheck.
 * The folio is not pinned: if it is unmapped meanwhile, the walk still reports where rmap would
 * look, and RMAP_MAPPED says whether the folio is there.
 */
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/memory_hotplug.h>
#include <linux/sched/signal.h>
#include <linux/pid_namespace.h>

#include "pteinspect.h"
#include "pteinspect_compat.h"

struct rmap_folio {
	unsigned long pfn;	/* first PFN of the folio */
	unsigned long nr;	/* folio_nr_pages() */
	pgoff_t index;		/* folio->index */
	u8 kind;		/* PTEINSPECT_MAPPING_ANON or _FILE */
	void *object;		/* the anon_vma or the address_space */
};

/*
 * The PMD slot for @addr, or NULL where an upper level is empty or not a table (PUD leaves are
 * hugetlb/DAX only). As in the GET_PTES walk, upper-level tables outlive the walk: the target's
 * mmap_lock, or for other processes the rmap lock held by the caller (see the header).
 */
static pmd_t *pmd_of(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;

	if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd)))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d)))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(READ_ONCE(*pud)) || pud_trans_huge(READ_ONCE(*pud)) || pud_bad(READ_ONCE(*pud)))
		return NULL;
	return pmd_offset(pud, addr);
}

/*
 * The leaf entry that maps @addr, found and locked: a PMD leaf under pmd_lock(), as
 * __pmd_trans_huge_lock() (mm/huge_memory.c) takes it, or a PTE under its page-table lock
 * (pi_pte_offset_map_lock(), pteinspect_compat.h). What both users of the rmap walk read from it:
 * lookup_folio() the folio mapped there, folio_mapped_at() whether a PFN of the folio is.
 */
struct leaf_entry {
	spinlock_t *ptl;
	pte_t *ptep;		/* the mapped PTE, or NULL for a PMD leaf */
	bool present;
	bool special;		/* pte_special(): no struct page the VM manages (zero page, PFNMAP) */
	unsigned long pfn;	/* of the page at @addr (for a PMD leaf, its subpage) */
};

/* false: nothing maps @addr (no table, none, bad). true: locked, leaf_unlock() when done. */
static bool leaf_lock(struct mm_struct *mm, unsigned long addr, struct leaf_entry *l)
{
	pmd_t *pmdp = pmd_of(mm, addr);
	pmd_t pmd;
	pte_t pte;

	if (!pmdp)
		return false;
again:
	pmd = READ_ONCE(*pmdp);
	if (pmd_none(pmd))
		return false;
	if (pmd_trans_huge(pmd) || pi_pmd_devmap(pmd) || !pmd_present(pmd)) {
		l->ptl = pmd_lock(mm, pmdp);
		pmd = *pmdp;
		if (pmd_present(pmd) && !pmd_trans_huge(pmd) && !pi_pmd_devmap(pmd)) {
			spin_unlock(l->ptl);	/* split meanwhile: a PTE table now */
			goto again;
		}
		if (pmd_none(pmd)) {		/* zapped meanwhile */
			spin_unlock(l->ptl);
			return false;
		}
		l->ptep = NULL;
		l->present = pmd_present(pmd);	/* else a PMD migration entry */
		l->special = false;
		l->pfn = l->present ? pmd_pfn(pmd) + ((addr & ~HPAGE_PMD_MASK) >> PAGE_SHIFT) : 0;
		return true;
	}
	if (pmd_bad(pmd))
		return false;
	l->ptep = pi_pte_offset_map_lock(mm, pmdp, addr, &l->ptl);
	if (!l->ptep)
		goto again;			/* the table went away (v6.5+): read the PMD again */
	pte = ptep_get(l->ptep);
	l->present = pte_present(pte);
	l->special = l->present && pte_special(pte);
	l->pfn = l->present ? pte_pfn(pte) : 0;
	return true;
}

static void leaf_unlock(struct leaf_entry *l)
{
	if (l->ptep)
		pi_pte_unmap_unlock(l->ptep, l->ptl);
	else
		spin_unlock(l->ptl);
}

/* The folio mapped at @addr of @vma, read under its page-table lock. */
static int lookup_folio(struct vm_area_struct *vma, unsigned long addr, struct rmap_folio *f,
			struct netlink_ext_ack *extack)
{
	struct page *page = NULL;
	struct leaf_entry l;
	unsigned long mapping;
	struct folio *folio;

	if (!leaf_lock(vma->vm_mm, addr, &l))
		goto none;
	if (l.present && !l.special)
		page = pfn_to_online_page(l.pfn);
	if (!page) {
		leaf_unlock(&l);
		goto none;
	}
	folio = page_folio(page);
	mapping = (unsigned long)READ_ONCE(folio->mapping);
	f->pfn = folio_pfn(folio);
	f->nr = folio_nr_pages(folio);
	f->index = READ_ONCE(folio->index);
	f->object = (void *)(mapping & ~PI_MAPPING_FLAGS);
	leaf_unlock(&l);

	switch (mapping & PI_MAPPING_FLAGS) {
	case PI_MAPPING_ANON:
		f->kind = PTEINSPECT_MAPPING_ANON;
		break;
	case 0:
		f->kind = PTEINSPECT_MAPPING_FILE;
		break;
	case PI_MAPPING_KSM:
		NL_SET_ERR_MSG(extack, "a KSM page: its rmap goes through KSM's stable tree, which pteinspect does not walk yet");
		return -EOPNOTSUPP;
	default:
#if PTEINSPECT_HAVE_MAPPING_MOVABLE
		NL_SET_ERR_MSG(extack, "a non-LRU movable page: it has no reverse map");
#else
		NL_SET_ERR_MSG(extack, "folio->mapping's low bits name no kind of mapping: not walked");
#endif
		return -EOPNOTSUPP;
	}
	if (!f->object && !l.ptep && vma_is_anonymous(vma)) {
		/* a PMD leaf in an anonymous VMA without a mapping: the huge zero page (pteinspect_ptes.c) */
		NL_SET_ERR_MSG(extack, "the huge zero page is mapped here: it is in no reverse map");
		return -ENOENT;
	}
	if (!f->object) {
		NL_SET_ERR_MSG(extack, "the folio has no mapping (being freed or truncated)");
		return -ENOENT;
	}
	return 0;
none:
	NL_SET_ERR_MSG(extack, "no page with a struct page is mapped at this address (hole, swap entry, zero page or PFN mapping)");
	return -ENOENT;
}

/* Does the entry at @addr of @vma map a page of @f? page_vma_mapped_walk()'s question. */
static bool folio_mapped_at(struct vm_area_struct *vma, unsigned long addr, struct rmap_folio *f)
{
	struct leaf_entry l;
	bool mapped;

	if (!leaf_lock(vma->vm_mm, addr, &l))
		return false;
	mapped = l.present && l.pfn >= f->pfn && l.pfn < f->pfn + f->nr;
	leaf_unlock(&l);
	return mapped;
}

/*
 * A process whose mm this is, in the caller's pid namespace; 0 if none (all exited). mm->owner
 * exists only with CONFIG_MEMCG, so the thread-group leaders are searched, as the OOM killer's
 * process scans do.
 */
static u32 mm_pid(struct mm_struct *mm)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct task_struct *p;
	u32 nr = 0;

	rcu_read_lock();
	for_each_process(p) {
		if (READ_ONCE(p->mm) == mm) {
			nr = task_tgid_nr_ns(p, ns);
			break;
		}
	}
	rcu_read_unlock();
	return nr;
}

struct rmap_emit {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	struct rmap_folio *folio;
	unsigned long skip;	/* hits already sent in earlier batches */
	unsigned long count;	/* hits seen in this batch's walk */
};

static int visit(struct rmap_emit *e, struct vm_area_struct *vma)
{
	struct rmap_folio *f = e->folio;
	/* an anonymous folio counts from the VMA's anonymous page offset (pteinspect_compat.h) */
	pgoff_t start = f->kind == PTEINSPECT_MAPPING_ANON ? pi_vma_anon_pgoff(vma) : vma->vm_pgoff;
	unsigned long address;
	void *hdr;

	/* the interval-tree query of rmap_walk_anon()/rmap_walk_file() */
	if (f->index + f->nr - 1 < start || f->index > start + vma_pages(vma) - 1)
		return 0;
	address = vma_pgoff_address_shim(f->index, f->nr, vma, start);
	if (IS_ERR_VALUE(address))
		return 0;
	if (e->count++ < e->skip)
		return 0;

	hdr = pteinspect_dump_put(e->skb, e->cb, PTEINSPECT_CMD_GET_RMAP);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(e->skb, PTEINSPECT_A_RMAP_PID, mm_pid(vma->vm_mm)) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_MM_ID, pteinspect_id(vma->vm_mm), PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_ADDR, address, PTEINSPECT_A_PAD) ||
	    nla_put_u8(e->skb, PTEINSPECT_A_RMAP_MAPPED, folio_mapped_at(vma, address, f)) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_VMA_START, vma->vm_start, PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_VMA_END, vma->vm_end, PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_VMA_PGOFF, vma->vm_pgoff, PTEINSPECT_A_PAD) ||
	    (PTEINSPECT_HAVE_ANON_PGOFF &&
	     nla_put_u64_64bit(e->skb, PTEINSPECT_A_VMA_ANON_PGOFF, pi_vma_anon_pgoff(vma), PTEINSPECT_A_PAD)) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_VMA_ID, pteinspect_id(vma), PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_PFN, f->pfn, PTEINSPECT_A_PAD) ||
	    nla_put_u32(e->skb, PTEINSPECT_A_FOLIO_PAGES, f->nr) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_INDEX, f->index, PTEINSPECT_A_PAD) ||
	    nla_put_u8(e->skb, PTEINSPECT_A_MAPPING_KIND, f->kind) ||
	    nla_put_u64_64bit(e->skb, PTEINSPECT_A_MAPPING_ID, pteinspect_id(f->object), PTEINSPECT_A_PAD)) {
		genlmsg_cancel(e->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(e->skb, hdr);
	return 0;
}

static int walk_rmap(struct rmap_emit *e)
{
	struct rmap_folio *f = e->folio;
	struct rb_node *node;
	int err = 0;

	if (f->kind == PTEINSPECT_MAPPING_ANON) {
		struct anon_vma *anon_vma = f->object;

		pi_anon_vma_lock_read(anon_vma);
		for (node = rb_first_cached(&anon_vma->rb_root); node && !err; node = rb_next(node))
			err = visit(e, rb_entry(node, struct anon_vma_chain, rb)->vma);
		pi_anon_vma_unlock_read(anon_vma);
	} else {
		struct address_space *mapping = f->object;

		i_mmap_lock_read(mapping);
		for (node = rb_first_cached(&mapping->i_mmap); node && !err; node = rb_next(node))
			err = visit(e, rb_entry(node, struct vm_area_struct, shared.rb));
		i_mmap_unlock_read(mapping);
	}
	return err;
}

int pteinspect_rmap_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);
	struct rmap_folio folio;
	struct rmap_emit e = { .skb = skb, .cb = cb, .folio = &folio };
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	int err;

	mm = pteinspect_dump_lock_mm(cb, &err);
	if (!mm)
		return err;
	/* ctx->next is the page's address until the walk is complete; ctx->skip counts hits sent */
	vma = find_vma(mm, ctx->next);
	if (!vma || vma->vm_start > ctx->next) {
		NL_SET_ERR_MSG(cb->extack, "no VMA contains this address");
		err = -ENOENT;
		goto out;
	}
	err = lookup_folio(vma, ctx->next, &folio, cb->extack);
	if (err)
		goto out;
	e.skip = ctx->skip;
	err = walk_rmap(&e);
	if (!err)
		ctx->next = ctx->end;	/* complete */
	else if (err == -EMSGSIZE)
		ctx->skip = e.count - 1;
out:
	pteinspect_dump_unlock_mm(mm);
	return pteinspect_dump_result(skb, err);
}
