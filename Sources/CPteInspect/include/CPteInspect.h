#ifndef CPTEINSPECT_H
#define CPTEINSPECT_H

#include <stdint.h>
#include <linux/userfaultfd.h>
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
 * sysconf(_SC_PAGESIZE). _SC_PAGESIZE comes from glibc's <bits/confname.h>, which this module's
 * headers include too (libmnl.h includes <unistd.h>); in a clean build clang may then attribute the
 * constant to this module instead of Glibc, and Swift files that import only Glibc no longer see it.
 * Asking here keeps the answer in one place.
 */
long pti_page_size(void);

/*
 * A debugger's hold on another process: PTRACE_SEIZE, then PTRACE_INTERRUPT and a wait for the
 * stop (pti_ptrace_stop), and PTRACE_DETACH, which lets it run on (pti_ptrace_release). ptrace(2)
 * is variadic, which Swift cannot call. The stop is what a debugger does before it pokes memory,
 * and it is what /proc/PID/mem's FOLL_FORCE needs on a kernel built with
 * CONFIG_PROC_MEM_FORCE_PTRACE (fs/proc/base.c proc_mem_foll_force(): the writer must be the
 * target's tracer). 0 or -1 with errno; the same thread must stop, access and release.
 */
int pti_ptrace_stop(int pid);
int pti_ptrace_release(int pid);

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

/*
 * userfaultfd: open a context with UFFDIO_API(features) (fd, or -1 with errno; an unknown
 * feature is EINVAL), and the range ioctls. UFFDIO_MOVE (Linux 6.8, "userfaultfd: UFFDIO_MOVE uABI") is defined here because bookworm's headers predate it; on older kernels the
 * ioctl fails with EINVAL (fs/userfaultfd.c userfaultfd_ioctl(): no such case).
 */
struct pti_uffdio_move {
    uint64_t dst, src, len, mode;
    int64_t move;
};
#define PTI_UFFDIO_MOVE _IOWR(0xAA, 0x05, struct pti_uffdio_move)
enum {
    PTI_IOC_PIN = PTEINSPECT_IOC_PIN,
    PTI_IOC_UNPIN = PTEINSPECT_IOC_UNPIN,
};
/*
 * userfaultfd read-write protection (RWP, Linux 7.3: include/uapi/linux/userfaultfd.h L88,
 * L114-115, L276-277, L293, L387-393), defined here for the same reason: UFFDIO_RWPROTECT
 * makes a registered range PROT_NONE with the uffd PTE bit set; an access faults to the reader,
 * or with UFFD_FEATURE_RWP_ASYNC the kernel restores the access itself (mm/memory.c do_uffd_rwp()).
 */
struct pti_uffdio_rwprotect {
    uint64_t start, len, mode;
};
#define PTI_UFFDIO_RWPROTECT _IOWR(0xAA, 0x09, struct pti_uffdio_rwprotect)
enum {
    PTI_UFFD_FEATURE_RWP = 1 << 17,
    PTI_UFFD_FEATURE_RWP_ASYNC = 1 << 18,
    PTI_UFFDIO_REGISTER_MODE_RWP = 1 << 3,
    PTI_UFFDIO_RWPROTECT_MODE_RWP = 1 << 0,
};
enum {
    PTI_UFFD_FEATURE_MOVE = 1 << 16,
    PTI_UFFDIO_MOVE_MODE_DONTWAKE = 1 << 0,
    PTI_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES = 1 << 1,
};
int pti_uffd_open(uint64_t features, uint64_t *api_features, uint64_t *api_ioctls);
int pti_uffd_register(int fd, uint64_t start, uint64_t len, uint64_t mode, uint64_t *ioctls);
int pti_uffd_copy(int fd, uint64_t dst, uint64_t src, uint64_t len, uint64_t mode, int64_t *copied);
int pti_uffd_zeropage(int fd, uint64_t start, uint64_t len, uint64_t mode, int64_t *zeroed);
int pti_uffd_writeprotect(int fd, uint64_t start, uint64_t len, uint64_t mode);
int pti_uffd_continue(int fd, uint64_t start, uint64_t len, uint64_t mode, int64_t *mapped);
int pti_uffd_move(int fd, uint64_t dst, uint64_t src, uint64_t len, uint64_t mode, int64_t *moved);
int pti_uffd_rwprotect(int fd, uint64_t start, uint64_t len, uint64_t mode);

/* memfd_create(name, MFD_CLOEXEC): a shmem file (no glibc wrapper in Swift's view). fd or -1. */
int pti_memfd_create(const char *name);

/* mremap(old, length, new_length, MREMAP_MAYMOVE). Returns the address or MAP_FAILED. */
void *pti_mremap_grow(void *old, size_t length, size_t new_length);

/* mlock2(addr, length, MLOCK_ONFAULT) (glibc declares mlock2 only under _GNU_SOURCE). 0 or -1
 * with errno. */
int pti_mlock_onfault(void *addr, size_t length);

/* A pipe that holds get_user_pages_fast() (FOLL_GET) references on [addr, addr + length): pipe2(),
 * F_SETPIPE_SZ to at least `length`, then vmsplice(2) of the range until all of it is in the pipe
 * (fs/splice.c iter_to_pipe() -> iov_iter_get_pages2(): a reference per page, held by the pipe
 * buffer until it is read or the pipe closed). fds[0] and fds[1] are the pipe's ends. 0, or -1
 * with errno (the pipe closed again). */
int pti_vmsplice_pipe(void *addr, size_t length, int fds[2]);

/* ioctl(fd, cmd, arg) with any command and argument (the fuzzer). 0/value or -1 with errno. */
long pti_ioctl_raw(int fd, unsigned long cmd, unsigned long arg);

/* swapon(2)/swapoff(2) (sys/swap.h is not in Swift's Glibc module). 0 or -1 with errno. */
int pti_swapon(const char *path, int flags);
int pti_swapoff(const char *path);

#endif
