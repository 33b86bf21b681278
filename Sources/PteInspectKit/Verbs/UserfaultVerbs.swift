import CPteInspect
import Glibc

// The userfaultfd verbs (include/uapi/linux/userfaultfd.h). One context per worker; ranges are
// registered explicitly. A fault on a registered page that nobody resolves would block the
// worker, so scenarios fill MISSING ranges with COPY/ZEROPAGE before touching them and resolve
// write protection before writing.

private func length(_ pages: Int) -> UInt64 { UInt64(pages) * SystemPage.size }

/// userfaultfd() + UFFDIO_API with the features asked for: UFFD_FEATURE_MOVE (`move`),
/// UFFD_FEATURE_RWP (`rwp`), UFFD_FEATURE_RWP_ASYNC (`async`: RWP faults resolved by the kernel,
/// mm/memory.c do_uffd_rwp(); without a reader a synchronous RWP fault would block the worker).
/// Replies "features=0x.. ioctls=0x..".
struct UffdOpen: ScenarioVerb, WireVerb {
    static let name = "uffd-open"
    var move = false
    var rwp = false
    var async = false
    init() {}
    init(move: Bool, rwp: Bool = false, async: Bool = false) { self.move = move; self.rwp = rwp; self.async = async }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.flag(&move, "move")
        try v.flag(&rwp, "rwp")
        try v.flag(&async, "async")
    }
    var features: UInt64 {
        (move ? UInt64(PTI_UFFD_FEATURE_MOVE) : 0) | (rwp ? UInt64(PTI_UFFD_FEATURE_RWP) : 0)
            | (async ? UInt64(PTI_UFFD_FEATURE_RWP_ASYNC) : 0)
    }
    var description: String {
        let names = [move ? "UFFD_FEATURE_MOVE" : nil, rwp ? "UFFD_FEATURE_RWP" : nil, async ? "UFFD_FEATURE_RWP_ASYNC" : nil].compactMap { $0 }
        return "userfaultfd + UFFDIO_API" + (names.isEmpty ? "" : " (" + names.joined(separator: ", ") + ")")
    }
    func perform(_ step: StepContext) throws -> StepOutcome { .succeeded(try step.send(self)) }
    func execute(_ worker: WorkerState) throws -> String {
        if worker.uffd >= 0 { close(worker.uffd); worker.uffd = -1 }
        var features: UInt64 = 0, ioctls: UInt64 = 0
        let wanted = self.features
        let opened = pti_uffd_open(wanted, &features, &ioctls)
        guard opened >= 0 else { throw WorkerFailure.system("userfaultfd/UFFDIO_API(features=0x\(String(wanted, radix: 16)))") }
        worker.uffd = opened
        return "features=0x\(String(features, radix: 16)) ioctls=0x\(String(ioctls, radix: 16))"
    }
}

/// UFFDIO_REGISTER of a range in the modes given ("missing,wp"). Replies "ioctls=0x..".
struct UffdRegister<At: Place>: Verb {
    static var name: String { "uffd-register" }
    var at = At.placeholder
    var pages = 1
    var modes = UffdModes.missing
    init() {}
    init(at: At, pages: Int, modes: UffdModes) { self.at = at; self.pages = pages; self.modes = modes }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        try v.value(&modes, "missing|wp|minor|rwp[,...]")
    }
}

extension UffdRegister: ScenarioVerb where At == Loc {
    var description: String { "UFFDIO_REGISTER \(at) \(pages) pages mode \(modes)" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        .succeeded(try step.send(UffdRegister<Address>(at: try step.address(at), pages: pages, modes: modes)))
    }
}

extension UffdRegister: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        let fd = try worker.userfaultfd()
        var mode: UInt64 = 0
        if modes.contains(.missing) { mode |= UInt64(UFFDIO_REGISTER_MODE_MISSING) }
        if modes.contains(.wp) { mode |= UInt64(UFFDIO_REGISTER_MODE_WP) }
        if modes.contains(.minor) { mode |= UInt64(UFFDIO_REGISTER_MODE_MINOR) }
        if modes.contains(.rwp) { mode |= UInt64(PTI_UFFDIO_REGISTER_MODE_RWP) }
        var ioctls: UInt64 = 0
        guard pti_uffd_register(fd, at.value, length(pages), mode, &ioctls) == 0 else { throw WorkerFailure.system("UFFDIO_REGISTER") }
        return "ioctls=0x\(String(ioctls, radix: 16))"
    }
}

