#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include "CPteInspect.h"

int pti_pin_to_cpu(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

void *pti_mremap_fixed(void *old, size_t length, void *target)
{
    return mremap(old, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, target);
}

int pti_fixture_pin(int fd, int unpin, uint64_t addr, uint64_t pages, uint32_t flags)
{
    struct pteinspect_pin request = { .addr = addr, .pages = pages, .flags = flags };

    return ioctl(fd, unpin ? PTEINSPECT_IOC_UNPIN : PTEINSPECT_IOC_PIN, &request);
}

/* userfaultfd(2) has no glibc wrapper in bookworm; the ioctls are variadic. */
int pti_uffd_open(uint64_t features, uint64_t *api_features, uint64_t *api_ioctls)
{
    struct uffdio_api api = { .api = UFFD_API, .features = features };
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    int saved;

    if (fd < 0)
        return -1;
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *api_features = api.features;
    *api_ioctls = api.ioctls;
    return fd;
}

int pti_uffd_register(int fd, uint64_t start, uint64_t len, uint64_t mode, uint64_t *ioctls)
{
    struct uffdio_register reg = { .range = { .start = start, .len = len }, .mode = mode };

    if (ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
        return -1;
    *ioctls = reg.ioctls;
    return 0;
}

int pti_uffd_copy(int fd, uint64_t dst, uint64_t src, uint64_t len, uint64_t mode, int64_t *copied)
{
    struct uffdio_copy copy = { .dst = dst, .src = src, .len = len, .mode = mode };
    int ret = ioctl(fd, UFFDIO_COPY, &copy);

    *copied = copy.copy;
    return ret;
}

int pti_uffd_zeropage(int fd, uint64_t start, uint64_t len, uint64_t mode, int64_t *zeroed)
{
    struct uffdio_zeropage zero = { .range = { .start = start, .len = len }, .mode = mode };
    int ret = ioctl(fd, UFFDIO_ZEROPAGE, &zero);

    *zeroed = zero.zeropage;
    return ret;
}

int pti_uffd_writeprotect(int fd, uint64_t start, uint64_t len, uint64_t mode)
{
    struct uffdio_writeprotect wp = { .range = { .start = start, .len = len }, .mode = mode };

    return ioctl(fd, UFFDIO_WRITEPROTECT, &wp);
}

int pti_uffd_move(int fd, uint64_t dst, uint64_t src, uint64_t len, uint64_t mode, int64_t *moved)
{
    struct pti_uffdio_move move = { .dst = dst, .src = src, .len = len, .mode = mode };
    int ret = ioctl(fd, PTI_UFFDIO_MOVE, &move);

    *moved = move.move;
    return ret;
}

int pti_uffd_rwprotect(int fd, uint64_t start, uint64_t len, uint64_t mode)
{
    struct pti_uffdio_rwprotect rwp = { .start = start, .len = len, .mode = mode };

    return ioctl(fd, PTI_UFFDIO_RWPROTECT, &rwp);
}

int pti_swapon(const char *path, int flags)
{
    return swapon(path, flags);
}

int pti_swapoff(const char *path)
{
    return swapoff(path);
}

int pti_uffd_continue(int fd, uint64_t start, uint64_t len, uint64_t mode, int64_t *mapped)
{
    struct uffdio_continue cont = { .range = { .start = start, .len = len }, .mode = mode };
    int ret = ioctl(fd, UFFDIO_CONTINUE, &cont);

    *mapped = cont.mapped;
    return ret;
}

int pti_memfd_create(const char *name)
{
    return (int)syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);
}

int pti_mlock_onfault(void *addr, size_t length)
{
    return mlock2(addr, length, MLOCK_ONFAULT);
}

int pti_vmsplice_pipe(void *addr, size_t length, int fds[2])
{
    struct iovec iov = { .iov_base = addr, .iov_len = length };
    int saved;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if (length > 16 * (size_t)sysconf(_SC_PAGESIZE) && fcntl(fds[1], F_SETPIPE_SZ, (int)length) < 0)
        goto fail;
    while (iov.iov_len > 0) {
        ssize_t spliced = vmsplice(fds[1], &iov, 1, 0);

        if (spliced < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        if (spliced == 0) {
            errno = EAGAIN;
            goto fail;
        }
        iov.iov_base = (char *)iov.iov_base + spliced;
        iov.iov_len -= (size_t)spliced;
    }
    return 0;
fail:
    saved = errno;
    close(fds[0]);
    close(fds[1]);
    errno = saved;
    return -1;
}

long pti_ioctl_raw(int fd, unsigned long cmd, unsigned long arg)
{
    return ioctl(fd, cmd, arg);
}

void *pti_mremap_grow(void *old, size_t length, size_t new_length)
{
    return mremap(old, length, new_length, MREMAP_MAYMOVE);
}

long pti_page_size(void)
{
    return sysconf(_SC_PAGESIZE);
}

int pti_ptrace_stop(int pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0)
		return -1;
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0 || waitpid(pid, &status, __WALL) != pid) {
		int saved = errno;

		ptrace(PTRACE_DETACH, pid, 0, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

int pti_ptrace_release(int pid)
{
	return ptrace(PTRACE_DETACH, pid, 0, 0) == 0 ? 0 : -1;
}
