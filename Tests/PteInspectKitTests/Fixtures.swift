import CPteInspect
@testable import PteInspectKit

/// Builds netlink bytes by hand, independently of libmnl, for decoding tests.
enum Bytes {
    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(UInt16(4 + payload.count))
        out.appendLittleEndian(type)
        out += payload
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    static func u8(_ type: UInt16, _ value: UInt8) -> [UInt8] { attribute(type, [value]) }
    static func u32(_ type: UInt16, _ value: UInt32) -> [UInt8] { var p: [UInt8] = []; p.appendLittleEndian(value); return attribute(type, p) }
    static func s32(_ type: UInt16, _ value: Int32) -> [UInt8] { u32(type, UInt32(bitPattern: value)) }
    static func u64(_ type: UInt16, _ value: UInt64) -> [UInt8] { var p: [UInt8] = []; p.appendLittleEndian(value); return attribute(type, p) }
    static func string(_ type: UInt16, _ value: String) -> [UInt8] { attribute(type, Array(value.utf8) + [0]) }

    static func message(type: UInt16, flags: UInt16 = 0, sequence: UInt32 = 1, portID: UInt32 = 0, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(UInt32(16 + payload.count))
        out.appendLittleEndian(type)
        out.appendLittleEndian(flags)
        out.appendLittleEndian(sequence)
        out.appendLittleEndian(portID)
        out += payload
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    static func nested(_ type: UInt16, _ children: [[UInt8]]) -> [UInt8] {
        attribute(type | 0x8000, children.flatMap { $0 })
    }

    static func generic(family: UInt16 = 0x20, command: UInt8, attributes: [[UInt8]]) -> [UInt8] {
        message(type: family, flags: UInt16(NLM_F_MULTI), payload: [command, 1, 0, 0] + attributes.flatMap { $0 })
    }

    /// The struct pteinspect_entry of a present, exclusive anon page (what the module sends).
    static func anonRecord(address: UInt64 = 0x7f00_0000_0000) -> pteinspect_entry {
        var r = pteinspect_entry()
        r.count = 1
        r.addr = address
        r.level = 0
        r.raw = 0x8000_0000_0600_6867
        r.kind = 0
        r.entry_flags = UInt32(PTEINSPECT_EF_PRESENT | PTEINSPECT_EF_WRITE | PTEINSPECT_EF_DIRTY | PTEINSPECT_EF_YOUNG | PTEINSPECT_EF_SOFT_DIRTY)
        r.pfn = 0x6006
        r.page_flags = UInt32(PTEINSPECT_PF_ANON | PTEINSPECT_PF_ANON_EXCLUSIVE)
        r.mapcount = 1
        r.folio_mapcount = 1
        r.refcount = 2
        r.index = address >> 12
        r.mapping_kind = UInt8(PTEINSPECT_MAPPING_ANON.rawValue)
        r.mapping_id = 0xa11c_e000
        r.normal_page = UInt8(PTEINSPECT_NORMAL_PAGE.rawValue)
        r.pfn_linear = 0
        r.linear_index = address >> 12
        r.has = UInt8(PTEINSPECT_HAS_PFN | PTEINSPECT_HAS_RULES | PTEINSPECT_HAS_PAGE | PTEINSPECT_HAS_MAPPING_ID | PTEINSPECT_HAS_INDEX)
        return r
    }

    /// A swap entry (type 0, offset 0x4000, exclusive, soft-dirty) as the module sends it.
    static func swapRecord(address: UInt64 = 0x1000) -> pteinspect_entry {
        var r = pteinspect_entry()
        r.count = 1
        r.addr = address
        r.raw = 0x7ff_ffff_fff7_ffe0a
        r.kind = UInt8(PTEINSPECT_KIND_SWAP.rawValue)
        r.entry_flags = UInt32(PTEINSPECT_EF_SWP_EXCLUSIVE | PTEINSPECT_EF_SOFT_DIRTY)
        r.swap_type = 0
        r.swap_offset = 0x4000
        r.linear_index = address >> 12
        r.has = UInt8(PTEINSPECT_HAS_SWAP)
        return r
    }

    /// A PTEINSPECT_A_ENTRY attribute holding `record`.
    static func entry(_ record: pteinspect_entry) -> [UInt8] {
        var copy = record
        return attribute(Attr.entry, withUnsafeBytes(of: &copy) { Array($0) })
    }

    /// A GET_PTES reply (protocol 2): one message holding these entries, then `extra` attributes.
    static func ptesReply(_ records: [pteinspect_entry], extra: [[UInt8]] = []) -> [UInt8] {
        generic(command: Command.getPtes, attributes: records.map(entry) + extra)
    }

    /// A GET_PTES reply with one entry: a present, exclusive anon page.
    static func presentAnonEntry(address: UInt64 = 0x7f00_0000_0000, extra: [[UInt8]] = []) -> [UInt8] {
        ptesReply([anonRecord(address: address)], extra: extra)
    }

    /// The entries of the first message in `bytes`.
    static func decodeEntries(_ bytes: [UInt8]) throws -> [PageTableEntry] {
        guard let message = try NetlinkMessage.split(bytes[...]).first else { throw NetlinkError.malformed("no message") }
        return try PageTableEntry.entries(in: message)
    }

    /// The one entry of the first message in `bytes`.
    static func decodeEntry(_ bytes: [UInt8]) throws -> PageTableEntry {
        let entries = try decodeEntries(bytes)
        guard entries.count == 1, let entry = entries.first else { throw NetlinkError.malformed("\(entries.count) entries, expected 1") }
        return entry
    }
}