/// UFFDIO_COPY of pages filled with 0xa5 (UFFDIO_COPY_MODE_WP when `writeProtect`). On the wire,
/// page i starts with the u32 `first + i` when given; a scenario gives its tags that way.
struct UffdCopy<At: Place>: Verb {
    static var name: String { "uffd-copy" }
    var at = At.placeholder
    var pages = 1
    var writeProtect = false
    var first: UInt32?
    init() {}
    init(at: At, pages: Int, writeProtect: Bool, first: UInt32? = nil) {
        self.at = at; self.pages = pages; self.writeProtect = writeProtect; self.first = first
    }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        // The worker allocates the source: 256 MiB at most.
        try v.pages(&pages, from: at, most: WorkerCommand.maximumCopyPages)
        try v.flag(&writeProtect, "wp")
        if v.side == .wire { try v.hex(&first, "FIRST") }
    }
}

extension UffdCopy: ScenarioVerb where At == Loc {
    var description: String { "UFFDIO_COPY \(at) \(pages) pages" + (writeProtect ? " MODE_WP" : "") }
    func perform(_ step: StepContext) throws -> StepOutcome {
        // Page i of the copy starts with the tag of page at+i (tags of one step differ in their
        // page only): none if a page number would not fit its 12 bits.
        let first = at.page + pages <= 4096 ? step.tag(at) : nil
        try step.send(UffdCopy<Address>(at: try step.address(at), pages: pages, writeProtect: writeProtect, first: first))
        step.content.set(step.actor, at, pages: pages) { page in
            first == nil ? .unknown : step.content.tag(step.actor, step: step.number, page: page).map { .stored($0.value) } ?? .unknown
        }
        return .succeeded("")
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .uffdCopy }
}

extension UffdCopy: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        let fd = try worker.userfaultfd()
        var source = [UInt8](repeating: 0xa5, count: Int(length(pages)))
        if let first {
            let size = Int(length(1))
            source.withUnsafeMutableBytes { bytes in
                for i in 0..<pages { bytes.storeBytes(of: first &+ UInt32(truncatingIfNeeded: i), toByteOffset: i * size, as: UInt32.self) }
            }
        }
        var copied: Int64 = 0
        let mode: UInt64 = writeProtect ? UInt64(UFFDIO_COPY_MODE_WP) : 0
        let result = source.withUnsafeBytes {
            pti_uffd_copy(fd, at.value, UInt64(UInt(bitPattern: $0.baseAddress)), length(pages), mode, &copied)
        }
        guard result == 0 else { throw WorkerFailure.system("UFFDIO_COPY") }
        return "\(copied)"
    }
}

struct UffdZeropage<At: Place>: PageRangeVerb {
    static var name: String { "uffd-zeropage" }
    var at: At
    var pages: Int
}

extension UffdZeropage: ScenarioVerb where At == Loc {
    var description: String { "UFFDIO_ZEROPAGE \(at) \(pages) pages" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(UffdZeropage<Address>(at: try step.address(at), pages: pages))
        step.content.set(step.actor, at, pages: pages) { _ in .zero }
        return .succeeded("")
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .uffdZeropage }
}

extension UffdZeropage: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        var zeroed: Int64 = 0
        guard pti_uffd_zeropage(try worker.userfaultfd(), at.value, length(pages), 0, &zeroed) == 0 else { throw WorkerFailure.system("UFFDIO_ZEROPAGE") }
        return "\(zeroed)"
    }
}

/// One of userfaultfd's two protections of a registered range: what its verb calls, how its
/// ioctl is named and asked, in one place for UffdProtect.
protocol UffdProtection {
    static var verbName: String { get }
    static var ioctlName: String { get }
    static var modeName: String { get }
    /// The ioctl on `fd` for [start, start + len), protecting (`on`) or resolving: 0 or -1 with errno.
    static func call(_ fd: Int32, _ start: UInt64, _ len: UInt64, on: Bool) -> Int32
}

