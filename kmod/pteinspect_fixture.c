// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pteinspect: test fixtures that act on the calling process only (see the UAPI header).
 *  - mmap: a VM_PFNMAP mapping of module-owned RAM made with remap_pfn_range(), the case of
 *    seed 002 (vm_normal_page() and raw PFN mappings).
 *  - PIN / UNPIN: FOLL_PIN (optionally FOLL_LONGTERM) pins of the caller's own pages, so the
 *    effect of a pin on fork and reclaim can be observed. All pins go with the file.
 */
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/uaccess.h>
#include <linux/capability.h>

#include "pteinspect.h"

/* Physically contiguous pages behind one or more VMAs (a fork or split copies the VMA). */
struct fixture_buffer {
	refcount_t users;	/* VMAs that map it */
	struct page *pages;
	unsigned int order;
};

struct fixture_pin {
	struct list_head node;
	unsigned long addr;
	unsigned long nr;
	struct page **pages;
};

struct fixture_file {
	struct mutex lock;	/* protects pins */
	struct list_head pins;
};

static atomic_long_t fixture_pages_allocated = ATOMIC_LONG_INIT(0);
static atomic_long_t fixture_pages_pinned = ATOMIC_LONG_INIT(0);

static void buffer_open(struct vm_area_struct *vma)
{
	struct fixture_buffer *buf = vma->vm_private_data;

	refcount_inc(&buf->users);
}

static void buffer_close(struct vm_area_struct *vma)
{
	struct fixture_buffer *buf = vma->vm_private_data;

	/* The VMA's PTEs are already zapped (unmap_region() runs before remove_vma()). */
	if (refcount_dec_and_test(&buf->users)) {
		__free_pages(buf->pages, buf->order);
		atomic_long_sub(1L << buf->order, &fixture_pages_allocated);
		kfree(buf);
	}
}

static const struct vm_operations_struct fixture_vm_ops = {
	.open = buffer_open,
	.close = buffer_close,
};

static int fixture_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	struct fixture_buffer *buf;
	int err;

	if (vma->vm_pgoff != 0)
		return -EINVAL;		/* one buffer per mapping, from offset 0 */
	if (pages == 0 || pages > PTEINSPECT_FIXTURE_MAX_PAGES)
		return -EINVAL;
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf->order = get_order(pages << PAGE_SHIFT);
	buf->pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, buf->order);
	if (!buf->pages) {
		kfree(buf);
		return -ENOMEM;
	}
	atomic_long_add(1L << buf->order, &fixture_pages_allocated);
	refcount_set(&buf->users, 1);

	/*
	 * mm/memory.c remap_pfn_range() (6.1): sets VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP and,
	 * for a COW (private, writable-capable) mapping, vm_pgoff = pfn; the PTEs are special.
	 */
	err = remap_pfn_range(vma, vma->vm_start, page_to_pfn(buf->pages), pages << PAGE_SHIFT,
			      vma->vm_page_prot);
	if (err) {
		__free_pages(buf->pages, buf->order);
		atomic_long_sub(1L << buf->order, &fixture_pages_allocated);
		kfree(buf);
		return err;
	}
	vma->vm_private_data = buf;
	vma->vm_ops = &fixture_vm_ops;
	return 0;
}

static int fixture_open(struct inode *inode, struct file *file)
{
	struct fixture_file *ff;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ff = kzalloc(sizeof(*ff), GFP_KERNEL);
	if (!ff)
		return -ENOMEM;
	mutex_init(&ff->lock);
	INIT_LIST_HEAD(&ff->pins);
	file->private_data = ff;
	return 0;
}

static void release_pin(struct fixture_pin *pin)
{
	unpin_user_pages(pin->pages, pin->nr);
	atomic_long_sub(pin->nr, &fixture_pages_pinned);
	kvfree(pin->pages);
	kfree(pin);
}

