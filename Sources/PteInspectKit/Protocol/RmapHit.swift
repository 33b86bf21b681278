/// One VMA the kernel's reverse map visits for a folio (GET_RMAP), and what it finds there.
public struct RmapHit: Equatable {
    /// A process using that mm, in our pid namespace; nil if none is left.
    public let pid: Int32?
    public let mmID: UInt64
    /// The address rmap computes from folio->index and the VMA's vm_pgoff (vma_address()).
    public let address: UInt64
    /// Whether the entry at `address` maps a page of the folio (page_vma_mapped_walk()).
    public let mapped: Bool
    public let vmaStart: UInt64
    public let vmaEnd: UInt64
    public let vmaPgoff: UInt64
    /// The VMA's anonymous page offset where the kernel keeps one apart from vm_pgoff (7.3).
    public let vmaAnonPgoff: UInt64?
    public let vmaID: UInt64
    public let folioPfn: UInt64
    public let folioPages: UInt32
    public let folioIndex: UInt64
    public let mappingKind: MappingKind
    public let mappingID: UInt64

    public init(_ message: GenericMessage) throws {
        let table = message.table
        let pid = try table.required(Attr.rmapPid, "PTEINSPECT_A_RMAP_PID").u32()
        self.pid = pid == 0 ? nil : Int32(bitPattern: pid)
        mmID = try table.required(Attr.mmID, "PTEINSPECT_A_MM_ID").u64()
        address = try table.required(Attr.address, "PTEINSPECT_A_ADDR").u64()
        mapped = try table.required(Attr.rmapMapped, "PTEINSPECT_A_RMAP_MAPPED").u8() != 0
        vmaStart = try table.required(Attr.vmaStart, "PTEINSPECT_A_VMA_START").u64()
        vmaEnd = try table.required(Attr.vmaEnd, "PTEINSPECT_A_VMA_END").u64()
        vmaPgoff = try table.required(Attr.vmaPgoff, "PTEINSPECT_A_VMA_PGOFF").u64()
        vmaAnonPgoff = try table[Attr.vmaAnonPgoff]?.u64()
        vmaID = try table.required(Attr.vmaID, "PTEINSPECT_A_VMA_ID").u64()
        folioPfn = try table.required(Attr.pfn, "PTEINSPECT_A_PFN").u64()
        folioPages = try table.required(Attr.folioPages, "PTEINSPECT_A_FOLIO_PAGES").u32()
        folioIndex = try table.required(Attr.index, "PTEINSPECT_A_INDEX").u64()
        let kind = try table.required(Attr.mappingKind, "PTEINSPECT_A_MAPPING_KIND").u8()
        mappingKind = MappingKind(rawValue: kind) ?? .none
        mappingID = try table.required(Attr.mappingID, "PTEINSPECT_A_MAPPING_ID").u64()
    }

    public var json: JSONValue {
        .object([
            ("pid", pid.map { .int(Int64($0)) } ?? .null),
            ("mm", .hex(mmID)),
            ("addr", .hex(address)),
            ("mapped", .bool(mapped)),
            ("vma_start", .hex(vmaStart)),
            ("vma_end", .hex(vmaEnd)),
            ("vma_pgoff", .hex(vmaPgoff)),
            ("vma_anon_pgoff", vmaAnonPgoff.map(JSONValue.hex) ?? .null),
            ("folio_pfn", .uint(folioPfn)),
            ("folio_pages", .uint(UInt64(folioPages))),
            ("folio_index", .uint(folioIndex)),
            ("mapping_kind", .string(mappingKind.name)),
            ("mapping_id", .hex(mappingID)),
        ])
    }
}

/// `rmap` as a table.
public enum RmapTable {
    public static let header = ["PID", "ADDR", "MAPPED", "VMA", "PGOFF", "FOLIO_PFN", "INDEX", "MAPPING"]

    public static func render(_ hits: [RmapHit]) -> String {
        TextTable.render(header: header, rows: hits.map { hit in
            [
                hit.pid.map(String.init) ?? "-", "0x" + String(hit.address, radix: 16), hit.mapped ? "1" : "0",
                "0x\(String(hit.vmaStart, radix: 16))-0x\(String(hit.vmaEnd, radix: 16))", "0x" + String(hit.vmaPgoff, radix: 16),
                "0x" + String(hit.folioPfn, radix: 16) + (hit.folioPages > 1 ? "+\(hit.folioPages)" : ""),
                "0x" + String(hit.folioIndex, radix: 16), hit.mappingKind.name + " " + VmaTable.short(hit.mappingID),
            ]
        })
    }
}
