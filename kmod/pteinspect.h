/* SPDX-License-Identifier: GPL-2.0 */
/* pteinspect: declarations shared between the module's files. */
#ifndef PTEINSPECT_INTERNAL_H
#define PTEINSPECT_INTERNAL_H

#include <net/genetlink.h>
#include <linux/pteinspect.h>

#define PTEINSPECT_MODULE_VERSION "0.1.0"

extern struct genl_family pteinspect_family;

int pteinspect_ptes_start(struct netlink_callback *cb);
int pteinspect_ptes_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int pteinspect_ptes_done(struct netlink_callback *cb);

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
