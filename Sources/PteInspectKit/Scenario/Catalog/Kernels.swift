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
    /// A read fault on an exclusive swap entry maps the page read-only in 6.1; Barry Song's
    /// "mm: swap: reuse exclusive folio directly instead of wp page faults" (2024) maps it
    /// writable. semantics.md places that at about 6.11 (unconfirmed), so the bound is 6.11.
    static let readSwapinReadOnly = KernelRange(from: KernelVersion(5, 19), below: KernelVersion(6, 11),
                                                basis: "5.19 swap exclusive bit; writable read swap-in from about 6.11 (unconfirmed)")
    /// UFFDIO_WRITEPROTECT resolve leaves the PTE read-only in 6.1 (no MM_CP_TRY_CHANGE_WRITABLE);
    /// later kernels restore write for dirty exclusive pages (release unconfirmed; 6.2 is the
    /// earliest it could be).
    static let uffdResolveReadOnly = KernelRange(from: KernelVersion(5, 19), below: KernelVersion(6, 2),
                                                 basis: "observed on 6.1; later kernels may restore write on resolve (release unconfirmed)")
    /// FOLL_PIN pages are copied for the child at fork ("mm: Do early cow for pinned pages during
    /// fork() for ptes", 5.9); with PG_anon_exclusive (5.19) the parent's page stays exclusive.
    static let pinnedFork = KernelRange(from: KernelVersion(5, 19), basis: "early COW of pinned pages at fork (5.9) + PG_anon_exclusive (5.19)")
    /// UFFDIO_MOVE ("userfaultfd: UFFDIO_MOVE uABI", 6.8).
    static let uffdioMove = KernelRange(from: KernelVersion(6, 8), basis: "UFFDIO_MOVE, 6.8")
    /// Kernels without UFFDIO_MOVE.
    static let noUffdioMove = KernelRange(below: KernelVersion(6, 8), basis: "UFFDIO_MOVE arrived in 6.8")
    /// GUP_PIN_COUNTING_BIAS (1024 references per FOLL_PIN on a small page), 5.7.
    static let pinBias = KernelRange(from: KernelVersion(5, 7), basis: "FOLL_PIN reference bias GUP_PIN_COUNTING_BIAS, 5.7")
    /// do_wp_page()'s reuse decision by PG_anon_exclusive, then refcount (5.19; refcount-only
    /// since Linus Torvalds' "mm: do_wp_page() simplification", 5.9).
    static let wpReuse = KernelRange(from: KernelVersion(5, 19), basis: "do_wp_page() reuse by PG_anon_exclusive / refcount, 5.19")
    /// x86 pte_special() decides vm_normal_page() (CONFIG_ARCH_HAS_PTE_SPECIAL, x86 since 2.6.2x).
    static let special = KernelRange(basis: "ARCH_HAS_PTE_SPECIAL on x86")
}
