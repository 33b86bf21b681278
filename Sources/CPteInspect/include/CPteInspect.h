#ifndef CPTEINSPECT_H
#define CPTEINSPECT_H

#include <stdint.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

/* The protocol, from the module's own header: numbers are never written twice. */
#include "../../../kmod/include/uapi/linux/pteinspect.h"

/* Values of function-like macros, which Swift cannot import. */
enum {
    PTI_NLMSG_HDRLEN = NLMSG_HDRLEN,
    PTI_GENL_HDRLEN = GENL_HDRLEN,
    PTI_NLA_HDRLEN = NLA_HDRLEN,
    PTI_NLMSGERR_SIZE = sizeof(struct nlmsgerr),
};

/*
 * Ask the kernel for extended acks (error messages), capped acks (no echo of our request) and
 * strict checking of dump requests. Returns 0 or -1 with errno set.
 */
int pti_socket_configure(struct mnl_socket *socket);

/*
 * Pin the calling thread (and the children it forks) to one CPU: a page still sitting in another
 * CPU's LRU batch holds an extra reference, which turns a COW reuse into a copy
 * (shared/semantics.md section 2). CPU_SET is a macro, hence C. Returns 0 or -1 with errno.
 */
int pti_pin_to_cpu(int cpu);

/*
 * mremap(old, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, target): mremap is variadic, which
 * Swift cannot call. Returns the new address or MAP_FAILED with errno.
 */
void *pti_mremap_fixed(void *old, size_t length, void *target);

/*
 * PTEINSPECT_IOC_PIN (unpin == 0) or PTEINSPECT_IOC_UNPIN on /dev/pteinspect (ioctl is variadic).
 * Returns 0 or -1 with errno.
 */
int pti_fixture_pin(int fd, int unpin, uint64_t addr, uint64_t pages, uint32_t flags);

#endif
