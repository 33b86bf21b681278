/* SPDX-License-Identifier: GPL-2.0 */
/* pteinspect: declarations shared between the module's files. */
#ifndef PTEINSPECT_INTERNAL_H
#define PTEINSPECT_INTERNAL_H

#include <net/genetlink.h>
#include <linux/pteinspect.h>

#define PTEINSPECT_MODULE_VERSION "0.6.0"

extern struct genl_family pteinspect_family;

/* Dump cursor, kept in cb->ctx between batches (pteinspect_dump.c). */
struct pteinspect_dump_ctx {
	struct pid *pid;	/* reference taken when the dump begins, dropped in done() */
	unsigned long next;	/* first address not yet reported */
	unsigned long end;	/* exclusive */
	unsigned long skip;	/* GET_RMAP: hits already sent */
	bool read_data;		/* GET_PTES: the request had READ_DATA */
};

void pteinspect_id_init(void);
u64 pteinspect_id(const void *object);

struct pteinspect_dump_ctx *pteinspect_dump_ctx(struct netlink_callback *cb);
int pteinspect_dump_start(struct netlink_callback *cb);
int pteinspect_dump_done(struct netlink_callback *cb);
/*
 * At the top of each dumpit(): begin the dump if start() could not (before v6.5), then take the
 * target's mm and its mmap lock for reading. NULL with *err == 0: the range is done.
 */
struct mm_struct *pteinspect_dump_lock_mm(struct netlink_callback *cb, int *err);
void pteinspect_dump_unlock_mm(struct mm_struct *mm);
/* What a dumpit() returns after a batch that ended with @err. */
int pteinspect_dump_result(struct sk_buff *skb, int err);
/* The header of one reply message of a dump. */
void *pteinspect_dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd);

int pteinspect_ptes_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int pteinspect_vmas_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int pteinspect_rmap_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

int pteinspect_fixture_init(void);
void pteinspect_fixture_exit(void);

/*
 * vma_pgoff_address() from mm/internal.h (6.1), __vma_address() in 7.3 (mm/internal.h L1018-1035),
 * which out-of-tree code cannot include: the address of page @pgoff (of a folio of @nr_pages) in
 * @vma, whose first page has offset @vma_pgoff (vm_pgoff, or the anonymous page offset of
 * pi_vma_anon_pgoff() for an anonymous folio), or -EFAULT if it lies outside.
 */
static inline unsigned long vma_pgoff_address_shim(pgoff_t pgoff, unsigned long nr_pages,
						   struct vm_area_struct *vma, pgoff_t vma_pgoff)
{
	unsigned long address;

	if (pgoff >= vma_pgoff) {
		address = vma->vm_start + ((pgoff - vma_pgoff) << PAGE_SHIFT);
		if (address < vma->vm_start || address >= vma->vm_end)
			address = -EFAULT;
	} else if (pgoff + nr_pages - 1 >= vma_pgoff) {
		address = vma->vm_start;
	} else {
		address = -EFAULT;
	}
	return address;
}

/*
 * Only a caller with CAP_SYS_ADMIN in the initial user namespace may query: page-table contents
 * and PFNs are as sensitive as /proc/PID/pagemap PFNs and /proc/kpageflags (CAP_SYS_ADMIN).
 * netlink_capable() checks both the opener of the socket and the current task.
 */
static inline int pteinspect_check_caller(struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "pteinspect requires CAP_SYS_ADMIN in the initial user namespace (run as root)");
	return -EPERM;
}

#endif
