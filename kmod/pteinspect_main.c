// SPDX-License-Identifier: GPL-2.0
/*
 * pteinspect: read-only inspection of page tables and struct page state over generic netlink.
 *
 * The family follows the shape of drivers/net/wireguard/netlink.c: few commands, a strict
 * declarative policy, a dump with a resumable cursor (pteinspect_ptes.c). The protocol is defined
 * in include/uapi/linux/pteinspect.h and described in pteinspect.yaml.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/utsname.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/userfaultfd_k.h>

#include "pteinspect.h"
#include "pteinspect_compat.h"

/*
 * A policy per command, validated strictly by the genetlink core: an attribute of the wrong size,
 * of a type above the policy's maxattr, or marked NLA_REJECT is refused with EINVAL and an extack
 * naming it. GET_INFO takes no attribute: its policy rejects each with a message of its own.
 * (Until module 0.6.0 it had no policy and left the refusal to the core's reject-all policy,
 * genl_op_fill_in_reject_policy(), net/netlink/genetlink.c: on 6.1 and 6.12 a two-entry array
 * with maxattr 1, so "Unknown attribute type" for anything above 1. In 7.3 that array has one
 * entry and the op keeps the family's maxattr (genl_op_from_full() L150-161,
 * genl_op_fill_in_reject_policy() L103-110, 7.3.4), so the core looks up the policy of attribute
 * N in a one-entry array (lib/nlattr.c validate_nla() L409, `pt = &policy[type]`), past its end:
 * "Unsupported attribute" where the word there is 0, and, for the attribute the fuzzer of
 * tools/harden-guest sent on Debian's 7.3.4, "kernel BUG at lib/nlattr.c:411!" (pt->type >
 * NLA_TYPE_MAX). The parse runs before the doit's CAP_SYS_ADMIN check: any user could reach it.)
 * Which of the accepted attributes a command requires is the table in pteinspect_dump.c.
 */
#define REJECT(message)	{ .type = NLA_REJECT, .reject_message = message }

/*
 * Every policy reaches READ_DATA (the last request attribute), so that the flag sent to the wrong
 * command is refused with a message rather than as a type above maxattr; the reply-only
 * attributes between END and READ_DATA are refused by every command.
 */
static const struct nla_policy pteinspect_info_policy[PTEINSPECT_A_READ_DATA + 1] = {
	[PTEINSPECT_A_PAD ... PTEINSPECT_A_READ_DATA] = REJECT("GET_INFO takes no attributes"),
};

