import CPteInspect

/// Which page-table level an entry sits at.
public enum EntryLevel: UInt8, Equatable {
    case pte = 0
    case pmd = 1

    public var name: String { self == .pte ? "pte" : "pmd" }
}

/// What a non-none entry is (enum pteinspect_entry_kind).
public enum EntryKind: UInt8, Equatable {
    case present = 0
    case swap
    case migrationRead
    case migrationReadExclusive
    case migrationWrite
    case devicePrivate
    case deviceExclusive
    case hwpoison
    case pteMarker
    case other

    public var name: String {
        switch self {
        case .present: return "present"
        case .swap: return "swap"
        case .migrationRead: return "migration_read"
        case .migrationReadExclusive: return "migration_read_exclusive"
        case .migrationWrite: return "migration_write"
        case .devicePrivate: return "device_private"
        case .deviceExclusive: return "device_exclusive"
        case .hwpoison: return "hwpoison"
        case .pteMarker: return "pte_marker"
        case .other: return "other"
        }
    }
}

/// Bits decoded from the entry itself (PTEINSPECT_EF_*).
public struct EntryFlags: OptionSet, Equatable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let present = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_PRESENT))
    public static let write = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_WRITE))
    public static let dirty = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_DIRTY))
    public static let young = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_YOUNG))
    public static let special = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_SPECIAL))
    public static let softDirty = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_SOFT_DIRTY))
    public static let uffdWP = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_UFFD_WP))
    public static let swapExclusive = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_SWP_EXCLUSIVE))
    public static let zeroPage = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_ZERO_PAGE))
    public static let huge = EntryFlags(rawValue: UInt64(PTEINSPECT_EF_HUGE))
}

/// struct page / folio bits (PTEINSPECT_PF_*).
public struct PageFlags: OptionSet, Equatable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let anon = PageFlags(rawValue: UInt64(PTEINSPECT_PF_ANON))
    public static let anonExclusive = PageFlags(rawValue: UInt64(PTEINSPECT_PF_ANON_EXCLUSIVE))
    public static let ksm = PageFlags(rawValue: UInt64(PTEINSPECT_PF_KSM))
    public static let swapCache = PageFlags(rawValue: UInt64(PTEINSPECT_PF_SWAPCACHE))
    public static let dirty = PageFlags(rawValue: UInt64(PTEINSPECT_PF_DIRTY))
    public static let lru = PageFlags(rawValue: UInt64(PTEINSPECT_PF_LRU))
    public static let locked = PageFlags(rawValue: UInt64(PTEINSPECT_PF_LOCKED))
    public static let writeback = PageFlags(rawValue: UInt64(PTEINSPECT_PF_WRITEBACK))
    public static let large = PageFlags(rawValue: UInt64(PTEINSPECT_PF_LARGE))
    public static let head = PageFlags(rawValue: UInt64(PTEINSPECT_PF_HEAD))
    public static let swapBacked = PageFlags(rawValue: UInt64(PTEINSPECT_PF_SWAPBACKED))
    public static let reserved = PageFlags(rawValue: UInt64(PTEINSPECT_PF_RESERVED))
    /// The kernel keeps no per-page mapcount for this page (a large folio's page, CONFIG_NO_PAGE_MAPCOUNT):
    /// `mapcount` means nothing (`PageState.pageMapcount` is nil).
    public static let noPageMapcount = PageFlags(rawValue: UInt64(PTEINSPECT_PF_NO_PAGE_MAPCOUNT))
}

/// The bits of a PTE marker entry (PTEINSPECT_MARKER_*): what an empty PTE remembers.
public struct PteMarker: OptionSet, Equatable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let uffdWP = PteMarker(rawValue: UInt32(PTEINSPECT_MARKER_UFFD_WP))
    public static let poisoned = PteMarker(rawValue: UInt32(PTEINSPECT_MARKER_POISONED))
    public static let guardRegion = PteMarker(rawValue: UInt32(PTEINSPECT_MARKER_GUARD))
    public static let other = PteMarker(rawValue: UInt32(PTEINSPECT_MARKER_OTHER))

    /// The marker names, in bit order ("uffd_wp", "poisoned", "guard", "other").
    public var names: [String] {
        [(PteMarker.uffdWP, "uffd_wp"), (.poisoned, "poisoned"), (.guardRegion, "guard"), (.other, "other")]
            .filter { contains($0.0) }.map(\.1)
    }
}

/// vm_normal_page()'s decision, recomputed by the module with the kernel's rules, and why.
public enum NormalPageDecision: UInt8, Equatable {
    case page = 0
    case specialPfnmap
    case zeroPage
    case devmap
    case findSpecialPage
    case specialBad
    case pfnmapLinear
    case pfnmapNotCow
    case invalidPfn

    /// vm_normal_page() returns the page (for findSpecialPage the driver decides: nil).
    public var returnsPage: Bool? {
        switch self {
        case .page: return true
        case .findSpecialPage: return nil
        default: return false
        }
    }

