import CPteInspect

extension PageTableEntry {
    /// sizeof(struct pteinspect_entry): the exact length of a PTEINSPECT_A_ENTRY payload.
    public static let wireSize = MemoryLayout<pteinspect_entry>.size

    /// The entries of one GET_PTES reply (protocol 2: many PTEINSPECT_A_ENTRY attributes per
    /// message), decoded where the payload lies — e.g. in the socket's receive buffer: nothing is
    /// copied and nothing is allocated per entry. Every attribute length is bounded; an entry of
    /// any size but `wireSize` is an error. Attributes of other types are ignored (as
    /// nla_parse() leaves what a reader does not ask for). Netlink attributes are in host byte
    /// order, and an entry's payload is only 4-byte aligned: it is loaded unaligned.
    public static func forEach(inPayload buffer: UnsafeRawBufferPointer, _ body: (PageTableEntry) throws -> Void) throws {
        try PageTableRecord.forEach(inPayload: buffer) { record in
            for i in 0..<record.count { try body(PageTableEntry(record, i)) }
        }
    }

    /// The entries of one reply message.
    public static func entries(in message: NetlinkMessage) throws -> [PageTableEntry] {
        var result: [PageTableEntry] = []
        try message.payload.withUnsafeBytes { try forEach(inPayload: $0) { result.append($0) } }
        return result
    }

    /// Entry `i` of a checked record's run (UAPI header: which fields advance), its optional
    /// groups materialized.
    @inlinable public init(_ record: PageTableRecord, _ i: Int = 0) {
        let wire = record.entry(i)
        let has = UInt32(wire.has)
        let flags = EntryFlags(rawValue: UInt64(wire.entry_flags))
        var page: PageState?
        if has & PTEINSPECT_HAS_PAGE != 0 {
            page = PageState(
                flags: PageFlags(rawValue: UInt64(wire.page_flags)),
                mapcount: wire.mapcount,
                refcount: wire.refcount,
                index: has & PTEINSPECT_HAS_INDEX != 0 ? wire.index : nil,
                mappingKind: MappingKind(rawValue: wire.mapping_kind) ?? .none,
                mappingID: has & PTEINSPECT_HAS_MAPPING_ID != 0 ? wire.mapping_id : nil,
                folioOrder: wire.folio_order,
                folioMapcount: wire.folio_mapcount)
        }
        self.init(
            address: wire.addr, level: record.level, raw: wire.raw, kind: EntryKind(rawValue: wire.kind) ?? .other, flags: flags,
            pfn: has & PTEINSPECT_HAS_PFN != 0 ? wire.pfn : nil,
            swap: has & PTEINSPECT_HAS_SWAP != 0
                ? SwapEntry(type: wire.swap_type, offset: wire.swap_offset, exclusive: flags.contains(.swapExclusive)) : nil,
            page: page, normalPage: record.normalPage,
            pfnLinear: has & PTEINSPECT_HAS_RULES != 0 ? wire.pfn_linear != 0 : nil,
            linearIndex: wire.linear_index,
            marker: has & PTEINSPECT_HAS_MARKER != 0 ? PteMarker(rawValue: UInt32(wire.pte_marker)) : nil,
            data: has & PTEINSPECT_HAS_DATA != 0 ? wire.data : nil)
    }
}

/// One GET_PTES record as it came off the wire (struct pteinspect_entry, copied out of the
/// receive buffer): a run of `count` entries, its enumerations and its run checked. What a
/// consumer that reads a few fields of many entries uses (the benchmark); `PageTableEntry(record,
/// i)` materializes entry i.
public struct PageTableRecord {
    public let wire: pteinspect_entry
    public let level: EntryLevel
    /// Present entries (has rules): vm_normal_page()'s decision.
    public let normalPage: NormalPageDecision?
    /// Entries in the run (>= 1).
    @inlinable public var count: Int { Int(wire.count) }

