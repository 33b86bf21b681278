/// What /proc/PID/pagemap, /proc/kpageflags and /proc/kpagecount say about one page: the second,
/// module-free source of truth (Documentation/admin-guide/mm/pagemap.rst; fs/proc/task_mmu.c
/// pagemap_pte_range() and fs/proc/page.c stable_page_flags(), 6.1). A field is nil when these
/// files cannot tell it; nothing is guessed.
public struct PagemapEntry: Equatable {
    // /proc/PID/pagemap bits
    static let present: UInt64 = 1 << 63
    static let swapped: UInt64 = 1 << 62
    static let fileOrSharedAnon: UInt64 = 1 << 61
    static let uffdWP: UInt64 = 1 << 57
    static let exclusivelyMapped: UInt64 = 1 << 56
    static let softDirty: UInt64 = 1 << 55
    static let frameMask: UInt64 = (1 << 55) - 1

    // /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h and fs/proc/internal.h)
    public enum KPF: UInt64 {
        case locked = 0, dirty = 4, lru = 5, writeback = 8, mmap = 11, anon = 12, swapcache = 13
        case swapbacked = 14, compoundHead = 15, compoundTail = 16, huge = 17, ksm = 21, thp = 22
        case zeroPage = 24, mappedToDisk = 34

        public var mask: UInt64 { 1 << rawValue }
    }

    public let address: UInt64
    /// The raw 64-bit pagemap word.
    public let word: UInt64
    /// kpageflags of the PFN (root only; nil without a PFN or when unreadable).
    public let pageFlags: UInt64?
    /// kpagecount of the PFN: page_mapcount().
    public let mapcount: UInt64?

    public var isPresent: Bool { word & Self.present != 0 }
    public var isSwapped: Bool { word & Self.swapped != 0 }
    public var isMapped: Bool { isPresent || isSwapped }
    public var softDirty: Bool { word & Self.softDirty != 0 }
    public var uffdWP: Bool { word & Self.uffdWP != 0 }
    /// PM_MMAP_EXCLUSIVE: page_mapcount() == 1 (not PG_anon_exclusive).
    public var exclusivelyMapped: Bool { word & Self.exclusivelyMapped != 0 }
    public var fileOrSharedAnon: Bool { word & Self.fileOrSharedAnon != 0 }

    /// The PFN; nil if not present, or hidden (0) because the reader lacks CAP_SYS_ADMIN.
    public var pfn: UInt64? {
        guard isPresent else { return nil }
        let frame = word & Self.frameMask
        return frame == 0 ? nil : frame
    }

    public var swapType: UInt64? { isSwapped ? word & 0x1f : nil }
    public var swapOffset: UInt64? { isSwapped ? (word & Self.frameMask) >> 5 : nil }

    public func flag(_ bit: KPF) -> Bool? { pageFlags.map { $0 & bit.mask != 0 } }

    /// PG_anon_exclusive, for the cases where kpageflags can show it: bit 34 (KPF_MAPPEDTODISK)
    /// is PG_mappedtodisk, which anon pages reuse as PG_anon_exclusive; for a THP only the head
    /// carries it (shared/semantics.md appendix B).
    public var anonExclusive: Bool? { anonExclusive(ignoringKsm: false) }

    /// `anonExclusive`, where `ignoringKsm` says the kernel's KPF_KSM bit is meaningless
    /// (PagemapQuirks.ksmOnEveryAnonPage): a real KSM page then reads as not exclusive, which it
    /// is (write_protect_page() clears PG_anon_exclusive when merging).
    public func anonExclusive(ignoringKsm: Bool) -> Bool? {
        guard let flags = pageFlags, flags & KPF.anon.mask != 0, ignoringKsm || flags & KPF.ksm.mask == 0,
              flags & KPF.compoundTail.mask == 0 else { return nil }
        return flags & KPF.mappedToDisk.mask != 0
    }
}