    public var name: String {
        switch self {
        case .page: return "page"
        case .specialPfnmap: return "special_pfnmap"
        case .zeroPage: return "zero_page"
        case .devmap: return "devmap"
        case .findSpecialPage: return "find_special_page"
        case .specialBad: return "special_bad"
        case .pfnmapLinear: return "pfnmap_linear"
        case .pfnmapNotCow: return "pfnmap_not_cow"
        case .invalidPfn: return "invalid_pfn"
        }
    }
}

/// What folio->mapping points to.
public enum MappingKind: UInt8, Equatable {
    case none = 0
    case anon
    case ksm
    case file
    case movable

    public var name: String {
        switch self {
        case .none: return "none"
        case .anon: return "anon_vma"
        case .ksm: return "ksm_stable_node"
        case .file: return "address_space"
        case .movable: return "movable_ops"
        }
    }
}

/// A swap-format entry's fields.
public struct SwapEntry: Equatable {
    public let type: UInt32
    public let offset: UInt64
    /// pte_swp_exclusive(): the page was PG_anon_exclusive when it was unmapped.
    public let exclusive: Bool

    @usableFromInline init(type: UInt32, offset: UInt64, exclusive: Bool) {
        self.type = type
        self.offset = offset
        self.exclusive = exclusive
    }
}

/// The struct page behind an entry, read under the page-table lock.
public struct PageState: Equatable {
    public let flags: PageFlags
    /// This page's mapcount: PTEs mapping it plus PMDs mapping its folio (/proc/kpagecount). The
    /// wire's value as it is: 0 under `.noPageMapcount`; read `pageMapcount` to tell.
    public let mapcount: Int32
    /// This page's mapcount where the kernel keeps one; nil for a large folio's page on a
    /// CONFIG_NO_PAGE_MAPCOUNT kernel (PTEINSPECT_PF_NO_PAGE_MAPCOUNT).
    public var pageMapcount: Int32? { flags.contains(.noPageMapcount) ? nil : mapcount }
    public let refcount: Int32
    /// folio->index plus the page's offset within its folio (page_to_index() on 6.1); nil when
    /// the folio is in no mapping (zero page, PFN-mapped pages): the word is no index then.
    public let index: UInt64?
    public let mappingKind: MappingKind
    /// Keyed hash of folio->mapping (anon_vma, address_space...), comparable with VMA identities.
    public let mappingID: UInt64?
    /// folio_order(): 0 a small page, 9 a PMD-sized THP, 2..8 an mTHP. nil from a module before 0.2.
    public let folioOrder: UInt8?
    /// folio_mapcount(): entries mapping any page of the folio. nil from a module before 0.2.
    public let folioMapcount: Int32?

    public init(flags: PageFlags, mapcount: Int32, refcount: Int32, index: UInt64?, mappingKind: MappingKind,
                mappingID: UInt64?, folioOrder: UInt8? = nil, folioMapcount: Int32? = nil) {
        self.flags = flags
        self.mapcount = mapcount
        self.refcount = refcount
        self.index = index
        self.mappingKind = mappingKind
        self.mappingID = mappingID
        self.folioOrder = folioOrder
        self.folioMapcount = folioMapcount
    }
}

/// One GET_PTES record.
public struct PageTableEntry: Equatable {
    public let address: UInt64
    public let level: EntryLevel
    public let raw: UInt64
    public let kind: EntryKind
    public let flags: EntryFlags
    public let pfn: UInt64?
    public let swap: SwapEntry?
    public let page: PageState?
    /// Present entries: what vm_normal_page() decides for this entry.
    public let normalPage: NormalPageDecision?
    /// Present entries: pfn == vm_pgoff + page offset in the VMA (the linearity rule of remap_pfn_range() for COW mappings, background document seeds/002).
    public let pfnLinear: Bool?
    /// linear_page_index(vma, address): where rmap expects this page's index.
    public let linearIndex: UInt64?
    /// PTE marker entries: the marker's bits.
    public let marker: PteMarker?
    /// The page's first 4 bytes, when the dump asked for them (READ_DATA) and the module read
    /// this page (anonymous or the zero page; a PMD entry's is its first page's).
    public let data: UInt32?

    public var isPresent: Bool { flags.contains(.present) }

    /// folio index == linear_page_index(vma, addr), the invariant an anon rmap walk relies on.
    public var indexIsLinear: Bool? {
        guard let page, let index = page.index, let linearIndex, page.mappingKind == .anon || page.mappingKind == .file else { return nil }
        return index == linearIndex
    }

    @usableFromInline init(address: UInt64, level: EntryLevel, raw: UInt64, kind: EntryKind, flags: EntryFlags, pfn: UInt64?,
         swap: SwapEntry?, page: PageState?, normalPage: NormalPageDecision?, pfnLinear: Bool?, linearIndex: UInt64?,
         marker: PteMarker? = nil, data: UInt32? = nil) {
        self.address = address
        self.level = level
        self.raw = raw
        self.kind = kind
        self.flags = flags
        self.pfn = pfn
        self.swap = swap
        self.page = page
        self.normalPage = normalPage
        self.pfnLinear = pfnLinear
        self.linearIndex = linearIndex
        self.marker = marker
        self.data = data
    }
}
