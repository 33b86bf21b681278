import CPteInspect

/// One netlink message (struct nlmsghdr + payload), a view into the buffer it came from.
public struct NetlinkMessage {
    public static let headerLength = Int(PTI_NLMSG_HDRLEN)

    public let type: UInt16
    public let flags: UInt16
    public let sequence: UInt32
    public let portID: UInt32
    public let payload: ArraySlice<UInt8>

    /// Splits a datagram into messages; every nlmsg_len is checked against what remains.
    public static func split(_ buffer: ArraySlice<UInt8>) throws -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        let reader = ByteReader(buffer)
        var offset = 0
        while offset < buffer.count {
            let remaining = buffer.count - offset
            guard remaining >= headerLength else {
                throw NetlinkError.malformed("\(remaining) trailing bytes, too short for a message header")
            }
            let length = Int(try reader.u32(at: offset, "nlmsg_len"))
            guard length >= headerLength, length <= remaining else {
                throw NetlinkError.malformed("nlmsg_len \(length) outside [\(headerLength), \(remaining)]")
            }
            let start = buffer.startIndex + offset
            messages.append(NetlinkMessage(
                type: try reader.u16(at: offset + 4, "nlmsg_type"),
                flags: try reader.u16(at: offset + 6, "nlmsg_flags"),
                sequence: try reader.u32(at: offset + 8, "nlmsg_seq"),
                portID: try reader.u32(at: offset + 12, "nlmsg_pid"),
                payload: buffer[(start + headerLength)..<(start + length)]))
            offset += min(netlinkAlign(length), remaining)
        }
        return messages
    }
}

/// The status carried by NLMSG_ERROR (an ack when errno is 0) or NLMSG_DONE, with the extended
/// ack attributes (include/uapi/linux/netlink.h, enum nlmsgerr_attrs).
public struct KernelStatus: Equatable {
    /// Positive errno; 0 for success.
    public let errno: Int32
    public let message: String?
    public let missingAttribute: UInt32?

    static let attrMessage: UInt16 = 1      // NLMSGERR_ATTR_MSG
    static let attrMissingType: UInt16 = 5  // NLMSGERR_ATTR_MISS_TYPE

    /// NLMSG_ERROR: struct nlmsgerr (error + the request's header, or the whole request unless
    /// NLM_F_CAPPED), then TLVs if NLM_F_ACK_TLVS.
    public static func fromError(_ message: NetlinkMessage) throws -> KernelStatus {
        let reader = ByteReader(message.payload)
        let error = try reader.s32(at: 0, "nlmsgerr.error")
        var tlvOffset = Int(PTI_NLMSGERR_SIZE)
        if message.flags & UInt16(NLM_F_CAPPED) == 0 {
            let echoedLength = Int(try reader.u32(at: 4, "nlmsgerr.msg.nlmsg_len"))
            tlvOffset = 4 + netlinkAlign(echoedLength)
        }
        return try make(error: error, flags: message.flags, payload: message.payload, tlvOffset: tlvOffset)
    }

    /// NLMSG_DONE: an int (the dump's final status), then TLVs if NLM_F_ACK_TLVS. libmnl 1.0.4
    /// ignores this int; pteinspect does not.
    public static func fromDone(_ message: NetlinkMessage) throws -> KernelStatus {
        guard message.payload.count >= 4 else { return KernelStatus(errno: 0, message: nil, missingAttribute: nil) }
        let error = try ByteReader(message.payload).s32(at: 0, "NLMSG_DONE status")
        return try make(error: error, flags: message.flags, payload: message.payload, tlvOffset: 4)
    }

    private static func make(error: Int32, flags: UInt16, payload: ArraySlice<UInt8>, tlvOffset: Int) throws -> KernelStatus {
        guard error <= 0, error != Int32.min else {
            throw NetlinkError.malformed("status \(error) is not a negative errno")
        }
        var text: String?
        var missing: UInt32?
        if flags & UInt16(NLM_F_ACK_TLVS) != 0 {
            guard tlvOffset <= payload.count else {
                throw NetlinkError.malformed("extended ack starts at \(tlvOffset), past the \(payload.count)-byte payload")
            }
            let table = AttributeTable(try NetlinkAttribute.parse(payload.dropFirst(tlvOffset)))
            text = try table[attrMessage]?.string()
            missing = try table[attrMissingType]?.u32()
        }
        return KernelStatus(errno: -error, message: text, missingAttribute: missing)
    }
}

/// A generic-netlink message: the genlmsghdr and the attributes after it.
public struct GenericMessage {
    public let family: UInt16
    public let command: UInt8
    public let version: UInt8
    public let attributes: [NetlinkAttribute]

    public init(_ message: NetlinkMessage) throws {
        guard message.payload.count >= Int(PTI_GENL_HDRLEN) else {
            throw NetlinkError.malformed("generic netlink message of \(message.payload.count) bytes has no genlmsghdr")
        }
        family = message.type
        command = message.payload[message.payload.startIndex]
        version = message.payload[message.payload.startIndex + 1]
        attributes = try NetlinkAttribute.parse(message.payload.dropFirst(Int(PTI_GENL_HDRLEN)))
    }

    public var table: AttributeTable { AttributeTable(attributes) }
}
