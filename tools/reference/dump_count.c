// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's kernel-cost reader (tools/bench, reader "b"): the same GET_PTES dump as
 * `pteinspect`'s client asks for, received with the same 64 KiB buffer (so netlink_dump() fills
 * the same 32 KiB skbs: net/netlink/af_netlink.c netlink_recvmsg() remembers the largest
 * buffer a reader offered, max_recvmsg_len), but not decoded: it counts messages, records
 * (PTEINSPECT_A_ENTRY attributes) and the entries they stand for (their count field), and reads
 * nothing else. Its time is what the module and the socket cost; the CLI's time minus this one is
 * what decoding costs.
 *   dump_count PID START END      (hex or decimal; END exclusive)
 * Prints one result line (reader_result.h); exits 1 on an error the kernel reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "../../kmod/include/uapi/linux/pteinspect.h"
#include "reader_result.h"

static char buf[64 * 1024];
static uint64_t messages, records, entries, bytes;

static int family_attr(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_reply(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, data);
}

static int entry_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr;

	(void)data;
	messages++;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == PTEINSPECT_A_ENTRY &&
		    mnl_attr_get_payload_len(attr) == sizeof(struct pteinspect_entry)) {
			struct pteinspect_entry *e = mnl_attr_get_payload(attr);
			uint32_t count;

			memcpy(&count, &e->count, sizeof(count));	/* 4-byte aligned: fine */
			records++;
			entries += count;
		}
	return MNL_CB_OK;
}

/* NLMSG_DONE carries the dump's errno (an exited target: ESRCH); mnl_cb_run() ignores it. */
static int done_reply(const struct nlmsghdr *nlh, void *data)
{
	int err = 0;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		err = *(int *)mnl_nlmsg_get_payload(nlh);
	if (err < 0) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static struct nlmsghdr *request(uint16_t type, uint8_t cmd, uint16_t flags, uint32_t seq, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/* An ack (error 0) ends a request; a refusal sets errno. */
static int error_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error) {
		errno = -err->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/* with a control array, libmnl calls only what it names: every control type is here */
static mnl_cb_t done_ctl[NLMSG_DONE + 1] = {
	[NLMSG_NOOP] = NULL, [NLMSG_ERROR] = error_reply, [NLMSG_DONE] = done_reply,
};

/* Sends @nlh and runs @cb on every reply until the ack or NLMSG_DONE. */
static int transact(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(nl), seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0)
			return -1;
		bytes += (uint64_t)ret;
		ret = mnl_cb_run2(buf, (size_t)ret, seq, portid, cb, data, done_ctl, NLMSG_DONE + 1);
	} while (ret > MNL_CB_STOP);
	return ret;
}

int main(int argc, char **argv)
{
	struct reader_clock clock;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint16_t family = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: dump_count PID START END\n");
		return 2;
	}
	reader_clock_start(&clock);
	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("dump_count: netlink socket");
		return 1;
	}
	nlh = request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK, 1, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, PTEINSPECT_GENL_NAME);
	if (transact(nl, nlh, family_reply, &family) < 0 || !family) {
		fprintf(stderr, "dump_count: family %s: %s\n", PTEINSPECT_GENL_NAME, strerror(errno));
		return 1;
	}
	nlh = request(family, PTEINSPECT_CMD_GET_PTES, NLM_F_DUMP, 2, PTEINSPECT_GENL_VERSION);
	mnl_attr_put_u32(nlh, PTEINSPECT_A_PID, (uint32_t)strtoul(argv[1], NULL, 0));
	mnl_attr_put_u64(nlh, PTEINSPECT_A_START, strtoull(argv[2], NULL, 0));
	mnl_attr_put_u64(nlh, PTEINSPECT_A_END, strtoull(argv[3], NULL, 0));
	if (transact(nl, nlh, entry_reply, NULL) < 0) {
		fprintf(stderr, "dump_count: GET_PTES: %s\n", strerror(errno));
		return 1;
	}
	mnl_socket_close(nl);
	reader_result_print("kernel only (GET_PTES received, not decoded)", &clock, entries, bytes);
	fprintf(stderr, "dump_count: %llu messages, %llu records\n", (unsigned long long)messages,
		(unsigned long long)records);
	return 0;
}
