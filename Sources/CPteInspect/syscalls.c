#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
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
