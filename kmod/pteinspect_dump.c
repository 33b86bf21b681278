// SPDX-License-Identifier: GPL-2.0
/*
 * What the GET_PTES, GET_VMAS and GET_RMAP dumps share: request checks, the cursor, and taking
 * the target's mm for one batch.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>

#include "pteinspect.h"
#include "pteinspect_compat.h"

struct pteinspect_dump_ctx *pteinspect_dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct pteinspect_dump_ctx) > sizeof(cb->ctx));
	return (struct pteinspect_dump_ctx *)cb->ctx;
}

/*
 * Which attributes each dump requires, and what the refusal says when one is missing. Which
 * attributes a command accepts at all is its policy (pteinspect_main.c); the genetlink core
 * refuses the others before any of this runs.
 */
struct required_attr {
	u16 type;		/* 0 ends the list */
	const char *missing;
};

static const struct required_attr required_attrs[][4] = {
	[PTEINSPECT_CMD_GET_PTES] = {
		{ PTEINSPECT_A_PID, "missing PTEINSPECT_A_PID: the pid of the process to inspect" },
		{ PTEINSPECT_A_START, "missing PTEINSPECT_A_START: the first address of the range" },
		{ PTEINSPECT_A_END, "missing PTEINSPECT_A_END: the address after the range" },
	},
	[PTEINSPECT_CMD_GET_VMAS] = {
		{ PTEINSPECT_A_PID, "missing PTEINSPECT_A_PID: the pid of the process to inspect" },
	},
	[PTEINSPECT_CMD_GET_RMAP] = {
		{ PTEINSPECT_A_PID, "missing PTEINSPECT_A_PID: the pid of the process to inspect" },
		{ PTEINSPECT_A_START, "missing PTEINSPECT_A_START: the address of the page to look up" },
	},
};

static int check_required(u8 cmd, struct nlattr **attrs, struct netlink_ext_ack *extack)
{
	const struct required_attr *r, *end;

	if (WARN_ON_ONCE(cmd >= ARRAY_SIZE(required_attrs)))
		return -EOPNOTSUPP;
	end = required_attrs[cmd] + ARRAY_SIZE(required_attrs[cmd]);
	for (r = required_attrs[cmd]; r < end && r->type; r++) {
		if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, r->type)) {
			/* NL_SET_ERR_MSG() wants a literal; the table's strings are static too */
			if (extack)
				extack->_msg = r->missing;
			return -EINVAL;
		}
	}
	return 0;
}

/* START/END, present or defaulting to the whole user address space. */
static int parse_range(struct nlattr **attrs, struct netlink_ext_ack *extack, u64 *start, u64 *end)
{
	*start = 0;
	*end = TASK_SIZE_MAX;
	if (attrs[PTEINSPECT_A_START])
		*start = nla_get_u64(attrs[PTEINSPECT_A_START]);
	if (attrs[PTEINSPECT_A_END])
		*end = nla_get_u64(attrs[PTEINSPECT_A_END]);
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
 * Before v6.5 a dump's start() callback has no extack (PTEINSPECT_START_HAS_EXTACK,
 * pteinspect_compat.h), so on those kernels this runs from the first dumpit() call instead, whose
 * extack the core sends in NLMSG_DONE. Either way the client gets the errno and the message; only on v6.5+ does it also
 * get NLMSGERR_ATTR_OFFS / MISS_TYPE (NLMSG_DONE carries the message only).
 */
static int begin_dump(struct netlink_callback *cb, struct netlink_ext_ack *extack)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr **attrs = pi_dumpit_attrs(info);
	struct pteinspect_dump_ctx *ctx = pteinspect_dump_ctx(cb);
	struct task_struct *task;
	struct pid *pid;
	u64 start, end;
	int err;

	err = pteinspect_check_caller(cb->skb, extack);
	if (err)
		return err;

	err = check_required(info->op.cmd, attrs, extack);
	if (err)
		return err;
	err = parse_range(attrs, extack, &start, &end);
	if (err)
		return err;
	/*
	 * Page contents are what /proc/PID/mem gives, which needs ptrace access to the target
	 * (mm_access(), PTRACE_MODE_ATTACH); ptrace_may_access() is not exported, so READ_DATA
	 * asks for CAP_SYS_PTRACE on top of CAP_SYS_ADMIN: the capability that overrides its
	 * credential checks. Not the LSM hooks it also runs (Yama's ptrace_scope=3 refuses even
	 * CAP_SYS_PTRACE there): this check is the capability only.
	 */
	if (attrs[PTEINSPECT_A_READ_DATA] && !netlink_capable(cb->skb, CAP_SYS_PTRACE)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PTEINSPECT_A_READ_DATA],
				    "READ_DATA reads page contents: it needs CAP_SYS_PTRACE too (as /proc/PID/mem needs ptrace access)");
		return -EPERM;
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
	ctx->end = end;
	/* only GET_PTES's policy accepts the flag (the others refuse it, pteinspect_main.c) */
	ctx->read_data = nla_get_flag(attrs[PTEINSPECT_A_READ_DATA]);
	return 0;
}

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