static int fixture_release(struct inode *inode, struct file *file)
{
	struct fixture_file *ff = file->private_data;
	struct fixture_pin *pin, *next;

	list_for_each_entry_safe(pin, next, &ff->pins, node) {
		list_del(&pin->node);
		release_pin(pin);
	}
	mutex_destroy(&ff->lock);
	kfree(ff);
	return 0;
}

static int read_pin_request(unsigned long arg, struct pteinspect_pin *req)
{
	if (copy_from_user(req, (void __user *)arg, sizeof(*req)))
		return -EFAULT;
	if (req->reserved || (req->flags & ~(PTEINSPECT_PIN_WRITE | PTEINSPECT_PIN_LONGTERM)))
		return -EINVAL;
	if (!PAGE_ALIGNED(req->addr) || req->pages == 0 || req->pages > PTEINSPECT_PIN_MAX_PAGES)
		return -EINVAL;
	if (req->addr + (req->pages << PAGE_SHIFT) < req->addr ||
	    req->addr + (req->pages << PAGE_SHIFT) > TASK_SIZE_MAX)
		return -EINVAL;
	return 0;
}

static long fixture_pin(struct fixture_file *ff, const struct pteinspect_pin *req)
{
	unsigned int gup = 0;
	struct fixture_pin *pin;
	long pinned;

	if (req->flags & PTEINSPECT_PIN_WRITE)
		gup |= FOLL_WRITE;
	if (req->flags & PTEINSPECT_PIN_LONGTERM)
		gup |= FOLL_LONGTERM;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	pin->pages = kvcalloc(req->pages, sizeof(*pin->pages), GFP_KERNEL);
	if (!pin->pages) {
		kfree(pin);
		return -ENOMEM;
	}
	pinned = pin_user_pages_fast(req->addr, req->pages, gup, pin->pages);
	if (pinned != req->pages) {
		if (pinned > 0)
			unpin_user_pages(pin->pages, pinned);
		kvfree(pin->pages);
		kfree(pin);
		return pinned < 0 ? pinned : -EFAULT;	/* all or nothing */
	}
	pin->addr = req->addr;
	pin->nr = req->pages;
	atomic_long_add(pin->nr, &fixture_pages_pinned);
	mutex_lock(&ff->lock);
	list_add(&pin->node, &ff->pins);
	mutex_unlock(&ff->lock);
	return 0;
}

static long fixture_unpin(struct fixture_file *ff, const struct pteinspect_pin *req)
{
	struct fixture_pin *pin, *found = NULL;

	mutex_lock(&ff->lock);
	list_for_each_entry(pin, &ff->pins, node) {
		if (pin->addr == req->addr && pin->nr == req->pages) {
			list_del(&pin->node);
			found = pin;
			break;
		}
	}
	mutex_unlock(&ff->lock);
	if (!found)
		return -ENOENT;
	release_pin(found);
	return 0;
}

static long fixture_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fixture_file *ff = file->private_data;
	struct pteinspect_pin req;
	long err;

	switch (cmd) {
	case PTEINSPECT_IOC_PIN:
	case PTEINSPECT_IOC_UNPIN:
		err = read_pin_request(arg, &req);
		if (err)
			return err;
		return cmd == PTEINSPECT_IOC_PIN ? fixture_pin(ff, &req) : fixture_unpin(ff, &req);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations fixture_fops = {
	.owner = THIS_MODULE,
	.open = fixture_open,
	.release = fixture_release,
	.mmap = fixture_mmap,
	.unlocked_ioctl = fixture_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice fixture_device = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pteinspect",
	.fops = &fixture_fops,
	.mode = 0600,
};

int pteinspect_fixture_init(void)
{
	return misc_register(&fixture_device);
}

void pteinspect_fixture_exit(void)
{
	misc_deregister(&fixture_device);
	/*
	 * Every open file holds a module reference (fops.owner), and every fixture VMA holds its
	 * file (vma->vm_file): by now all pins are released and all buffers freed. A leak warns.
	 */
	WARN_ON(atomic_long_read(&fixture_pages_pinned));
	WARN_ON(atomic_long_read(&fixture_pages_allocated));
}
