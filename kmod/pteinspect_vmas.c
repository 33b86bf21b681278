// SPDX-License-Identifier: GPL-2.0
/*
 * PTEINSPECT_CMD_GET_VMAS: a netlink dump of a process's VMAs, with vm_pgoff, vm_flags and the
 * anon_vma / anon_vma_chain identities (keyed hashes, see pteinspect_id()).
 *
 * Locking per batch: mmap_read_lock (pteinspect_dump_lock_mm()). vma->anon_vma and the
 * anon_vma_chain of a VMA can still change under the read lock: anon_vma_prepare() (a fault)
 * sets vma->anon_vma and links the first chain entry under mm->page_table_lock (mm/rmap.c
 * __anon_vma_prepare(), 6.1); everything else that changes a chain holds the mmap lock for
 * writing. So both are read under mm->page_table_lock.
 */
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/slab.h>
#include <linux/fs.h>
#include <linux/dcache.h>

#include "pteinspect.h"
#include "pteinspect_compat.h"

/* More chain entries than this are counted (ANON_VMA_CHAIN_LEN) but not listed. */
#define PTEINSPECT_CHAIN_MAX 64

static u64 decode_vm_flags(unsigned long flags)
{
	static const struct { unsigned long vm; u64 bit; } map[] = {
		{ VM_READ, PTEINSPECT_VMF_READ },
		{ VM_WRITE, PTEINSPECT_VMF_WRITE },
		{ VM_EXEC, PTEINSPECT_VMF_EXEC },
		{ VM_SHARED, PTEINSPECT_VMF_SHARED },
		{ VM_PFNMAP, PTEINSPECT_VMF_PFNMAP },
		{ VM_MIXEDMAP, PTEINSPECT_VMF_MIXEDMAP },
		{ VM_IO, PTEINSPECT_VMF_IO },
		{ VM_DONTCOPY, PTEINSPECT_VMF_DONTCOPY },
		{ VM_WIPEONFORK, PTEINSPECT_VMF_WIPEONFORK },
		{ VM_MERGEABLE, PTEINSPECT_VMF_MERGEABLE },
		{ VM_HUGEPAGE, PTEINSPECT_VMF_HUGEPAGE },
		{ VM_NOHUGEPAGE, PTEINSPECT_VMF_NOHUGEPAGE },
		{ VM_UFFD_MISSING, PTEINSPECT_VMF_UFFD_MISSING },
		{ VM_UFFD_WP, PTEINSPECT_VMF_UFFD_WP },
		{ VM_UFFD_MINOR, PTEINSPECT_VMF_UFFD_MINOR },	/* VM_NONE without the config */
		{ VM_LOCKED, PTEINSPECT_VMF_LOCKED },
		{ VM_DONTEXPAND, PTEINSPECT_VMF_DONTEXPAND },
		{ VM_SOFTDIRTY, PTEINSPECT_VMF_SOFTDIRTY },	/* 0 without CONFIG_MEM_SOFT_DIRTY */
		{ VM_GROWSDOWN, PTEINSPECT_VMF_GROWSDOWN },
		{ VM_MAYWRITE, PTEINSPECT_VMF_MAYWRITE },
	};
	u64 decoded = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].vm && (flags & map[i].vm))
			decoded |= map[i].bit;
	return decoded;
}

/* The name /proc/PID/maps shows (fs/proc/task_mmu.c show_map_vma(), 6.1 and 6.12), or NULL. */
static const char *vma_name(struct vm_area_struct *vma, char *buf, int size)
{
	struct mm_struct *mm = vma->vm_mm;

	if (vma->vm_file) {
		char *path = d_path(pi_file_user_path(vma->vm_file), buf, size);

		return IS_ERR(path) ? "(path too long)" : path;
	}
	if (vma->vm_ops && vma->vm_ops->name)
		return vma->vm_ops->name(vma);	/* [vdso], [vvar], ... (special mappings) */
	if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
		return "[heap]";
	if (vma->vm_start <= mm->start_stack && vma->vm_end >= mm->start_stack)
		return "[stack]";
	return NULL;
}

static int put_anon_vmas(struct sk_buff *skb, struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct anon_vma_chain *avc;
	struct nlattr *chain;
	u32 count = 0;
	int err = 0;

	spin_lock(&mm->page_table_lock);
	if (vma->anon_vma &&
	    (nla_put_u64_64bit(skb, PTEINSPECT_A_ANON_VMA_ID, pteinspect_id(vma->anon_vma),
			       PTEINSPECT_A_PAD) ||
	     nla_put_u64_64bit(skb, PTEINSPECT_A_ANON_VMA_ROOT_ID,
			       pteinspect_id(vma->anon_vma->root), PTEINSPECT_A_PAD))) {
		err = -EMSGSIZE;
		goto out;
	}
	chain = nla_nest_start(skb, PTEINSPECT_A_ANON_VMA_CHAIN);
	if (!chain) {
		err = -EMSGSIZE;
		goto out;
	}
	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) {
		if (count < PTEINSPECT_CHAIN_MAX &&
		    nla_put_u64_64bit(skb, PTEINSPECT_A_ANON_VMA_ID, pteinspect_id(avc->anon_vma),
				      PTEINSPECT_A_PAD)) {
			err = -EMSGSIZE;
			goto out;
		}
		count++;
	}
	nla_nest_end(skb, chain);
	if (nla_put_u32(skb, PTEINSPECT_A_ANON_VMA_CHAIN_LEN, count))
		err = -EMSGSIZE;
out:
	spin_unlock(&mm->page_table_lock);
	return err;
}

static int emit_vma(struct sk_buff *skb, struct netlink_callback *cb,
		    struct vm_area_struct *vma, char *buf)
{
	void *hdr = pteinspect_dump_put(skb, cb, PTEINSPECT_CMD_GET_VMAS);
	const char *name = vma_name(vma, buf, PATH_MAX);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_START, vma->vm_start, PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_END, vma->vm_end, PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_PGOFF, vma->vm_pgoff, PTEINSPECT_A_PAD) ||
	    (PTEINSPECT_HAVE_ANON_PGOFF &&
	     nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_ANON_PGOFF, pi_vma_anon_pgoff(vma), PTEINSPECT_A_PAD)) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_FLAGS, vma->vm_flags, PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_FLAGS_DECODED, decode_vm_flags(vma->vm_flags),
			      PTEINSPECT_A_PAD) ||
	    nla_put_u64_64bit(skb, PTEINSPECT_A_VMA_ID, pteinspect_id(vma), PTEINSPECT_A_PAD) ||
	    (name && nla_put_string(skb, PTEINSPECT_A_VMA_NAME, name)) ||
	    put_anon_vmas(skb, vma)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int pteinspect_vmas_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	char *buf;
	int err;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mm = pteinspect_dump_lock_mm(cb, &err);
	if (!mm) {
		kfree(buf);
		return err;
	}
	while (ctx->next < ctx->end) {
		vma = find_vma(mm, ctx->next);
		if (!vma || vma->vm_start >= ctx->end) {
			ctx->next = ctx->end;
			break;
		}
		err = emit_vma(skb, cb, vma, buf);
		if (err)
			break;
		ctx->next = vma->vm_end;
	}
	pteinspect_dump_unlock_mm(mm);
	kfree(buf);
	return pteinspect_dump_result(skb, err);
}
