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

    /// A GET_PTES reply for a present, exclusive anon page.
    static func presentAnonEntry(address: UInt64 = 0x7f00_0000_0000, extra: [[UInt8]] = []) -> [UInt8] {
        generic(command: Command.getPtes, attributes: [
            u64(Attr.address, address),
            u8(Attr.level, 0),
            u64(Attr.raw, 0x8000_0000_0600_6867),
            u8(Attr.entryKind, 0),
            u64(Attr.entryFlags, UInt64(PTEINSPECT_EF_PRESENT | PTEINSPECT_EF_WRITE | PTEINSPECT_EF_DIRTY | PTEINSPECT_EF_YOUNG | PTEINSPECT_EF_SOFT_DIRTY)),
            u64(Attr.pfn, 0x6006),
            u64(Attr.pageFlags, UInt64(PTEINSPECT_PF_ANON | PTEINSPECT_PF_ANON_EXCLUSIVE)),
            s32(Attr.mapcount, 1),
            s32(Attr.refcount, 2),
            u64(Attr.index, address >> 12),
            u8(Attr.mappingKind, UInt8(PTEINSPECT_MAPPING_ANON.rawValue)),
            u64(Attr.mappingID, 0xa11c_e000),
            u8(Attr.normalPage, UInt8(PTEINSPECT_NORMAL_PAGE.rawValue)),
            u8(Attr.pfnLinear, 0),
            u64(Attr.linearIndex, address >> 12),
        ] + extra)
    }
}
