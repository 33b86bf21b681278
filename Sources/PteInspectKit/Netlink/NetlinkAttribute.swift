/// One netlink attribute (struct nlattr + payload), a view into the message it came from.
public struct NetlinkAttribute: Equatable {
    /// nla_type without NLA_F_NESTED / NLA_F_NET_BYTEORDER.
    public let type: UInt16
    public let isNested: Bool
    public let payload: ArraySlice<UInt8>

    static let typeMask: UInt16 = 0x3fff
    static let nestedFlag: UInt16 = 0x8000

    public func u8() throws -> UInt8 { UInt8(try fixed(1)) }
    public func u16() throws -> UInt16 { UInt16(try fixed(2)) }
    public func u32() throws -> UInt32 { UInt32(try fixed(4)) }
    public func u64() throws -> UInt64 { try fixed(8) }
    public func s32() throws -> Int32 { Int32(bitPattern: try u32()) }

    /// A NUL-terminated string (NLA_NUL_STRING / nla_put_string). Bytes after the first NUL are
    /// ignored; a string without a NUL is taken whole.
    public func string() throws -> String {
        let content = payload.prefix { $0 != 0 }
        guard let text = String(validating: content, as: UTF8.self) else {
            throw NetlinkError.malformed("attribute \(type): string is not UTF-8")
        }
        return text
    }

    /// The attributes nested in this one.
    public func nested() throws -> [NetlinkAttribute] { try NetlinkAttribute.parse(payload) }

    private func fixed(_ width: Int) throws -> UInt64 {
        guard payload.count == width else {
            throw NetlinkError.malformed("attribute \(type): \(payload.count) bytes where \(width) were expected")
        }
        return try ByteReader(payload).unsigned(at: 0, width: width, what: "attribute \(type)")
    }

    /// Parses a stream of attributes. Every length is checked against the bytes that remain; the
    /// padding after the last attribute may be missing.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> [NetlinkAttribute] {
        var attributes: [NetlinkAttribute] = []
        let reader = ByteReader(bytes)
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= 4 else {
                throw NetlinkError.malformed("\(remaining) trailing bytes, too short for an attribute header")
            }
            let length = Int(try reader.u16(at: offset, "nla_len"))
            let rawType = try reader.u16(at: offset + 2, "nla_type")
            guard length >= 4 else {
                throw NetlinkError.malformed("attribute \(rawType & typeMask) has nla_len \(length) < 4")
            }
            guard length <= remaining else {
                throw NetlinkError.malformed("attribute \(rawType & typeMask) has nla_len \(length) but only \(remaining) bytes remain")
            }
            let start = bytes.startIndex + offset
            attributes.append(NetlinkAttribute(
                type: rawType & typeMask,
                isNested: rawType & nestedFlag != 0,
                payload: bytes[(start + 4)..<(start + length)]))
            offset += min(netlinkAlign(length), remaining)
        }
        return attributes
    }
}

/// Attributes by type, the last one winning for duplicates (as nla_parse does). Small types (all
/// this protocol and nlctrl use) are indexed in an array, which the per-record decoding of a
/// large dump hits tens of times per message; larger ones fall back to a dictionary.
public struct AttributeTable {
    private static let direct = 64
    private var small: [NetlinkAttribute?]
    private var large: [UInt16: NetlinkAttribute] = [:]

    public init(_ attributes: [NetlinkAttribute]) {
        small = [NetlinkAttribute?](repeating: nil, count: Self.direct)
        for attribute in attributes {
            if Int(attribute.type) < Self.direct {
                small[Int(attribute.type)] = attribute
            } else {
                large[attribute.type] = attribute
            }
        }
    }

    public subscript(_ type: UInt16) -> NetlinkAttribute? {
        Int(type) < Self.direct ? small[Int(type)] : large[type]
    }

    /// The attribute, or an error naming what is missing.
    public func required(_ type: UInt16, _ name: String) throws -> NetlinkAttribute {
        guard let attribute = self[type] else {
            throw NetlinkError.malformed("reply lacks \(name) (attribute \(type))")
        }
        return attribute
    }
}
