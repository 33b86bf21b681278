// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel object identities: what a reply says instead of a kernel address. A keyed hash
 * (siphash) of the object's address with a key drawn at module load, as %p hashes pointers
 * (lib/vsprintf.c ptr_to_id()): equal for the same object while the module stays loaded, not
 * comparable across loads, and no kernel address leaves the kernel.
 */
#include <linux/siphash.h>
#include <linux/random.h>

#include "pteinspect.h"

static siphash_key_t pteinspect_id_key __ro_after_init;

void __init pteinspect_id_init(void)
{
	get_random_bytes(&pteinspect_id_key, sizeof(pteinspect_id_key));
}

/* The identity of @object: siphash of its address under this load's key. */
u64 pteinspect_id(const void *object)
{
	return siphash_1u64((u64)(unsigned long)object, &pteinspect_id_key);
}
