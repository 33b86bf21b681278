import CPteInspect

/// What the module can report on this kernel (PTEINSPECT_A_FEATURES).
public struct Features: OptionSet, Equatable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let swapExclusive = Features(rawValue: UInt64(PTEINSPECT_FEAT_SWP_EXCLUSIVE))
    public static let uffdWP = Features(rawValue: UInt64(PTEINSPECT_FEAT_UFFD_WP))
    public static let thp = Features(rawValue: UInt64(PTEINSPECT_FEAT_THP))
    public static let softDirty = Features(rawValue: UInt64(PTEINSPECT_FEAT_SOFT_DIRTY))
    public static let pteMarker = Features(rawValue: UInt64(PTEINSPECT_FEAT_PTE_MARKER))
    public static let uffdioMove = Features(rawValue: UInt64(PTEINSPECT_FEAT_UFFDIO_MOVE))
    public static let pmdEntries = Features(rawValue: UInt64(PTEINSPECT_FEAT_PMD_ENTRIES))
    public static let vmas = Features(rawValue: UInt64(PTEINSPECT_FEAT_VMAS))
    public static let rmap = Features(rawValue: UInt64(PTEINSPECT_FEAT_RMAP))
    public static let fixtures = Features(rawValue: UInt64(PTEINSPECT_FEAT_FIXTURES))
    /// GET_PTES can read a page's first bytes (READ_DATA, module 0.4.0).
    public static let pageData = Features(rawValue: UInt64(PTEINSPECT_FEAT_PAGE_DATA))

    /// Names in bit order, as `info` prints them.
    public static let named: [(String, Features)] = [
        ("swap_exclusive", .swapExclusive), ("uffd_wp", .uffdWP), ("thp", .thp),
        ("soft_dirty", .softDirty), ("pte_marker", .pteMarker), ("uffdio_move", .uffdioMove),
        ("pmd_entries", .pmdEntries), ("vmas", .vmas), ("rmap", .rmap), ("fixtures", .fixtures),
        ("page_data", .pageData),
    ]

    public var names: [String] { Self.named.filter { contains($0.1) }.map(\.0) }
}

/// PTEINSPECT_CMD_GET_INFO's reply.
public struct ModuleInfo: Equatable {
    public let moduleVersion: String
    public let kernelRelease: String
    public let pageSize: UInt32
    public let features: Features
    public let protocolVersion: UInt32

    public init(_ message: GenericMessage) throws {
        let table = message.table
        moduleVersion = try table.required(Attr.moduleVersion, "PTEINSPECT_A_MODULE_VERSION").string()
        kernelRelease = try table.required(Attr.kernelRelease, "PTEINSPECT_A_KERNEL_RELEASE").string()
        pageSize = try table.required(Attr.pageSize, "PTEINSPECT_A_PAGE_SIZE").u32()
        features = Features(rawValue: try table.required(Attr.features, "PTEINSPECT_A_FEATURES").u64())
        protocolVersion = try table.required(Attr.protocolVersion, "PTEINSPECT_A_PROTOCOL").u32()
    }
}
