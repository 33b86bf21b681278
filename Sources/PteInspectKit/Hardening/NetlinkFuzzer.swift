import CPteInspect
import Foundation
import Glibc

/// A small, seedable PRNG (SplitMix64), so a fuzz run can be replayed from its seed.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// The values of one keyed-hash identity attribute a fuzz run saw. The module sends
/// siphash(object pointer, key drawn at load) (pteinspect_id(), kmod/pteinspect_id.c), so each
/// distinct object is one uniform value: in the kernel half 1 time in 256 by chance, where a raw
/// pointer would always be. Repeats (one mm in every record) say nothing: count distinct values.
public struct HashTally: Equatable {
    public var values = 0
    public var distinct: Set<UInt64> = []

    public var distinctInKernelHalf: Int { distinct.filter(NetlinkFuzzer.looksLikeKernelAddress).count }
    /// Judged from 4 distinct values on: more than half of them in the kernel half has odds below
    /// 1e-6 for keyed hashes (C(5,3)/256^3) and is certain for raw pointers.
    public var judged: Bool { distinct.count >= 4 }
    public var looksLikePointers: Bool { judged && distinctInKernelHalf * 2 > distinct.count }

    mutating func add(_ value: UInt64) { values += 1; distinct.insert(value) }
    mutating func merge(_ other: HashTally) { values += other.values; distinct.formUnion(other.distinct) }
}

/// What a fuzz run saw. Every message the fuzzer sends keeps a valid outer nlmsghdr and asks for
/// an ack, so the kernel must answer each one: an ack (0), a refusal (errno, extack message where
/// the policy gives one), or a dump ending in NLMSG_DONE.
public struct FuzzReport: CustomStringConvertible {
    public var sent = 0
    public var accepted = 0
    /// errno -> count
    public var refused: [Int32: Int] = [:]
    public var refusedWithMessage = 0
    /// Refusals without an extack message, by where they come from: the generic-netlink core
    /// (no genl header, unknown command, no doit/dumpit for the flag: it sets no message there)
    /// or "pteinspect" (the module itself: must be 0).
    public var refusedSilently: [String: Int] = [:]
    /// Requests sent in a valid form (known command, matching flag, live pid, aligned range).
    public var wellFormed = 0
    public var dumps = 0
    public var replies = 0
    /// Requests the kernel never answered within the timeout (must be 0).
    public var unanswered = 0
    /// Replies that did not parse, or answered another sequence (must be 0).
    public var malformedReplies = 0
    /// 8-byte attribute values, and 8-byte fields of GET_PTES entries, in the kernel half
    /// (`looksLikeKernelAddress`) outside the keyed-hash identities (must be 0).
    public var kernelPointers = 0
    /// Keyed-hash identity values seen, by attribute type.
    public var hashes: [UInt16: HashTally] = [:]
    public var hashValues: Int { hashes.values.reduce(0) { $0 + $1.values } }
    /// Identity attributes whose distinct values look like raw pointers (must be none).
    public var hashAttributesLikePointers: [UInt16] { hashes.filter { $0.value.looksLikePointers }.keys.sorted() }
    /// Sockets that stopped early because the module was unloaded under them (tools/harden-guest's
    /// load/unload cycles do that on purpose). Not a failure of the module, but the run is incomplete.
    public var socketsStoppedByUnload = 0
    public var examples: [String] = []

    public var refusedTotal: Int { refused.values.reduce(0, +) }

    /// "; distinct: vma-id 412 (2 in the kernel half), mm-id 3 (too few to judge), ..."
    var identitySummary: String {
        guard !hashes.isEmpty else { return "" }
        let parts = hashes.sorted { $0.key < $1.key }.map { type, tally in
            let name = NetlinkFuzzer.identityName(type)
            let verdict = tally.judged ? "\(tally.distinctInKernelHalf) in the kernel half" : "too few to judge"
            return "\(name) \(tally.distinct.count) (\(verdict))"
        }
        return "; distinct: " + parts.joined(separator: ", ")
    }

    mutating func merge(_ other: FuzzReport) {
        sent += other.sent
        accepted += other.accepted
        refused.merge(other.refused, uniquingKeysWith: +)
        refusedWithMessage += other.refusedWithMessage
        refusedSilently.merge(other.refusedSilently, uniquingKeysWith: +)
        wellFormed += other.wellFormed
        dumps += other.dumps
        replies += other.replies
        unanswered += other.unanswered
        malformedReplies += other.malformedReplies
        kernelPointers += other.kernelPointers
        for (type, tally) in other.hashes { hashes[type, default: HashTally()].merge(tally) }
        socketsStoppedByUnload += other.socketsStoppedByUnload
        examples += other.examples.prefix(max(0, 10 - examples.count))
    }