/// UFFDIO_WRITEPROTECT, mode WP (`on`) or 0 (resolve).
enum WriteProtection: UffdProtection {
    static let verbName = "uffd-wp", ioctlName = "UFFDIO_WRITEPROTECT", modeName = "MODE_WP"
    static func call(_ fd: Int32, _ start: UInt64, _ len: UInt64, on: Bool) -> Int32 {
        pti_uffd_writeprotect(fd, start, len, on ? UInt64(UFFDIO_WRITEPROTECT_MODE_WP) : 0)
    }
}

/// UFFDIO_RWPROTECT (7.3, RWP mode): `on` makes the range PROT_NONE with the uffd bit
/// (mm/mprotect.c change_protection() with MM_CP_UFFD_RWP), `off` restores the VMA's protection
/// and wakes any waiter (MM_CP_UFFD_RWP_RESOLVE).
enum ReadWriteProtection: UffdProtection {
    static let verbName = "uffd-rwp", ioctlName = "UFFDIO_RWPROTECT", modeName = "MODE_RWP"
    static func call(_ fd: Int32, _ start: UInt64, _ len: UInt64, on: Bool) -> Int32 {
        pti_uffd_rwprotect(fd, start, len, on ? UInt64(PTI_UFFDIO_RWPROTECT_MODE_RWP) : 0)
    }
}

/// `uffd-wp` / `uffd-rwp PAGE PAGES on|off`.
struct UffdProtect<At: Place, Protection: UffdProtection>: Verb {
    static var name: String { Protection.verbName }
    var at = At.placeholder
    var pages = 1
    var on = true
    init() {}
    init(at: At, pages: Int, on: Bool) { self.at = at; self.pages = pages; self.on = on }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        try v.either(&on, "on", "off")
    }
}

typealias UffdWriteProtect<At: Place> = UffdProtect<At, WriteProtection>
typealias UffdReadWriteProtect<At: Place> = UffdProtect<At, ReadWriteProtection>

extension UffdProtect: ScenarioVerb where At == Loc {
    var description: String { "\(Protection.ioctlName) \(at) \(pages) pages " + (on ? Protection.modeName : "mode 0 (resolve)") }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(UffdProtect<Address, Protection>(at: try step.address(at), pages: pages, on: on))
        return .succeeded("")
    }
}

extension UffdProtect: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard Protection.call(try worker.userfaultfd(), at.value, length(pages), on: on) == 0 else { throw WorkerFailure.system(Protection.ioctlName) }
        return ""
    }
}

/// UFFDIO_CONTINUE (MINOR mode: map the page already in the page cache).
struct UffdContinue<At: Place>: PageRangeVerb {
    static var name: String { "uffd-continue" }
    var at: At
    var pages: Int
}

extension UffdContinue: ScenarioVerb where At == Loc {
    var description: String { "UFFDIO_CONTINUE \(at) \(pages) pages" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        .succeeded(try step.send(UffdContinue<Address>(at: try step.address(at), pages: pages)))
    }
}

extension UffdContinue: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        var mapped: Int64 = 0
        guard pti_uffd_continue(try worker.userfaultfd(), at.value, length(pages), 0, &mapped) == 0 else { throw WorkerFailure.system("UFFDIO_CONTINUE") }
        return "\(mapped)"
    }
}

/// UFFDIO_MOVE (Linux 6.8+). Replies with the bytes moved.
struct UffdMove<At: Place>: Verb {
    static var name: String { "uffd-move" }
    var from = At.placeholder
    var to = At.placeholder
    var pages = 1
    init() {}
    init(from: At, to: At, pages: Int) { self.from = from; self.to = to; self.pages = pages }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&from, "FROM", wire: "SRC")
        try v.page(&to, "TO", wire: "DST")
        try v.pages(&pages, from: from)
    }
}

extension UffdMove: ScenarioVerb where At == Loc {
    var description: String { "UFFDIO_MOVE \(from) -> \(to) \(pages) pages" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let moved = try step.send(UffdMove<Address>(from: try step.address(from), to: try step.address(to), pages: pages))
        step.content.move(step.actor, from: from, to: to, pages: pages)
        return .succeeded(moved)
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .uffdMove }
}

extension UffdMove: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        var moved: Int64 = 0
        guard pti_uffd_move(try worker.userfaultfd(), to.value, from.value, length(pages), 0, &moved) == 0 else { throw WorkerFailure.system("UFFDIO_MOVE") }
        return "\(moved)"
    }
}
