import CPteInspect
import Glibc

/// Errors of the pteinspect protocol above netlink.
public enum PteInspectError: Error, CustomStringConvertible, Equatable {
    case moduleNotLoaded
    case protocolMismatch(module: UInt32, client: UInt32)
    case invalidRange(String)

    public var description: String {
        switch self {
        case .moduleNotLoaded:
            return "the pteinspect kernel module is not loaded (no generic netlink family '\(pteinspectFamilyName)'). "
                + "Load it with `sudo modprobe pteinspect` (installed with DKMS: README), or `sudo insmod kmod/pteinspect.ko` after `make -C kmod`, or run inside the test VM: `tools/vm`."
        case let .protocolMismatch(module, client):
            return "the loaded module speaks protocol \(module), this pteinspect (\(PteInspectVersion.cli)) speaks \(client): rebuild and reload the module from this tree (or `sudo dkms install pteinspect/\(PteInspectVersion.cli)`)"
        case let .invalidRange(why):
            return why
        }
    }
}

public let pteinspectFamilyName = PTEINSPECT_GENL_NAME

/// The module's protocol, over one netlink socket.
public final class PteInspectClient {
    public let socket: GenericNetlinkSocket
    public let family: GenericFamily
    public static let protocolVersion = UInt32(PTEINSPECT_GENL_VERSION)

    public init() throws {
        socket = try GenericNetlinkSocket()
        do {
            family = try GenericFamily.resolve(pteinspectFamilyName, on: socket)
        } catch NetlinkError.familyNotFound {
            throw PteInspectError.moduleNotLoaded
        }
        guard family.version == Self.protocolVersion else {
            throw PteInspectError.protocolMismatch(module: family.version, client: Self.protocolVersion)
        }
    }

    public func request(_ command: UInt8, _ attributes: [RequestAttribute] = []) -> GenericRequest {
        GenericRequest(family: family.id, command: command, version: UInt8(Self.protocolVersion), attributes: attributes)
    }

    public func info() throws -> ModuleInfo {
        let replies = try socket.transact(request(Command.getInfo), operation: "GET_INFO")
        guard let reply = replies.first else { throw NetlinkError.malformed("GET_INFO acked without a reply") }
        return try ModuleInfo(reply)
    }

    /// Streams the entries of [start, end) of process `pid`, in address order, except that a PMD
    /// record for a THP that formed during the dump may follow PTE records of its own 2 MiB range
    /// (the range was partly sent before the target's mmap lock was dropped; kmod/pteinspect.yaml).
    /// `readData`: also the first 4 bytes of each anonymous page (`PageTableEntry.data`; needs
    /// `Features.pageData`, an older module refuses the request).
    public func forEachEntry(pid: Int32, start: UInt64, end: UInt64, readData: Bool = false,
                             _ body: (PageTableEntry) throws -> Void) throws {
        try forEachRecord(pid: pid, start: start, end: end, readData: readData) { record in
            for i in 0..<record.count { try body(PageTableEntry(record, i)) }
        }
    }

    /// `forEachEntry`, handing over each entry as the checked wire record: for consumers that read
    /// a few fields of very many entries (nothing is materialized that they do not ask for).
    public func forEachRecord(pid: Int32, start: UInt64, end: UInt64, readData: Bool = false,
                              _ body: (PageTableRecord) throws -> Void) throws {
        var attributes: [RequestAttribute] = [.u32(Attr.pid, UInt32(bitPattern: pid)), .u64(Attr.start, start), .u64(Attr.end, end)]
        if readData { attributes.append(.flag(Attr.readData)) }
        let dump = request(Command.getPtes, attributes)
        try socket.dumpPayloads(dump, operation: "GET_PTES pid \(pid) [0x\(String(start, radix: 16)), 0x\(String(end, radix: 16)))") {
            try PageTableRecord.forEach(inPayload: $3, body)
        }
    }

    /// The VMAs of process `pid` (that overlap [start, end) when given), in address order.
    public func vmas(pid: Int32, start: UInt64? = nil, end: UInt64? = nil) throws -> [VmaRecord] {
        var attributes: [RequestAttribute] = [.u32(Attr.pid, UInt32(bitPattern: pid))]
        if let start { attributes.append(.u64(Attr.start, start)) }
        if let end { attributes.append(.u64(Attr.end, end)) }
        var result: [VmaRecord] = []
        try socket.dump(request(Command.getVmas, attributes), operation: "GET_VMAS pid \(pid)") {
            result.append(try VmaRecord($0))
        }
        return result
    }

    /// Where the kernel's reverse map finds the folio mapped at `address` of process `pid`.
    public func rmap(pid: Int32, address: UInt64) throws -> [RmapHit] {
        let pageSize = SystemPage.size
        var hits: [RmapHit] = []
        let attributes: [RequestAttribute] = [.u32(Attr.pid, UInt32(bitPattern: pid)), .u64(Attr.start, address & ~(pageSize - 1))]
        try socket.dump(request(Command.getRmap, attributes), operation: "GET_RMAP pid \(pid) 0x\(String(address, radix: 16))") {
            hits.append(try RmapHit($0))
        }
        return hits
    }

    /// The VMA that contains `address`, if any.
    public func vma(pid: Int32, containing address: UInt64) throws -> VmaRecord? {
        let pageSize = SystemPage.size
        let pageStart = address & ~(pageSize - 1)
        return try vmas(pid: pid, start: pageStart, end: pageStart + pageSize).first { $0.contains(address) }
    }

    public func entries(pid: Int32, start: UInt64, end: UInt64, readData: Bool = false) throws -> [PageTableEntry] {
        var result: [PageTableEntry] = []
        try forEachEntry(pid: pid, start: start, end: end, readData: readData) { result.append($0) }
        return result
    }

    /// [start, end) of `count` pages from the page that contains `address`; an error if it wraps.
    public static func pageRange(address: UInt64, count: UInt64,
                                 pageSize: UInt64 = SystemPage.size) throws -> (start: UInt64, end: UInt64) {
        let start = address & ~(pageSize - 1)
        let (length, overflowLength) = count.multipliedReportingOverflow(by: pageSize)
        let (end, overflowEnd) = start.addingReportingOverflow(length)
        guard count > 0, !overflowLength, !overflowEnd else {
            throw PteInspectError.invalidRange("\(count) pages from 0x\(String(start, radix: 16)) wrap around the address space")
        }
        return (start, end)
    }
}