    public var description: String {
        let errnos = refused.keys.sorted().map { "\(ErrnoName(code: $0).message)=\(refused[$0] ?? 0)" }.joined(separator: ", ")
        var text = """
        sent \(sent) messages (\(wellFormed) well-formed): \(accepted) accepted (\(dumps) dumps, \(replies) reply messages), \(refusedTotal) refused with an errno \
        (\(refusedWithMessage) with an extack message)
          refusals by errno: \(errnos)
          unanswered: \(unanswered), malformed or misrouted replies: \(malformedReplies)
          kernel pointers in replies: \(kernelPointers); identity values (keyed hashes) checked: \(hashValues)\(identitySummary)
        """
        if socketsStoppedByUnload > 0 {
            text += "\n  the module was unloaded during the run: \(socketsStoppedByUnload) sockets stopped early"
        }
        if !refusedSilently.isEmpty {
            text += "\n  refusals without a message: " + refusedSilently.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        }
        for example in examples { text += "\n  ! \(example)" }
        return text
    }
}

/// Sends generated and mutated messages to the pteinspect family from several sockets at once and
/// checks every answer. Outer nlmsghdr lengths stay valid (netlink itself drops a message whose
/// nlmsg_len lies, without answering); everything after them is fair game: commands, flags
/// (DUMP on a doit and the reverse), genl version, attribute types, lengths, nesting, duplicates,
/// pids (live, dead, kernel threads, 0, huge) and ranges (0, unaligned, wrapping, kernel addresses,
/// the whole 128 TiB).
public final class NetlinkFuzzer {
    let family: UInt16
    let pids: [Int32]
    let userAddresses: [UInt64]

    public init(family: UInt16, pids: [Int32], userAddresses: [UInt64]) {
        self.family = family
        self.pids = pids
        self.userAddresses = userAddresses
    }

