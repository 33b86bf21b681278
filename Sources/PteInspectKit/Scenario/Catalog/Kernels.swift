/// The kernel ranges the catalog's expectations hold for, each with the change it follows.
/// Lower bounds are the releases that introduced a behaviour; upper bounds are releases that
/// changed it. Where shared/semantics.md (section 4) marks a later change as unconfirmed, the
/// bound says so instead of pretending to know.
enum Kernels {
    /// The anon_vma + vm_pgoff rmap (Andrea Arcangeli's anon_vma, 2.6.7 era, seed 003) and
    /// remap_pfn_range()'s vm_pgoff = pfn for COW mappings (Linus Torvalds, 2.6.15, seed 002).
    static let always = KernelRange(basis: "unchanged since the anon_vma / VM_PFNMAP designs of 2.6")
    /// PG_anon_exclusive ("mm: remember exclusively mapped anonymous pages with PG_anon_exclusive")
    /// and the swap PTE bit ("mm/swap: remember PG_anon_exclusive via a swp pte bit"), 5.19.
    static let anonExclusive = KernelRange(from: KernelVersion(5, 19), basis: "PG_anon_exclusive and the swap PTE exclusive bit, 5.19")
    /// A read fault on an exclusive swap entry maps the page read-only before v6.11 (6.1.192
    /// mm/memory.c L4053-4058: write only on FAULT_FLAG_WRITE). Since c18160dba5ff ("mm: swap:
    /// reuse exclusive folio directly instead of wp page faults", Barry Song) in v6.11 it maps it
    /// writable when the VMA is writable and neither uffd-wp nor soft-dirty tracking needs the
    /// write fault (6.12.117 mm/memory.c L4544-4553). Both sides verified by running on Debian's
    /// 6.1 and 6.12.
    static let readSwapinReadOnly = KernelRange(from: KernelVersion(5, 19), below: KernelVersion(6, 11),
                                                basis: "5.19 swap exclusive bit; read swap-in writable since c18160dba5ff (v6.11)")
    static let readSwapinWritable = KernelRange(from: KernelVersion(6, 11),
                                                basis: "c18160dba5ff \"mm: swap: reuse exclusive folio directly instead of wp page faults\", v6.11")
    /// UFFDIO_WRITEPROTECT resolve leaves the PTE read-only before v6.3 (6.1.192 mm/userfaultfd.c
    /// uffd_wp_range() L738-753: MM_CP_UFFD_WP_RESOLVE with vm_get_page_prot(), no write upgrade).
    /// Since 931298e103c2 ("mm/userfaultfd: rely on vma->vm_page_prot in uffd_wp_range()", David
    /// Hildenbrand) resolving adds MM_CP_TRY_CHANGE_WRITABLE (6.12.117 mm/userfaultfd.c L918-925)
    /// and change_pte_range() makes an exclusive anon PTE writable (6.12.117 mm/mprotect.c
    /// L190-193, can_change_pte_writable() L43). The commit came through the mm tree merged for
    /// v6.3 (its release is inferred from that merge, not read from a tag); both supported kernels
    /// are far from the bound and both sides are verified by running.
    static let uffdResolveReadOnly = KernelRange(from: KernelVersion(5, 19), below: KernelVersion(6, 3),
                                                 basis: "resolve makes exclusive anon PTEs writable since 931298e103c2 (v6.3)")
    static let uffdResolveWritable = KernelRange(from: KernelVersion(6, 3),
                                                 basis: "931298e103c2 \"mm/userfaultfd: rely on vma->vm_page_prot in uffd_wp_range()\", v6.3")
    /// FOLL_PIN pages are copied for the child at fork ("mm: Do early cow for pinned pages during
    /// fork() for ptes", 5.9); with PG_anon_exclusive (5.19) the parent's page stays exclusive.
    static let pinnedFork = KernelRange(from: KernelVersion(5, 19), basis: "early COW of pinned pages at fork (5.9) + PG_anon_exclusive (5.19)")
    /// UFFDIO_MOVE (adef440691ba, "userfaultfd: UFFDIO_MOVE uABI", v6.8).
    static let uffdioMove = KernelRange(from: KernelVersion(6, 8), basis: "UFFDIO_MOVE, adef440691ba, v6.8")
    /// UFFDIO_MOVE of a swap entry whose folio sits in the swapcache rewrites that folio's mapping
    /// and index too: c50f8e6053b0 ("mm: fix kernel BUG when userfaultfd_move encounters
    /// swapcache") in v6.14, backported to the 6.12 stable series (Debian 6.12.117 has it:
    /// mm/userfaultfd.c move_swap_pte() L1107-1108). 6.8..6.11 and unfixed 6.12/6.13 do not: the
    /// later swap-in BUGs. Claimed only where verified: Debian's 6.12 line from 6.12.117 (v6.14+
    /// has the fix too, but is not a kernel pteinspect runs on yet).
    static let uffdioMoveSwapcache = KernelRange(from: KernelVersion(6, 12, 117), below: KernelVersion(6, 13),
                                                 basis: "c50f8e6053b0 (v6.14), in Debian's 6.12.117 as a stable backport")
    /// Kernels without UFFDIO_MOVE.
    static let noUffdioMove = KernelRange(below: KernelVersion(6, 8), basis: "UFFDIO_MOVE arrived in 6.8 (adef440691ba)")
    /// GUP_PIN_COUNTING_BIAS (1024 references per FOLL_PIN on a small page), 5.7.
    static let pinBias = KernelRange(from: KernelVersion(5, 7), basis: "FOLL_PIN reference bias GUP_PIN_COUNTING_BIAS, 5.7")
    /// do_wp_page()'s reuse decision by PG_anon_exclusive, then refcount (5.19; refcount-only
    /// since Linus Torvalds' "mm: do_wp_page() simplification", 5.9).
    static let wpReuse = KernelRange(from: KernelVersion(5, 19), basis: "do_wp_page() reuse by PG_anon_exclusive / refcount, 5.19")
    /// x86 pte_special() decides vm_normal_page() (CONFIG_ARCH_HAS_PTE_SPECIAL, x86 since 2.6.2x).
    static let special = KernelRange(basis: "ARCH_HAS_PTE_SPECIAL on x86")
}
