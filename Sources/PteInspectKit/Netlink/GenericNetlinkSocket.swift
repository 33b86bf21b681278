import CMnl
import CPteInspect
import Glibc

/// A NETLINK_GENERIC socket (libmnl) that runs one request at a time: a request answered by an
/// ack, or a dump answered by NLMSG_DONE. Every reply is checked against the request's sequence
/// number and our port ID; errors come back with the kernel's errno and extack message.
public final class GenericNetlinkSocket {
    private let socket: OpaquePointer
    public let portID: UInt32
    private var lastSequence: UInt32
    /// Bytes received so far, every datagram counted (the benchmark reports it).
    public private(set) var receivedBytes = 0
    /// Larger than the biggest skb netlink_dump() allocates (32 KiB), so nothing is truncated.
    /// Raw memory rather than an array: dumps decode their messages where they lie, and a
    /// consumer that keeps a message gets a copy (see `NetlinkMessage.split`).
    private let receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    public init() throws {
        guard let socket = mnl_socket_open(NETLINK_GENERIC) else {
            throw SystemCallError("socket(AF_NETLINK, NETLINK_GENERIC)")
        }
        guard pti_socket_configure(socket) == 0 else {
            let error = Glibc.errno
            mnl_socket_close(socket)
            throw SystemCallError("setsockopt(SOL_NETLINK)", errno: error)
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let error = Glibc.errno
            mnl_socket_close(socket)
            throw SystemCallError("bind(AF_NETLINK)", errno: error)
        }
        self.socket = socket
        self.portID = mnl_socket_get_portid(socket)
        self.lastSequence = UInt32(truncatingIfNeeded: time(nil))
    }

    deinit {
        mnl_socket_close(socket)
        receiveBuffer.deallocate()
    }

    /// Sends `request` with NLM_F_ACK and returns the replies that precede the ack.
    public func transact(_ request: GenericRequest, operation: String) throws -> [GenericMessage] {
        var replies: [GenericMessage] = []
        let sequence = try send(request, flags: UInt16(NLM_F_REQUEST | NLM_F_ACK))
        while true {
            for message in try receive(sequence: sequence) {
                switch Int32(message.type) {
                case NLMSG_ERROR:
                    let status = try KernelStatus.fromError(message)
                    if status.errno != 0 { throw kernelError(status, operation) }
                    return replies
                case NLMSG_NOOP:
                    continue
                case NLMSG_DONE, NLMSG_OVERRUN:
                    throw NetlinkError.unexpectedReply("message type \(message.type) in reply to a request")
                default:
                    try checkFamily(message, request)
                    replies.append(try GenericMessage(message))
                }
            }
        }
    }

    /// Sends `request` as a dump (NLM_F_DUMP) and hands every reply to `each` until NLMSG_DONE.
    /// An error in NLMSG_DONE (e.g. the target exited mid-dump) is thrown after the replies that
    /// came before it. If `each` throws, the rest of the dump is read and discarded so the socket
    /// stays usable, then the error is rethrown.
    public func dump(_ request: GenericRequest, operation: String, each: (GenericMessage) throws -> Void) throws {
        try dumpMessages(request, operation: operation) { try each(try GenericMessage($0)) }
    }

    /// `dump`, handing over each reply undecoded (for decoders that read the payload in one pass).
    public func dumpMessages(_ request: GenericRequest, operation: String, each: (NetlinkMessage) throws -> Void) throws {
        try dumpPayloads(request, operation: operation) { type, flags, sequence, payload in
            try each(NetlinkMessage(type: type, flags: flags, sequence: sequence, portID: portID, payload: ArraySlice(payload)))
        }
    }