    /// Runs `messages` messages spread over `sockets` threads (each its own socket and PRNG).
    /// `progress` is called every `progressInterval` seconds with the messages sent so far (a long
    /// run says how far it is).
    public func run(messages: Int, sockets: Int, seed: UInt64, progressInterval: Double = 10,
                    progress: ((_ sent: Int, _ seconds: Double) -> Void)? = nil) throws -> FuzzReport {
        let results = Collector()
        let group = DispatchGroup()
        for index in 0..<sockets {
            let share = messages / sockets + (index < messages % sockets ? 1 : 0)
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                do {
                    results.add(try self.worker(count: share, seed: seed &+ UInt64(index) &* 0x1000_0001, collector: results))
                } catch {
                    results.fail(error)
                }
            }
            thread.start()
        }
        let started = Deadline(seconds: 0)
        while group.wait(timeout: .now() + progressInterval) == .timedOut {
            progress?(results.sent, started.elapsed)
        }
        return try results.result()
    }

    /// The threads' reports, merged under a lock.
    private final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var total = FuzzReport()
        private var failure: Error?
        private var sentSoFar = 0

        func add(_ report: FuzzReport) { lock.lock(); total.merge(report); lock.unlock() }
        func sentOne() { lock.lock(); sentSoFar += 1; lock.unlock() }
        var sent: Int { lock.lock(); defer { lock.unlock() }; return sentSoFar }
        func fail(_ error: Error) { lock.lock(); failure = error; lock.unlock() }
        func result() throws -> FuzzReport {
            lock.lock(); defer { lock.unlock() }
            if let failure { throw failure }
            return total
        }
    }

    private func worker(count: Int, seed: UInt64, collector: Collector) throws -> FuzzReport {
        var rng = SplitMix64(seed: seed)
        let socket = try RawNetlinkSocket()
        var report = FuzzReport()
        var sequence: UInt32 = 1
        for _ in 0..<count {
            sequence &+= 1
            let (bytes, shape) = generate(&rng, sequence: sequence)
            try socket.send(bytes)
            report.sent += 1
            collector.sentOne()
            if shape.dump { report.dumps += 1 }
            if shape.wellFormed { report.wellFormed += 1 }
            let refusedBy = collect(socket, sequence: sequence, shape: shape, request: bytes, into: &report)
            // Two refusals without a message come from the kernel's core while the module is being
            // unloaded (tools/harden-guest does it on purpose), not from the module:
            //  - genl_rcv_msg() (net/netlink/genetlink.c) answers -ENOENT for an id no family has;
            //  - __netlink_dump_start() (net/netlink/af_netlink.c, 6.1 line 2317) answers
            //    -EPROTONOSUPPORT to a dump when try_module_get() fails, i.e. the module is GOING
            //    but its family not yet unregistered.
            // Either way every later message gets the same answer: count it as the core's, stop.
            let unloading = (refusedBy == ENOENT && !familyStillRegistered())
                || (refusedBy == EPROTONOSUPPORT && shape.dump && moduleGoingOrGone())
            if unloading {
                recountAsUnloadRefusal(refusedBy, shape: shape, request: bytes, in: &report)
                break
            }
        }
        return report
    }

    /// Moves the refusal `collect` just counted from its origin to the core's unload refusals.
    private func recountAsUnloadRefusal(_ errno: Int32, shape: Shape, request: [UInt8], in report: inout FuzzReport) {
        let reason = ErrnoName(code: errno).message
        let key = "\(shape.silentRefusalOrigin): \(reason)"
        report.refusedSilently[key, default: 1] -= 1
        if report.refusedSilently[key] == 0 { report.refusedSilently[key] = nil }
        let origin = errno == ENOENT ? "genl core (family unregistered)" : "netlink core (dump while the module is going)"
        report.refusedSilently["\(origin): \(reason)", default: 0] += 1
        report.examples.removeAll { $0.hasPrefix("refused without a message (\(reason))") && $0.hasSuffix(hex(request)) }
        report.socketsStoppedByUnload += 1
    }

    /// Whether the module is being unloaded or gone: /sys/module/NAME/initstate (kernel/module/main.c
    /// show_initstate) says "going", or no longer exists, or the family is no longer registered.
    private func moduleGoingOrGone() -> Bool {
        guard let state = try? String(contentsOfFile: "/sys/module/\(pteinspectFamilyName)/initstate", encoding: .utf8) else {
            return true
        }
        return state.hasPrefix("going") || !familyStillRegistered()
    }

    /// Whether nlctrl still knows the family under the id this run targets.
    private func familyStillRegistered() -> Bool {
        guard let socket = try? GenericNetlinkSocket() else { return true }
        do {
            return try GenericFamily.resolve(pteinspectFamilyName, on: socket).id == family
        } catch NetlinkError.familyNotFound {
            return false
        } catch {
            return true
        }
    }

    // MARK: - Answers

    /// Reads the answer to one request into `report`; returns the errno of a refusal that came
    /// without an extack message (0 otherwise).
    @discardableResult
    private func collect(_ socket: RawNetlinkSocket, sequence: UInt32, shape: Shape, request: [UInt8], into report: inout FuzzReport) -> Int32 {
        while true {
            guard let datagram = socket.receive() else {
                report.unanswered += 1
                if report.examples.count < 10 { report.examples.append("no answer to " + hex(request)) }
                return 0
            }
            guard let messages = try? NetlinkMessage.split(datagram[...]) else {
                report.malformedReplies += 1
                return 0
            }
            for message in messages {
                guard message.sequence == sequence else {
                    // A late answer to an earlier request would be a kernel bug (or ours): count it.
                    report.malformedReplies += 1
                    if report.examples.count < 10 { report.examples.append("reply for sequence \(message.sequence) while waiting for \(sequence)") }
                    continue
                }
                switch Int32(message.type) {
                case NLMSG_ERROR, NLMSG_DONE:
                    guard let status = try? (Int32(message.type) == NLMSG_ERROR ? KernelStatus.fromError(message) : KernelStatus.fromDone(message)) else {
                        report.malformedReplies += 1
                        return 0
                    }
                    if status.errno == 0 {
                        report.accepted += 1
                    } else {
                        report.refused[status.errno, default: 0] += 1
                        if status.message != nil {
                            report.refusedWithMessage += 1
                        } else {
                            let origin = shape.silentRefusalOrigin
                            report.refusedSilently["\(origin): \(ErrnoName(code: status.errno).message)", default: 0] += 1
                            if origin == "pteinspect", report.examples.count < 10 {
                                report.examples.append("refused without a message (\(ErrnoName(code: status.errno).message)): " + hex(request))
                            }
                            return status.errno
                        }
                    }
                    return 0
                case NLMSG_NOOP:
                    continue
                default:
                    report.replies += 1
                    if message.type != family {
                        report.malformedReplies += 1
                        continue
                    }
                    inspect(message, into: &report)
                }
            }
        }
    }

    /// Attributes whose 8-byte values are keyed hashes (random-looking by design), by YNL name.
    static let hashAttributes: [UInt16: String] = [
        Attr.mmID: "mm-id", Attr.vmaID: "vma-id", Attr.mappingID: "mapping-id",
        Attr.anonVmaID: "anon-vma-id", Attr.anonVmaRootID: "anon-vma-root-id",
    ]

    /// An identity attribute's YNL name (kmod/pteinspect.yaml), for reports.
    public static func identityName(_ type: UInt16) -> String { hashAttributes[type] ?? "attribute \(type)" }

    /// The kernel half of x86-64's address space with 5-level paging, which contains the 4-level
    /// one (0xffff800000000000 up): Documentation/arch/x86/x86_64/mm.rst. The VM's CPU has LA57, so
    /// the stock kernel's direct map is at 0xff11000000000000, vmemmap at 0xffd4000000000000.
    static func looksLikeKernelAddress(_ value: UInt64) -> Bool { value >= 0xff00_0000_0000_0000 }

    private func inspect(_ message: NetlinkMessage, into report: inout FuzzReport) {
        guard let generic = try? GenericMessage(message) else {
            report.malformedReplies += 1
            return
        }
        func walk(_ attributes: [NetlinkAttribute], depth: Int) {
            for attribute in attributes {
                if attribute.type == Attr.anonVmaChain, depth == 0, let inner = try? attribute.nested() {
                    walk(inner, depth: 1)
                    continue
                }
                if attribute.type == Attr.entry, depth == 0 {
                    // GET_PTES (protocol 2): the struct's 8-byte fields, mapping_id an identity
                    guard attribute.payload.count == PageTableEntry.wireSize else {
                        report.malformedReplies += 1
                        continue
                    }
                    let entry = attribute.payload.withUnsafeBytes { $0.loadUnaligned(as: pteinspect_entry.self) }
                    if UInt32(entry.has) & PTEINSPECT_HAS_MAPPING_ID != 0 {
                        report.hashes[Attr.mappingID, default: HashTally()].add(entry.mapping_id)
                    }
                    // a run's last entry as well as its first (raw_step is a difference: not a value
                    // of its own, but what it makes of raw is)
                    guard let record = try? PageTableRecord(entry) else {
                        report.malformedReplies += 1
                        continue
                    }
                    for e in Set([0, record.count - 1]).map(record.entry) {
                        for (field, value) in [("addr", e.addr), ("raw", e.raw), ("pfn", e.pfn), ("swap_offset", e.swap_offset),
                                               ("linear_index", e.linear_index), ("index", e.index)] {
                            // The raw word of a swap-format entry (swap, migration, PTE marker...) is no
                            // address: x86 stores its offset inverted (__swp_entry(), L1TF:
                            // arch/x86/include/asm/pgtable_64.h), so a small offset sets every high bit.
                            // A guard marker (offset PTE_MARKER_GUARD, 4) is 0xfffffffffffff600 on 7.3.
                            if field == "raw", UInt64(e.entry_flags) & UInt64(PTEINSPECT_EF_PRESENT) == 0 { continue }
                            check(value, "field \(field) of an entry of command \(generic.command)")
                        }
                    }
                    continue
                }
                guard attribute.payload.count == 8, let value = try? attribute.u64() else { continue }
                if Self.hashAttributes[attribute.type] != nil {
                    report.hashes[attribute.type, default: HashTally()].add(value)
                } else {
                    check(value, "attribute \(attribute.type) of command \(generic.command)")
                }
            }
        }
        func check(_ value: UInt64, _ what: String) {
            guard Self.looksLikeKernelAddress(value) else { return }
            report.kernelPointers += 1
            if report.examples.count < 10 {
                report.examples.append("\(what) carries 0x\(String(value, radix: 16))")
            }
        }
        walk(generic.attributes, depth: 0)
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.prefix(96).map { String(format: "%02x", $0) }.joined() }

    // MARK: - Messages

    private func pick<T>(_ values: [T], _ rng: inout SplitMix64) -> T { values[Int(rng.next() % UInt64(values.count))] }
    private func chance(_ percent: UInt64, _ rng: inout SplitMix64) -> Bool { rng.next() % 100 < percent }

    private func address(_ rng: inout SplitMix64) -> UInt64 {
        let page: UInt64 = 4096
        switch rng.next() % 10 {
        case 0: return pick([0, 1, page - 1, page, page + 1, 0x7fff_ffff_f000, 0x8000_0000_0000, 0xffff_8000_0000_0000,
                             0xff11_0000_0000_0000, 0xffff_ffff_ffff_f000, UInt64.max, UInt64.max - page + 1, 1 << 56], &rng)
        case 1: return rng.next()                                    // anything
        case 2: return rng.next() & 0x7fff_ffff_ffff                 // user space, unaligned
        default:
            let base = userAddresses.isEmpty ? 0x7f00_0000_0000 : pick(userAddresses, &rng)
            return (base & ~(page - 1)) &+ (rng.next() % 64) &* page  // near real mappings, aligned
        }
    }

    private func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(UInt16(truncatingIfNeeded: 4 + payload.count))
        out.appendLittleEndian(type)
        out += payload
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    private func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLittleEndian(value)
        return out
    }

    /// A payload of the right size for `type` most of the time; otherwise a wrong one.
    private func payload(for type: UInt16, start: UInt64, _ rng: inout SplitMix64) -> [UInt8] {
        var right: [UInt8]
        switch type {
        case Attr.pid: right = bytes(UInt32(bitPattern: pick(pids, &rng)))
        case Attr.start: right = bytes(start)
        case Attr.end:
            let end: UInt64
            switch rng.next() % 8 {
            case 0: end = address(&rng)
            case 1: end = 0x7fff_ffff_f000                      // the whole user space
            default: end = start &+ (1 + rng.next() % 32) * 4096
            }
            right = bytes(end)
        default: right = (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        if chance(8, &rng) {   // wrong length: short, odd, long, empty
            let length = Int(pick([0, 1, 2, 3, 5, 7, 9, 12, 16, 64, 300], &rng))
            right = (0..<length).map { i in i < right.count ? right[i] : UInt8(truncatingIfNeeded: rng.next()) }
        }
        return right
    }

    /// What a generated message is, to tell whose refusal an answer is.
    struct Shape {
        var dump = false
        var wellFormed = false
        var hasGenlHeader = true
        var knownCommand = true
        var flagMatches = true

        /// Where a refusal without an extack message comes from.
        var silentRefusalOrigin: String {
            if !hasGenlHeader { return "genl core (no genlmsghdr)" }
            if !knownCommand { return "genl core (unknown command)" }
            if !flagMatches { return "genl core (no \(dump ? "dumpit" : "doit") for this command)" }
            return "pteinspect"
        }
    }

    /// A request in the form the module accepts: known command, its flag, a live pid, an
    /// aligned range near real mappings (the module's normal paths under concurrent load).
    private func wellFormed(_ rng: inout SplitMix64, sequence: UInt32) -> ([UInt8], Shape) {
        let commands: [UInt8] = [Command.getInfo, Command.getPtes, Command.getPtes, Command.getVmas, Command.getRmap]
        let command = pick(commands, &rng)
        var body: [UInt8] = [command, UInt8(PTEINSPECT_GENL_VERSION), 0, 0]
        let dump = command != Command.getInfo
        if dump {
            let live = pids.filter { $0 > 2 }
            body += attribute(Attr.pid, bytes(UInt32(bitPattern: live.isEmpty ? 1 : pick(live, &rng))))
            let start = (userAddresses.isEmpty ? 0x7f00_0000_0000 : pick(userAddresses, &rng)) &+ (rng.next() % 16) * 4096
            body += attribute(Attr.start, bytes(start))
            if command != Command.getRmap {
                body += attribute(Attr.end, bytes(chance(3, &rng) ? 0x7fff_ffff_f000 : start &+ (1 + rng.next() % 64) * 4096))
            }
        }
        var flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
        if dump { flags |= UInt16(NLM_F_DUMP) }
        return (frame(body, flags: flags, sequence: sequence), Shape(dump: dump, wellFormed: true))
    }

    private func frame(_ body: [UInt8], flags: UInt16, sequence: UInt32) -> [UInt8] {
        var message: [UInt8] = []
        message.appendLittleEndian(UInt32(16 + body.count))
        message.appendLittleEndian(family)
        message.appendLittleEndian(flags)
        message.appendLittleEndian(sequence)
        message.appendLittleEndian(UInt32(0))
        return message + body
    }

    func generate(_ rng: inout SplitMix64, sequence: UInt32) -> ([UInt8], Shape) {
        if chance(35, &rng) { return wellFormed(&rng, sequence: sequence) }
        let real: [UInt8] = [Command.getInfo, Command.getPtes, Command.getVmas, Command.getRmap]
        let command: UInt8 = chance(88, &rng) ? pick(real, &rng) : UInt8(truncatingIfNeeded: rng.next())
        let dumpCommand = command != Command.getInfo
        let dump = dumpCommand ? chance(85, &rng) : chance(15, &rng)
        var flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
        if dump { flags |= UInt16(NLM_F_DUMP) }
        if chance(5, &rng) { flags |= UInt16(truncatingIfNeeded: rng.next()) & 0x0ff0 }   // ECHO, ROOT/MATCH/ATOMIC bits...
        var body: [UInt8] = [command, chance(92, &rng) ? UInt8(PTEINSPECT_GENL_VERSION) : UInt8(truncatingIfNeeded: rng.next()), 0, 0]
        if chance(3, &rng) { body[2] = UInt8(truncatingIfNeeded: rng.next()) }
        let start = address(&rng)
        let usual: [UInt16] = [Attr.pid, Attr.start, Attr.end]
        var types: [UInt16] = usual.filter { _ in chance(75, &rng) }
        for _ in 0..<Int(rng.next() % 3) {
            switch rng.next() % 10 {
            case 0..<5: types.append(pick(usual, &rng))                                     // duplicates
            case 5..<8: types.append(UInt16(rng.next() % UInt64(PTEINSPECT_A_MAX.rawValue + 3)))     // other known (and just unknown) types
            case 8: types.append(UInt16(truncatingIfNeeded: rng.next()))                     // anything, incl. NLA_F_NESTED
            default: types.append(UInt16(rng.next() % UInt64(PTEINSPECT_A_MAX.rawValue + 1)) | UInt16(NLA_F_NESTED))
            }
        }
        if chance(50, &rng) { types.shuffle(using: &rng) }
        for type in types {
            if type & UInt16(NLA_F_NESTED) != 0 {
                var inner: [UInt8] = []
                for _ in 0..<Int(rng.next() % 3) { inner += attribute(pick(usual, &rng), payload(for: pick(usual, &rng), start: start, &rng)) }
                body += attribute(type, inner)
            } else {
                body += attribute(type, payload(for: type & 0x3fff, start: start, &rng))
            }
        }
        if chance(6, &rng), body.count > 4 {   // flip bytes after the genl header
            for _ in 0..<Int(1 + rng.next() % 4) {
                body[4 + Int(rng.next() % UInt64(body.count - 4))] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
            }
        }
        if chance(3, &rng) { body = Array(body.prefix(Int(rng.next() % UInt64(body.count + 1)))) }   // cut anywhere
        let isDump = flags & UInt16(NLM_F_DUMP) == UInt16(NLM_F_DUMP)
        var shape = Shape(dump: isDump)
        shape.hasGenlHeader = body.count >= 4
        let sentCommand = body.first ?? 0
        shape.knownCommand = real.contains(sentCommand)
        shape.flagMatches = isDump == (sentCommand != Command.getInfo)
        return (frame(body, flags: flags, sequence: sequence), shape)
    }
}

/// A plain AF_NETLINK socket for sending arbitrary bytes (libmnl would build valid messages).
final class RawNetlinkSocket {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    init(timeoutSeconds: Int = 20) throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_GENERIC)
        guard fd >= 0 else { throw SystemCallError("socket(AF_NETLINK)") }
        var one: Int32 = 1
        for option in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            _ = setsockopt(fd, SOL_NETLINK, option, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var size: Int32 = 1 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw SystemCallError("bind(AF_NETLINK)", errno: error)
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        guard sent == bytes.count else { throw SystemCallError("sendto(netlink)") }
    }

    /// One datagram, or nil on timeout.
    func receive() -> [UInt8]? {
        let count = retryingInterrupted { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
        return count >= 0 ? Array(buffer[0..<count]) : nil
    }
}
