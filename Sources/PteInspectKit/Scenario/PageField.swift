/// One thing a scenario can observe about a page (its entry, its struct page, its VMA, its rmap).
/// Each backend says which of these it can see; an expectation that needs a field the backend
/// cannot see is a SKIP, never a guess.
public enum PageField: Hashable, Comparable, CustomStringConvertible {
    // The entry
    case virtualPage       // the address >> PAGE_SHIFT (what index equals before any mremap)
    case mapped            // present or swapped (anything but pte_none)
    case present
    case swapped           // a swap entry (not migration, marker...)
    case level             // "pte" or "pmd"
    case pfn
    case write, dirty, young, special, softDirty, uffdWP
    /// pte_protnone(): present to the kernel (PROTNONE) but not to the MMU: a NUMA hinting
    /// entry, or since 7.3 an RWP-protected one (uffd_wp set in an RWP-registered VMA). Read
    /// from the entry's raw value on x86-64 (the module reports it): _PAGE_PROTNONE set,
    /// _PAGE_PRESENT clear (arch/x86/include/asm/pgtable.h pte_protnone()).
    case protnone
    /// pagemap's PM_SOFT_DIRTY, what CRIU and live migration read: the entry's soft-dirty bit, or
    /// the VMA's VM_SOFTDIRTY (a VMA not yet under tracking reports every page soft-dirty):
    /// fs/proc/task_mmu.c pte_to_pagemap_entry(). The module backend derives it from both; the
    /// pagemap backend reads it.
    case pagemapSoftDirty
    case swapExclusive     // pte_swp_exclusive()
    case swapSlot          // the swap entry's type and offset ("0:0x1f3"): which slot the PTE remembers
    case pteMarker         // the marker bits of a PTE marker entry ("uffd_wp", "poisoned", "guard")
    case zeroPage          // the (huge) zero page
    // vm_normal_page()
    case normalPage        // vm_normal_page() returns a page
    case pfnLinear         // pfn == vm_pgoff + page offset (seed 002)
    // struct page / folio
    case anon, anonExclusive, ksm, swapCache, large
    case mapcount, refcount
    case folioMapcount     // folio_mapcount(): entries mapping any page of the folio
    case folioOrder        // folio_order(): 0 small, 9 PMD THP, between: mTHP
    case mappedOnce        // page_mapcount() == 1 (pagemap's PM_MMAP_EXCLUSIVE)
    case index, linearIndex
    case anonLinearIndex   // linear_anon_page_index(vma, addr): 7.3's anon index (linear_page_index before)
    case indexIsLinear     // folio->index == linear_page_index(vma, addr)
    case pageAnonVma       // keyed hash of the anon_vma folio->mapping points to
    // The VMA that contains the address
    case vmaExists, vmaPgoff, vmaAnonVma, vmaAnonVmaRoot
    case vmaAnonPgoff      // vma_start_anon_pgoff() (7.3); vm_pgoff before, where it is both
    case vmaChain          // the anon_vmas on the VMA's anon_vma_chain
    case vmaFlag(VmaFlag)  // one decoded vm_flags bit
    // The reverse map
    case rmap              // the (actor, address) pairs where rmap finds the page mapped
    // The page's contents
    case data              // its first 4 bytes, read by the module without touching the PTE (ContentTag)

    public var description: String {
        switch self {
        case .virtualPage: return "addr>>PAGE_SHIFT"
        case .mapped: return "mapped"
        case .present: return "present"
        case .swapped: return "swapped"
        case .level: return "level"
        case .pfn: return "pfn"
        case .write: return "pte.write"
        case .dirty: return "pte.dirty"
        case .young: return "pte.young"
        case .special: return "pte.special"
        case .softDirty: return "soft_dirty"
        case .uffdWP: return "uffd_wp"
        case .protnone: return "pte.protnone"
        case .pagemapSoftDirty: return "pagemap.soft_dirty"
        case .swapExclusive: return "swap.exclusive"
        case .swapSlot: return "swap.slot"
        case .pteMarker: return "pte_marker"
        case .zeroPage: return "zero_page"
        case .normalPage: return "vm_normal_page"
        case .pfnLinear: return "pfn_linear"
        case .anon: return "PageAnon"
        case .anonExclusive: return "PageAnonExclusive"
        case .ksm: return "PageKsm"
        case .swapCache: return "PageSwapCache"
        case .large: return "large_folio"
        case .mapcount: return "mapcount"
        case .refcount: return "refcount"
        case .folioMapcount: return "folio_mapcount"
        case .folioOrder: return "folio_order"
        case .mappedOnce: return "mapcount==1"
        case .index: return "index"
        case .linearIndex: return "linear_page_index"
        case .anonLinearIndex: return "linear_anon_page_index"
        case .indexIsLinear: return "index==linear"
        case .pageAnonVma: return "page.anon_vma"
        case .vmaExists: return "vma"
        case .vmaPgoff: return "vma.vm_pgoff"
        case .vmaAnonPgoff: return "vma.anon_pgoff"
        case .vmaAnonVma: return "vma.anon_vma"
        case .vmaAnonVmaRoot: return "vma.anon_vma.root"
        case .vmaChain: return "vma.anon_vma_chain"
        case let .vmaFlag(flag): return "vma.\(flag.rawValue)"
        case .rmap: return "rmap"
        case .data: return "data"
        }
    }

    public static func < (a: PageField, b: PageField) -> Bool { a.description < b.description }
}

/// An observed (or expected) value of a field.
public enum FieldValue: Equatable, CustomStringConvertible {
    case bool(Bool)
    case number(UInt64)
    case hex(UInt64)
    case text(String)
    /// Identities (anon_vma hashes, rmap hits), compared as sets.
    case set([String])
    /// The field does not apply here (no page behind a swap entry, no VMA...).
    case absent

    public var description: String {
        switch self {
        case let .bool(value): return value ? "1" : "0"
        case let .number(value): return String(value)
        case let .hex(value): return "0x" + String(value, radix: 16)
        case let .text(value): return value
        case let .set(values): return "{" + values.sorted().joined(separator: ", ") + "}"
        case .absent: return "-"
        }
    }

    /// Equality that ignores how a number is printed and the order of a set.
    public func matches(_ other: FieldValue) -> Bool {
        switch (self, other) {
        case let (.number(a), .hex(b)), let (.hex(a), .number(b)), let (.number(a), .number(b)), let (.hex(a), .hex(b)):
            return a == b
        case let (.set(a), .set(b)): return a.sorted() == b.sorted()
        default: return self == other
        }
    }
}
