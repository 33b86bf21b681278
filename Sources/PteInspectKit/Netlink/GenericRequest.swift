import CMnl
import CPteInspect

/// One attribute of a request. `.raw` sends any bytes under any type: the tests use it to send
/// what a well-behaved client never would.
public enum RequestAttribute {
    case u8(UInt16, UInt8)
    case u16(UInt16, UInt16)
    case u32(UInt16, UInt32)
    case u64(UInt16, UInt64)
    case string(UInt16, String)
    /// NLA_FLAG: present or not, no payload.
    case flag(UInt16)
    case raw(UInt16, [UInt8])
}

/// A generic-netlink request, encoded with libmnl.
public struct GenericRequest {
    public var family: UInt16
    public var command: UInt8
    public var version: UInt8
    public var attributes: [RequestAttribute]

    static let bufferSize = 8192

    public init(family: UInt16, command: UInt8, version: UInt8, attributes: [RequestAttribute] = []) {
        self.family = family
        self.command = command
        self.version = version
        self.attributes = attributes
    }

    /// The bytes of the message with the given flags and sequence number.
    public func encode(flags: UInt16, sequence: UInt32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        let length: Int = try buffer.withUnsafeMutableBytes { raw in
            guard let nlh = mnl_nlmsg_put_header(raw.baseAddress) else {
                throw NetlinkError.malformed("mnl_nlmsg_put_header failed")
            }
            nlh.pointee.nlmsg_type = family
            nlh.pointee.nlmsg_flags = flags
            nlh.pointee.nlmsg_seq = sequence
            let genl = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<genlmsghdr>.size)
                .assumingMemoryBound(to: genlmsghdr.self)
            genl.pointee.cmd = command
            genl.pointee.version = version
            for attribute in attributes {
                guard Self.put(attribute, into: nlh, capacity: raw.count) else {
                    throw NetlinkError.malformed("request does not fit in \(Self.bufferSize) bytes")
                }
            }
            return Int(nlh.pointee.nlmsg_len)
        }
        return Array(buffer.prefix(length))
    }

    private static func put(_ attribute: RequestAttribute, into nlh: UnsafeMutablePointer<nlmsghdr>, capacity: Int) -> Bool {
        switch attribute {
        case let .u8(type, value): return mnl_attr_put_u8_check(nlh, capacity, type, value)
        case let .u16(type, value): return mnl_attr_put_u16_check(nlh, capacity, type, value)
        case let .u32(type, value): return mnl_attr_put_u32_check(nlh, capacity, type, value)
        case let .u64(type, value): return mnl_attr_put_u64_check(nlh, capacity, type, value)
        case let .string(type, value): return mnl_attr_put_strz_check(nlh, capacity, type, value)
        case let .flag(type): return mnl_attr_put_check(nlh, capacity, type, 0, nil)
        case let .raw(type, bytes):
            return bytes.withUnsafeBytes { mnl_attr_put_check(nlh, capacity, type, bytes.count, $0.baseAddress) }
        }
    }
}