static const struct nla_policy pteinspect_ptes_policy[PTEINSPECT_A_READ_DATA + 1] = {
	[PTEINSPECT_A_PAD ... PTEINSPECT_A_PROTOCOL] = REJECT("GET_PTES takes only PID, START, END and READ_DATA"),
	[PTEINSPECT_A_PID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[PTEINSPECT_A_START]	= { .type = NLA_U64 },
	[PTEINSPECT_A_END]	= { .type = NLA_U64 },
	[PTEINSPECT_A_ADDR ... PTEINSPECT_A_ENTRY] = REJECT("GET_PTES takes only PID, START, END and READ_DATA"),
	[PTEINSPECT_A_READ_DATA] = { .type = NLA_FLAG },
};

static const struct nla_policy pteinspect_vmas_policy[PTEINSPECT_A_READ_DATA + 1] = {
	[PTEINSPECT_A_PAD ... PTEINSPECT_A_PROTOCOL] = REJECT("GET_VMAS takes only PID, START and END"),
	[PTEINSPECT_A_PID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[PTEINSPECT_A_START]	= { .type = NLA_U64 },
	[PTEINSPECT_A_END]	= { .type = NLA_U64 },
	[PTEINSPECT_A_ADDR ... PTEINSPECT_A_ENTRY] = REJECT("GET_VMAS takes only PID, START and END"),
	[PTEINSPECT_A_READ_DATA] = REJECT("READ_DATA is a GET_PTES flag: VMAs have no page data"),
};

static const struct nla_policy pteinspect_rmap_policy[PTEINSPECT_A_READ_DATA + 1] = {
	[PTEINSPECT_A_PAD ... PTEINSPECT_A_PROTOCOL] = REJECT("GET_RMAP takes only PID and START"),
	[PTEINSPECT_A_PID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[PTEINSPECT_A_START]	= { .type = NLA_U64 },
	[PTEINSPECT_A_END]	= REJECT("GET_RMAP takes one address (START, the page to look up), not a range: no END"),
	[PTEINSPECT_A_ADDR ... PTEINSPECT_A_ENTRY] = REJECT("GET_RMAP takes only PID and START"),
	[PTEINSPECT_A_READ_DATA] = REJECT("READ_DATA is a GET_PTES flag, not GET_RMAP's"),
};

static u64 pteinspect_features(void)
{
	u64 f = PTEINSPECT_FEAT_PMD_ENTRIES | PTEINSPECT_FEAT_VMAS | PTEINSPECT_FEAT_RMAP |
		PTEINSPECT_FEAT_FIXTURES | PTEINSPECT_FEAT_PAGE_DATA;

#if PTEINSPECT_HAVE_SWP_EXCLUSIVE
	f |= PTEINSPECT_FEAT_SWP_EXCLUSIVE;
#endif
#if defined(CONFIG_HAVE_ARCH_USERFAULTFD_WP) && defined(CONFIG_USERFAULTFD)
	f |= PTEINSPECT_FEAT_UFFD_WP;
#endif
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	if (has_transparent_hugepage())
		f |= PTEINSPECT_FEAT_THP;
#endif
#ifdef CONFIG_MEM_SOFT_DIRTY
	f |= PTEINSPECT_FEAT_SOFT_DIRTY;
#endif
#if PTEINSPECT_HAVE_PTE_MARKER
	f |= PTEINSPECT_FEAT_PTE_MARKER;
#endif
	/*
	 * UFFDIO_MOVE: commit adef440691ba ("userfaultfd: UFFDIO_MOVE uABI"), first in v6.8.
	 * Feature test: the ioctl number in the kernel's own uapi header.
	 */
#if defined(UFFDIO_MOVE) && defined(CONFIG_USERFAULTFD)
	f |= PTEINSPECT_FEAT_UFFDIO_MOVE;
#endif
	return f;
}

static int pteinspect_get_info_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = pteinspect_check_caller(skb, info->extack);
	if (err)
		return err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pteinspect_family, 0, PTEINSPECT_CMD_GET_INFO);
	if (!hdr)
		goto too_big;
	if (nla_put_string(msg, PTEINSPECT_A_MODULE_VERSION, PTEINSPECT_MODULE_VERSION) ||
	    nla_put_string(msg, PTEINSPECT_A_KERNEL_RELEASE, utsname()->release) ||
	    nla_put_u32(msg, PTEINSPECT_A_PAGE_SIZE, PAGE_SIZE) ||
	    nla_put_u64_64bit(msg, PTEINSPECT_A_FEATURES, pteinspect_features(), PTEINSPECT_A_PAD) ||
	    nla_put_u32(msg, PTEINSPECT_A_PROTOCOL, PTEINSPECT_GENL_VERSION))
		goto too_big;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

too_big:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_ops pteinspect_ops[] = {
	{
		.cmd	= PTEINSPECT_CMD_GET_INFO,
		.policy	= pteinspect_info_policy,
		.maxattr = PTEINSPECT_A_READ_DATA,
		.doit	= pteinspect_get_info_doit,
	},
	{
		.cmd	= PTEINSPECT_CMD_GET_PTES,
		.policy	= pteinspect_ptes_policy,
		.maxattr = PTEINSPECT_A_READ_DATA,
		.start	= pteinspect_dump_start,
		.dumpit	= pteinspect_ptes_dumpit,
		.done	= pteinspect_dump_done,
	},
	{
		.cmd	= PTEINSPECT_CMD_GET_VMAS,
		.policy	= pteinspect_vmas_policy,
		.maxattr = PTEINSPECT_A_READ_DATA,
		.start	= pteinspect_dump_start,
		.dumpit	= pteinspect_vmas_dumpit,
		.done	= pteinspect_dump_done,
	},
	{
		.cmd	= PTEINSPECT_CMD_GET_RMAP,
		.policy	= pteinspect_rmap_policy,
		.maxattr = PTEINSPECT_A_READ_DATA,
		.start	= pteinspect_dump_start,
		.dumpit	= pteinspect_rmap_dumpit,
		.done	= pteinspect_dump_done,
	},
};

struct genl_family pteinspect_family __ro_after_init = {
	.name		= PTEINSPECT_GENL_NAME,
	.version	= PTEINSPECT_GENL_VERSION,
	.maxattr	= PTEINSPECT_A_MAX,
	.module		= THIS_MODULE,
	.ops		= pteinspect_ops,
	.n_ops		= ARRAY_SIZE(pteinspect_ops),
	/* resv_start_op 0: strict validation, reserved header fields checked, for every command */
	.resv_start_op	= 0,
};

static int __init pteinspect_init(void)
{
	int err;

	pteinspect_id_init();
	err = genl_register_family(&pteinspect_family);
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		return err;
	}
	err = pteinspect_fixture_init();
	if (err) {
		pr_err("cannot register /dev/pteinspect: %d\n", err);
		genl_unregister_family(&pteinspect_family);
	}
	return err;
}

static void __exit pteinspect_exit(void)
{
	/*
	 * Dumps in flight hold a module reference (netlink_dump_start), and so does every open
	 * /dev/pteinspect file, including the ones kept open by fixture mappings (vma->vm_file):
	 * nothing of ours is running or mapped here.
	 */
	pteinspect_fixture_exit();
	genl_unregister_family(&pteinspect_family);
}

module_init(pteinspect_init);
module_exit(pteinspect_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("pteinspect developers");
MODULE_DESCRIPTION("Read-only page table and struct page inspection over generic netlink");
MODULE_VERSION(PTEINSPECT_MODULE_VERSION);
MODULE_ALIAS_GENL_FAMILY(PTEINSPECT_GENL_NAME);
