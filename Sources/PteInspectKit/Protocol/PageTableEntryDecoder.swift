import CPteInspect

extension PageTableEntry {
    /// Decodes a GET_PTES reply in one pass over its payload, without building the attribute list
    /// and table that `init(_: GenericMessage)` uses: a large dump decodes hundreds of thousands
    /// of these. Same checks (every length bounded, fixed sizes exact, required attributes
    /// present); the host tests hold the two decoders to the same answers. Netlink attributes are
    /// in host byte order.
    public static func decode(_ message: NetlinkMessage) throws -> PageTableEntry {
        try message.payload.withUnsafeBytes { try decode(payload: $0) }
    }

    /// `decode(_:)` on a message's payload (genlmsghdr and attributes) where it lies, e.g. in the
    /// socket's receive buffer: nothing is copied and nothing is allocated on the heap.
    public static func decode(payload buffer: UnsafeRawBufferPointer) throws -> PageTableEntry {
        let header = Int(PTI_GENL_HDRLEN)
        guard buffer.count >= header else {
            throw NetlinkError.malformed("generic netlink message of \(buffer.count) bytes has no genlmsghdr")
        }
        // Where each attribute's value is: the last occurrence wins, as in nla_parse(). The table
        // is a tuple on the stack (it used to be two heap arrays per record).
        var found = Found()
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
            found.note(type: type, value: offset + 4, size: length - 4)
            offset += min(netlinkAlign(length), remaining)
        }
        return try found.entry(buffer)
    }

    /// The last position of each attribute type below `Found.types` (48: every attribute a
    /// GET_PTES reply carries is below; the others are never read, so ignoring them changes
    /// nothing). One word per type: the value's offset << 16 | its length (nla_len is 16 bits;
    /// offsets fit 48 bits), 0 when absent (a value never starts at offset 0).
    private struct Found {
        static let types = 48
        private var slots: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        @inline(__always)
        mutating func note(type: UInt16, value offset: Int, size length: Int) {
            guard Int(type) < Self.types else { return }   // not ours: ignored, like PAD
            let word = UInt64(offset) << 16 | UInt64(length)
            withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: word, toByteOffset: Int(type) &* 8, as: UInt64.self) }
        }

        @inline(__always)
        mutating func slot(_ type: UInt16) -> (at: Int, size: Int)? {
            assert(Int(type) < Self.types, "attribute \(type) is not in the table: raise Found.types")
            let word = withUnsafeBytes(of: &slots) { $0.load(fromByteOffset: Int(type) &* 8, as: UInt64.self) }
            return word == 0 ? nil : (Int(word >> 16), Int(word & 0xffff))
        }

        mutating func entry(_ buffer: UnsafeRawBufferPointer) throws -> PageTableEntry {
            @inline(__always)
            func read<T: FixedWidthInteger>(_ type: UInt16, _: T.Type) throws -> T? {
                guard let (at, size) = slot(type) else { return nil }
                guard size == MemoryLayout<T>.size else {
                    throw NetlinkError.malformed("attribute \(type): \(size) bytes where \(MemoryLayout<T>.size) were expected")
                }
                return buffer.loadUnaligned(fromByteOffset: at, as: T.self)
            }
            @inline(__always)
            func need<T: FixedWidthInteger>(_ type: UInt16, _: T.Type, _ name: String) throws -> T {
                guard let value = try read(type, T.self) else {
                    throw NetlinkError.malformed("reply lacks \(name) (attribute \(type))")
                }
                return value
            }
            // The same order of checks as init(_: GenericMessage), so both fail alike.
            let address = try need(Attr.address, UInt64.self, "PTEINSPECT_A_ADDR")
            let levelValue = try need(Attr.level, UInt8.self, "PTEINSPECT_A_LEVEL")
            guard let level = EntryLevel(rawValue: levelValue) else {
                throw NetlinkError.malformed("unknown entry level \(levelValue)")
            }
            let raw = try need(Attr.raw, UInt64.self, "PTEINSPECT_A_RAW")
            let kind = EntryKind(rawValue: try need(Attr.entryKind, UInt8.self, "PTEINSPECT_A_ENTRY_KIND")) ?? .other
            let flags = EntryFlags(rawValue: try need(Attr.entryFlags, UInt64.self, "PTEINSPECT_A_ENTRY_FLAGS"))
            let pfn = try read(Attr.pfn, UInt64.self)
            var swap: SwapEntry?
            if let type = try read(Attr.swapType, UInt32.self) {
                swap = SwapEntry(type: type, offset: try need(Attr.swapOffset, UInt64.self, "PTEINSPECT_A_SWAP_OFFSET"),
                                 exclusive: flags.contains(.swapExclusive))
            }
            var page: PageState?
            if let pageFlags = try read(Attr.pageFlags, UInt64.self) {
                page = PageState(
                    flags: PageFlags(rawValue: pageFlags),
                    mapcount: try need(Attr.mapcount, Int32.self, "PTEINSPECT_A_MAPCOUNT"),
                    refcount: try need(Attr.refcount, Int32.self, "PTEINSPECT_A_REFCOUNT"),
                    index: try read(Attr.index, UInt64.self),
                    mappingKind: MappingKind(rawValue: try read(Attr.mappingKind, UInt8.self) ?? 0) ?? .none,
                    mappingID: try read(Attr.mappingID, UInt64.self),
                    folioOrder: try read(Attr.folioOrder, UInt8.self),
                    folioMapcount: try read(Attr.folioMapcount, Int32.self))
            }
            var decision: NormalPageDecision?
            if let normal = try read(Attr.normalPage, UInt8.self) {
                guard let value = NormalPageDecision(rawValue: normal) else {
                    throw NetlinkError.malformed("unknown vm_normal_page decision \(normal)")
                }
                decision = value
            }
            return PageTableEntry(
                address: address, level: level, raw: raw, kind: kind, flags: flags, pfn: pfn, swap: swap, page: page,
                normalPage: decision, pfnLinear: try read(Attr.pfnLinear, UInt8.self).map { $0 != 0 },
                linearIndex: try read(Attr.linearIndex, UInt64.self),
                marker: try read(Attr.pteMarker, UInt32.self).map(PteMarker.init(rawValue:)))
        }
    }
}
