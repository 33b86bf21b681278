// SPDX-License-Identifier: GPL-2.0
/*
 * What the GET_PTES and GET_VMAS dumps share: request checks, the cursor, and taking the
 * target's mm for one batch.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/siphash.h>
#include <linux/random.h>
#include <linux/version.h>

#include "pteinspect.h"

static siphash_key_t pteinspect_id_key __ro_after_init;

void __init pteinspect_id_init(void)
{
	get_random_bytes(&pteinspect_id_key, sizeof(pteinspect_id_key));
}

/*
 * Kernel objects are named by a keyed hash of their address (as %p does): stable while the
 * module stays loaded, equal for the same object, and no kernel address leaves the kernel.
 */
u64 pteinspect_id(const void *object)
{
	return siphash_1u64((u64)(unsigned long)object, &pteinspect_id_key);
}

struct pteinspect_dump_ctx *pteinspect_dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct pteinspect_dump_ctx) > sizeof(cb->ctx));
	return (struct pteinspect_dump_ctx *)cb->ctx;
}

/* START/END: required for GET_PTES; optional for GET_VMAS, where they default to everything. */
static int parse_range(struct nlattr **attrs, struct netlink_ext_ack *extack, bool required,
		       u64 *start, u64 *end)
{
	*start = 0;
	*end = TASK_SIZE_MAX;
	if (attrs[PTEINSPECT_A_START])
		*start = nla_get_u64(attrs[PTEINSPECT_A_START]);
	else if (required) {
		NL_SET_ERR_ATTR_MISS(extack, NULL, PTEINSPECT_A_START);
		NL_SET_ERR_MSG(extack, "missing PTEINSPECT_A_START: the first address of the range");
		return -EINVAL;
	}
	if (attrs[PTEINSPECT_A_END])
		*end = nla_get_u64(attrs[PTEINSPECT_A_END]);
	else if (required) {
		NL_SET_ERR_ATTR_MISS(extack, NULL, PTEINSPECT_A_END);
		NL_SET_ERR_MSG(extack, "missing PTEINSPECT_A_END: the address after the range");
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(*start)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_START], "start is not page aligned");
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(*end)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_END], "end is not page aligned");
		return -EINVAL;
	}
	if (*end < *start) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_END],
				    "range wraps: end is below start (end is exclusive)");
		return -EINVAL;
	}
	if (*end == *start) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_END],
				    "empty range: end equals start (end is exclusive)");
		return -EINVAL;
	}
	if (*start >= TASK_SIZE_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_START],
				    "start is above the highest user address (TASK_SIZE_MAX)");
		return -EINVAL;
	}
	*end = min_t(u64, *end, TASK_SIZE_MAX);
	return 0;
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
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr **attrs = info->attrs;
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);
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
	if (info->op.cmd == PTEINSPECT_CMD_GET_RMAP &&
	    NL_REQ_ATTR_CHECK(extack, NULL, attrs, PTEINSPECT_A_START)) {
		NL_SET_ERR_MSG(extack, "missing PTEINSPECT_A_START: the address of the page to look up");
		return -EINVAL;
	}
	err = parse_range(attrs, extack, info->op.cmd == PTEINSPECT_CMD_GET_PTES, &start, &end);
	if (err)
		return err;

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
	ctx->end = end;
	return 0;
}

#define PTEINSPECT_START_HAS_EXTACK (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0))

int pteinspect_dump_start(struct netlink_callback *cb)
{
	if (PTEINSPECT_START_HAS_EXTACK)
		return begin_dump(cb, cb->extack);
	return 0;	/* cb->ctx is zeroed by __netlink_dump_start(): ctx->pid == NULL */
}

int pteinspect_dump_done(struct netlink_callback *cb)
{
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);

	put_pid(ctx->pid);
	ctx->pid = NULL;
	return 0;
}

struct mm_struct *pteinspect_dump_lock_mm(struct netlink_callback *cb, int *err)
{
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);
	struct task_struct *task;
	struct mm_struct *mm;

	*err = 0;
	if (!ctx->pid) {		/* first call, on kernels without extack in start() */
		*err = begin_dump(cb, cb->extack);
		if (*err)
			return NULL;
	}
	if (ctx->next >= ctx->end)
		return NULL;		/* done: the core sends NLMSG_DONE */

	task = get_pid_task(ctx->pid, PIDTYPE_PID);
	mm = task ? get_task_mm(task) : NULL;
	if (task)
		put_task_struct(task);
	if (!mm) {
		NL_SET_ERR_MSG(cb->extack, "the target process exited during the dump");
		*err = -ESRCH;
		return NULL;
	}
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		*err = -EINTR;
		return NULL;
	}
	return mm;
}

void pteinspect_dump_unlock_mm(struct mm_struct *mm)
{
	mmap_read_unlock(mm);
	mmput(mm);
}

int pteinspect_dump_result(struct sk_buff *skb, int err)
{
	if (err == -EMSGSIZE) {
		/* Not even one record fits an empty skb: cannot happen with dump-sized skbs. */
		return skb->len ? skb->len : -EMSGSIZE;
	}
	if (err)
		return err;
	return skb->len;	/* > 0: more to come, or 0 when the range had nothing left */
}

void *pteinspect_dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &pteinspect_family, NLM_F_MULTI, cmd);
}