    /// `dump`, handing over each reply's payload (genlmsghdr and attributes) in the receive
    /// buffer, valid only during the call: no per-message copy or allocation. Same checks and
    /// error handling as `dump`.
    public func dumpPayloads(_ request: GenericRequest, operation: String,
                             each: (_ type: UInt16, _ flags: UInt16, _ sequence: UInt32, _ payload: UnsafeRawBufferPointer) throws -> Void) throws {
        let sequence = try send(request, flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP))
        var consumerError: Error?
        while true {
            let datagram = try receiveDatagram(sequence: sequence)
            var offset = 0
            while offset < datagram.count {
                // receiveDatagram() checked every header and length
                let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                let flags = datagram.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self)
                let payload = UnsafeRawBufferPointer(rebasing: datagram[(offset + NetlinkMessage.headerLength)..<(offset + length)])
                offset += min(netlinkAlign(length), datagram.count - offset)
                switch Int32(type) {
                case NLMSG_DONE:
                    let status = try KernelStatus.fromDone(message(type, flags, sequence, payload))
                    if let consumerError { throw consumerError }
                    if status.errno != 0 { throw kernelError(status, operation) }
                    return
                case NLMSG_ERROR:
                    // The dump was refused before it started (its start() callback failed).
                    let status = try KernelStatus.fromError(message(type, flags, sequence, payload))
                    if let consumerError { throw consumerError }
                    if status.errno != 0 { throw kernelError(status, operation) }
                    return
                case NLMSG_NOOP:
                    continue
                case NLMSG_OVERRUN:
                    throw NetlinkError.unexpectedReply("NLMSG_OVERRUN: the kernel dropped part of the dump")
                default:
                    guard consumerError == nil else { continue }
                    do {
                        guard type == request.family else {
                            throw NetlinkError.unexpectedReply("message type \(type), expected family \(request.family)")
                        }
                        try each(type, flags, sequence, payload)
                    } catch {
                        consumerError = error
                    }
                }
            }
        }
    }

    private func message(_ type: UInt16, _ flags: UInt16, _ sequence: UInt32, _ payload: UnsafeRawBufferPointer) -> NetlinkMessage {
        NetlinkMessage(type: type, flags: flags, sequence: sequence, portID: portID, payload: ArraySlice(payload))
    }

    private func send(_ request: GenericRequest, flags: UInt16) throws -> UInt32 {
        lastSequence &+= 1
        let bytes = try request.encode(flags: flags, sequence: lastSequence)
        let sent = bytes.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, bytes.count) }
        guard sent == bytes.count else {
            throw SystemCallError("sendto(netlink)", errno: sent < 0 ? Glibc.errno : EMSGSIZE)
        }
        return lastSequence
    }

    /// One datagram, every message header checked (as `NetlinkMessage.split` does) and every
    /// message checked to belong to our request, before any is handed on.
    private func receiveDatagram(sequence: UInt32) throws -> UnsafeRawBufferPointer {
        let count = mnl_socket_recvfrom(socket, receiveBuffer.baseAddress, receiveBuffer.count)
        guard count >= 0 else {
            let error = Glibc.errno
            // libmnl reports MSG_TRUNC as ENOSPC; ENOBUFS means the kernel dropped messages.
            throw SystemCallError("recvmsg(netlink)", errno: error)
        }
        receivedBytes += count
        let datagram = UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<count])
        let headerLength = NetlinkMessage.headerLength
        var offset = 0
        while offset < datagram.count {
            let remaining = datagram.count - offset
            guard remaining >= headerLength else {
                throw NetlinkError.malformed("\(remaining) trailing bytes, too short for a message header")
            }
            let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= headerLength, length <= remaining else {
                throw NetlinkError.malformed("nlmsg_len \(length) outside [\(headerLength), \(remaining)]")
            }
            let messageSequence = datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let messagePort = datagram.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
            guard messageSequence == sequence else {
                throw NetlinkError.unexpectedReply("sequence \(messageSequence), expected \(sequence)")
            }
            guard messagePort == portID else {
                throw NetlinkError.unexpectedReply("port ID \(messagePort), expected ours (\(portID))")
            }
            offset += min(netlinkAlign(length), remaining)
        }
        return datagram
    }

    /// One datagram's messages, each checked to belong to our request.
    private func receive(sequence: UInt32) throws -> [NetlinkMessage] {
        let datagram = try receiveDatagram(sequence: sequence)
        // A copy: the messages outlive the buffer, which the next receive overwrites.
        return try NetlinkMessage.split(ArraySlice(datagram))
    }

    private func checkFamily(_ message: NetlinkMessage, _ request: GenericRequest) throws {
        guard message.type == request.family else {
            throw NetlinkError.unexpectedReply("message type \(message.type), expected family \(request.family)")
        }
    }

    private func kernelError(_ status: KernelStatus, _ operation: String) -> NetlinkError {
        .kernel(operation: operation, errno: status.errno, message: status.message, missingAttribute: status.missingAttribute)
    }
}
