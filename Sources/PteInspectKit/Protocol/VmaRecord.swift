import CPteInspect

/// vm_flags decoded by the module into bits that do not depend on the kernel's config.
public struct VmaFlags: OptionSet, Equatable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Names in bit order, as `vmas` prints them.
    public static let named: [(String, VmaFlags)] = [
        ("read", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_READ))),
        ("write", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_WRITE))),
        ("exec", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_EXEC))),
        ("shared", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_SHARED))),
        ("pfnmap", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_PFNMAP))),
        ("mixedmap", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_MIXEDMAP))),
        ("io", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_IO))),
        ("dontcopy", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_DONTCOPY))),
        ("wipeonfork", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_WIPEONFORK))),
        ("mergeable", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_MERGEABLE))),
        ("hugepage", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_HUGEPAGE))),
        ("nohugepage", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_NOHUGEPAGE))),
        ("uffd_missing", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_UFFD_MISSING))),
        ("uffd_wp", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_UFFD_WP))),
        ("uffd_minor", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_UFFD_MINOR))),
        ("locked", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_LOCKED))),
        ("dontexpand", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_DONTEXPAND))),
        ("softdirty", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_SOFTDIRTY))),
        ("growsdown", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_GROWSDOWN))),
        ("maywrite", VmaFlags(rawValue: UInt64(PTEINSPECT_VMF_MAYWRITE))),
    ]

    /// The flag called `name` in `named` (empty for an unknown name).
    public static func named(_ name: String) -> VmaFlags {
        named.first { $0.0 == name }?.1 ?? []
    }

    public var names: [String] { Self.named.filter { contains($0.1) }.map(\.0) }
}

/// One GET_VMAS record.
public struct VmaRecord: Equatable {
    public let start: UInt64
    public let end: UInt64
    public let pgoff: UInt64
    /// vm_flags exactly as this kernel holds them (bit values depend on version and config).
    public let rawFlags: UInt64
    public let flags: VmaFlags
    public let id: UInt64
    /// Keyed hashes: vma->anon_vma, its root, and every anon_vma on the VMA's anon_vma_chain.
    public let anonVma: UInt64?
    public let anonVmaRoot: UInt64?
    public let anonVmaChain: [UInt64]
    /// Entries on the chain; more than `anonVmaChain` lists if the module stopped listing.
    public let anonVmaChainLength: UInt32
    /// File path, [heap], [stack], [vdso]...; nil for anonymous memory.
    public let name: String?

    public init(_ message: GenericMessage) throws {
        let table = message.table
        start = try table.required(Attr.vmaStart, "PTEINSPECT_A_VMA_START").u64()
        end = try table.required(Attr.vmaEnd, "PTEINSPECT_A_VMA_END").u64()
        guard end > start else { throw NetlinkError.malformed("VMA end 0x\(String(end, radix: 16)) <= start") }
        pgoff = try table.required(Attr.vmaPgoff, "PTEINSPECT_A_VMA_PGOFF").u64()
        rawFlags = try table.required(Attr.vmaFlags, "PTEINSPECT_A_VMA_FLAGS").u64()
        flags = VmaFlags(rawValue: try table.required(Attr.vmaFlagsDecoded, "PTEINSPECT_A_VMA_FLAGS_DECODED").u64())
        id = try table.required(Attr.vmaID, "PTEINSPECT_A_VMA_ID").u64()
        anonVma = try table[Attr.anonVmaID]?.u64()
        anonVmaRoot = try table[Attr.anonVmaRootID]?.u64()
        anonVmaChain = try (table[Attr.anonVmaChain]?.nested() ?? [])
            .filter { $0.type == Attr.anonVmaID }
            .map { try $0.u64() }
        anonVmaChainLength = try table[Attr.anonVmaChainLength]?.u32() ?? UInt32(anonVmaChain.count)
        name = try table[Attr.vmaName]?.string()
    }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// linear_page_index(): the index rmap expects for a page mapped at `address` here.
    public func linearIndex(of address: UInt64, pageShift: UInt64 = 12) -> UInt64 {
        ((address - start) >> pageShift) + pgoff
    }
}
