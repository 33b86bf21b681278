import CPteInspect

/// One decoded vm_flags bit the module reports (PTEINSPECT_VMF_*, UAPI header), by the name
/// `vmas` prints and scenarios use: a name that is not here is an error where it is written, not
/// a field nobody can see.
public enum VmaFlag: String, CaseIterable, Sendable {
    case read
    case write
    case exec
    case shared
    case pfnmap
    case mixedmap
    case io
    case dontcopy
    case wipeonfork
    case mergeable
    case hugepage
    case nohugepage
    case uffdMissing = "uffd_missing"
    case uffdWp = "uffd_wp"
    case uffdMinor = "uffd_minor"
    case locked
    case dontexpand
    case softdirty
    case growsdown
    case maywrite

    public var bit: UInt64 {
        switch self {
        case .read: return UInt64(PTEINSPECT_VMF_READ)
        case .write: return UInt64(PTEINSPECT_VMF_WRITE)
        case .exec: return UInt64(PTEINSPECT_VMF_EXEC)
        case .shared: return UInt64(PTEINSPECT_VMF_SHARED)
        case .pfnmap: return UInt64(PTEINSPECT_VMF_PFNMAP)
        case .mixedmap: return UInt64(PTEINSPECT_VMF_MIXEDMAP)
        case .io: return UInt64(PTEINSPECT_VMF_IO)
        case .dontcopy: return UInt64(PTEINSPECT_VMF_DONTCOPY)
        case .wipeonfork: return UInt64(PTEINSPECT_VMF_WIPEONFORK)
        case .mergeable: return UInt64(PTEINSPECT_VMF_MERGEABLE)
        case .hugepage: return UInt64(PTEINSPECT_VMF_HUGEPAGE)
        case .nohugepage: return UInt64(PTEINSPECT_VMF_NOHUGEPAGE)
        case .uffdMissing: return UInt64(PTEINSPECT_VMF_UFFD_MISSING)
        case .uffdWp: return UInt64(PTEINSPECT_VMF_UFFD_WP)
        case .uffdMinor: return UInt64(PTEINSPECT_VMF_UFFD_MINOR)
        case .locked: return UInt64(PTEINSPECT_VMF_LOCKED)
        case .dontexpand: return UInt64(PTEINSPECT_VMF_DONTEXPAND)
        case .softdirty: return UInt64(PTEINSPECT_VMF_SOFTDIRTY)
        case .growsdown: return UInt64(PTEINSPECT_VMF_GROWSDOWN)
        case .maywrite: return UInt64(PTEINSPECT_VMF_MAYWRITE)
        }
    }
}

/// vm_flags decoded by the module into bits that do not depend on the kernel's config.
public struct VmaFlags: OptionSet, Equatable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(_ flag: VmaFlag) { rawValue = flag.bit }

    public func contains(_ flag: VmaFlag) -> Bool { rawValue & flag.bit == flag.bit }

    /// The flags set, in bit order, as `vmas` prints them.
    public var names: [String] { VmaFlag.allCases.filter { contains($0) }.map(\.rawValue) }
}

/// One GET_VMAS record.
public struct VmaRecord: Equatable {
    public let start: UInt64
    public let end: UInt64
    public let pgoff: UInt64
    /// vma_start_anon_pgoff(): where the index of its anonymous folios counts from, on a kernel that
    /// keeps it apart from vm_pgoff (7.3: PTEINSPECT_A_VMA_ANON_PGOFF); nil before, where vm_pgoff is both.
    public let anonPgoff: UInt64?
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
        anonPgoff = try table[Attr.vmaAnonPgoff]?.u64()
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

    /// Where anonymous folios' index counts from: `anonPgoff` on 7.3, vm_pgoff before.
    public var anonIndexBase: UInt64 { anonPgoff ?? pgoff }

    /// linear_anon_page_index() (7.3 include/linux/pagemap.h L1125): the index a new anonymous
    /// folio mapped at `address` here gets, and the one rmap looks for; linear_page_index() before 7.3.
    public func anonLinearIndex(of address: UInt64, pageShift: UInt64 = 12) -> UInt64 {
        ((address - start) >> pageShift) + anonIndexBase
    }
}