    public init(_ wire: pteinspect_entry) throws {
        guard let level = EntryLevel(rawValue: wire.level) else {
            throw NetlinkError.malformed("unknown entry level \(wire.level)")
        }
        guard wire.count <= PTEINSPECT_RUN_MAX else {
            throw NetlinkError.malformed("a run of \(wire.count) entries, above PTEINSPECT_RUN_MAX (\(PTEINSPECT_RUN_MAX): one dump batch)")
        }
        guard wire.count >= 1, level == .pte || wire.count == 1 else {
            throw NetlinkError.malformed("a \(level.name) record with a run of \(wire.count) entries (PTE runs of 1 or more, PMD records alone)")
        }
        let pages = UInt64(wire.count) - 1
        let (span, overflow) = pages.multipliedReportingOverflow(by: SystemPage.size)
        guard !overflow, !wire.addr.addingReportingOverflow(span).overflow else {
            throw NetlinkError.malformed("a run of \(wire.count) entries from 0x\(String(wire.addr, radix: 16)) wraps the address space")
        }
        var decision: NormalPageDecision?
        if UInt32(wire.has) & PTEINSPECT_HAS_RULES != 0 {
            guard let value = NormalPageDecision(rawValue: wire.normal_page) else {
                throw NetlinkError.malformed("unknown vm_normal_page decision \(wire.normal_page)")
            }
            decision = value
        }
        self.wire = wire
        self.level = level
        self.normalPage = decision
    }

    /// The wire struct of entry `i` of the run (0 ..< count): the fields that advance, advanced
    /// (struct pteinspect_entry's comment), with count 1. Inlinable: a caller that reads a few
    /// fields of each entry of a run gets those computed, not a 104-byte struct built and copied
    /// per entry (measured with tools/bench, reader a).
    @inlinable public func entry(_ i: Int) -> pteinspect_entry {
        var e = wire
        guard i > 0 else { e.count = 1; e.raw_step = 0; return e }
        let n = UInt64(i)
        let has = UInt32(wire.has)
        e.addr = wire.addr &+ n &* SystemPage.size
        e.raw = wire.raw &+ UInt64(bitPattern: wire.raw_step) &* n
        e.linear_index = wire.linear_index &+ n
        if has & PTEINSPECT_HAS_PFN != 0 { e.pfn = wire.pfn &+ n }
        if has & PTEINSPECT_HAS_SWAP != 0 { e.swap_offset = wire.swap_offset &+ n }
        if has & PTEINSPECT_HAS_INDEX != 0 { e.index = wire.index &+ n }
        e.count = 1
        e.raw_step = 0
        return e
    }

    /// The checked records of one GET_PTES reply payload (genlmsghdr and attributes), in order.
    public static func forEach(inPayload buffer: UnsafeRawBufferPointer, _ body: (PageTableRecord) throws -> Void) throws {
        let header = Int(PTI_GENL_HDRLEN)
        guard buffer.count >= header else {
            throw NetlinkError.malformed("generic netlink message of \(buffer.count) bytes has no genlmsghdr")
        }
        var offset = header
        while offset < buffer.count {
            let remaining = buffer.count - offset
            guard remaining >= 4 else {
                throw NetlinkError.malformed("\(remaining) trailing bytes, too short for an attribute header")
            }
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = buffer.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & NetlinkAttribute.typeMask
            guard length >= 4, length <= remaining else {
                throw NetlinkError.malformed("attribute \(type) has nla_len \(length) outside [4, \(remaining)]")
            }
            if type == Attr.entry {
                guard length - 4 == PageTableEntry.wireSize else {
                    throw NetlinkError.malformed("PTEINSPECT_A_ENTRY of \(length - 4) bytes, struct pteinspect_entry has \(PageTableEntry.wireSize)")
                }
                try body(try PageTableRecord(buffer.loadUnaligned(fromByteOffset: offset + 4, as: pteinspect_entry.self)))
            }
            offset += min(netlinkAlign(length), remaining)
        }
    }
}

