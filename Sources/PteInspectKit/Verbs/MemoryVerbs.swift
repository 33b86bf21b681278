import CPteInspect
import Glibc

// Loads, stores and the calls that change a range's state: write, read, fill, mprotect, madvise,
// drain, pin, unpin, and the accesses through /proc/PID/mem.

/// One byte (0x5a) stored at the page, or the u32 `value` (a write fault if it is not writable
/// yet). A scenario's write without a value stores the step's `ContentTag`, which says who wrote
/// the page when (the data checks).
struct Write<At: Place>: Verb {
    static var name: String { "write" }
    var at = At.placeholder
    var value: UInt32?
    init() {}
    init(at: At, value: UInt32? = nil) { self.at = at; self.value = value }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.hex(&value, "VALUE")
    }
}

extension Write: ScenarioVerb where At == Loc {
    func validate(_ text: String) throws(GrammarError) {
        guard let value else { return }
        guard value != 0 else {
            throw GrammarError(message: "'\(text)': 0 is what a fresh page holds (the data check could not tell the write happened, and a split may map an all-zero page to the zero page): choose another value")
        }
        guard ContentTag(value: value) == nil else {
            throw GrammarError(message: "'\(text)': 0x\(String(value, radix: 16)) looks like a step's tag (top byte 0x5a, see Data checks): choose another value")
        }
    }
    var description: String { "write \(at)" + (value.map { " 0x" + String($0, radix: 16) } ?? "") }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let stored = value ?? step.tag(at)
        try step.send(Write<Address>(at: try step.address(at), value: stored))
        step.content.store(step.actor, at, stored)
        return .succeeded("")
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath {
        guard let page = before(PageRef(actor, at)) else { return .fault }
        if page[.swapped] == .bool(true) { return .swapIn }
        if page[.present] != .bool(true) { return .fault }
        // a page another mapping shares (after fork or KSM), or the zero page: copied first
        if page[.zeroPage] == .bool(true) || page[.anonExclusive] == .bool(false) { return .cowCopy }
        return .other
    }
}

extension Write: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String { try worker.store(value, at: at); return "" }
}

/// One byte loaded (a read fault if nothing is mapped yet). Replies with the byte.
struct Read<At: Place>: PageVerb {
    static var name: String { "read" }
    var at: At
}

extension Read: ScenarioVerb where At == Loc {
    var description: String { "read \(at)" }
    func perform(_ step: StepContext) throws -> StepOutcome { .succeeded(try step.send(Read<Address>(at: try step.address(at)))) }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath {
        guard let page = before(PageRef(actor, at)) else { return .fault }
        if page[.swapped] == .bool(true) { return .swapIn }
        return page[.present] == .bool(true) ? .other : .fault
    }
}

extension Read: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String { "\(try worker.pointer(at).pointee)" }
}

/// One byte (0x5a) stored in each of `pages` pages, or the u32 `first + i` at the start of page i.
struct Fill: WireVerb {
    static let name = "fill"
    var at = Address.placeholder
    var pages = 1
    var first: UInt32?
    init() {}
    init(at: Address, pages: Int, first: UInt32? = nil) { self.at = at; self.pages = pages; self.first = first }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        try v.hex(&first, "FIRST")
    }
    func execute(_ worker: WorkerState) throws -> String {
        for i in 0..<UInt64(pages) {
            let (page, overflow) = at.value.addingReportingOverflow(i * UInt64(worker.pageSize))
            guard !overflow else { throw WorkerFailure(call: "usage", message: "fill: the range wraps the address space") }
            try worker.store(first.map { $0 &+ UInt32(truncatingIfNeeded: i) }, at: Address(page))
        }
        return ""
    }
}

struct Mprotect<At: Place>: Verb {
    static var name: String { "mprotect" }
    var at = At.placeholder
    var pages = 1
    var protection = Protection.readWrite
    init() {}
    init(at: At, pages: Int, protection: Protection) { self.at = at; self.pages = pages; self.protection = protection }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        try v.choice(&protection, "protection")
    }
}

extension Mprotect: ScenarioVerb where At == Loc {
    var operation: String { "mprotect \(protection.rawValue)" }
    var description: String { "mprotect \(at) \(pages) pages \(protection.flagNames)" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Mprotect<Address>(at: try step.address(at), pages: pages, protection: protection))
        return .succeeded("")
    }
}

extension Mprotect: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard Glibc.mprotect(try worker.raw(at), worker.length(pages), protection.prot) == 0 else { throw WorkerFailure.system("mprotect") }
        return ""
    }
}

struct Madvise<At: Place>: Verb {
    static var name: String { "madvise" }
    var at = At.placeholder
    var pages = 1
    var advice = Advice.pageout
    init() {}
    init(at: At, pages: Int, advice: Advice) { self.at = at; self.pages = pages; self.advice = advice }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        try v.choice(&advice, "madvise advice")
    }
}

extension Madvise: ScenarioVerb where At == Loc {
    var operation: String { "madvise \(advice.rawValue)" }
    var description: String { "madvise \(at) \(pages) pages \(advice.constantName)" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Madvise<Address>(at: try step.address(at), pages: pages, advice: advice))
        step.content.advise(step.actor, at, pages: pages, advice)
        return .succeeded("")
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath {
        switch advice {
        case .pageout, .cold: return .swapOut
        // MADV_GUARD_INSTALL zaps what is mapped in the range before it installs the markers
        // (mm/madvise.c madvise_guard_install(): zap_vma_range()), the zap MADV_DONTNEED does
        case .dontneed, .guardInstall: return .dontneed
        case .mergeable: return .ksm
        default: return .other
        }
    }
}

extension Madvise: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard Glibc.madvise(try worker.raw(at), worker.length(pages), advice.value) == 0 else {
            throw WorkerFailure.system("madvise(\(advice.constantName))")
        }
        return ""
    }
}

/// lru_add_drain() on the worker's CPU: MADV_COLD on a scratch page (madvise_cold() drains the
/// local per-CPU LRU batches first, mm/madvise.c).
struct Drain: ScenarioVerb, WireVerb {
    static let name = "drain"
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {}
    var description: String { "drain this CPU's LRU batches (MADV_COLD on a scratch page)" }
    func perform(_ step: StepContext) throws -> StepOutcome { try step.send(self); return .succeeded("") }
    func execute(_ worker: WorkerState) throws -> String {
        if worker.scratch == nil {
            guard let page = mmap(nil, worker.pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  page != MAP_FAILED else { throw WorkerFailure.system("mmap") }
            worker.scratch = page
        }
        guard let scratch = worker.scratch else { throw WorkerFailure(message: "no scratch page") }
        guard Glibc.madvise(scratch, worker.pageSize, MADV_COLD) == 0 else { throw WorkerFailure.system("madvise(MADV_COLD)") }
        return ""
    }
}

/// pin_user_pages() through /dev/pteinspect (FOLL_PIN, optionally FOLL_WRITE / FOLL_LONGTERM).
struct Pin<At: Place>: Verb {
    static var name: String { "pin" }
    var at = At.placeholder
    var pages = 1
    var write = false
    var longterm = false
    init() {}
    init(at: At, pages: Int, write: Bool, longterm: Bool) { self.at = at; self.pages = pages; self.write = write; self.longterm = longterm }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        var options = [write, longterm]
        try v.letters(&options, ["w", "l"], "w: FOLL_WRITE, l: FOLL_LONGTERM")
        write = options[0]
        longterm = options[1]
    }
}

extension Pin: ScenarioVerb where At == Loc {
    var description: String {
        "pin_user_pages \(at) \(pages) pages FOLL_PIN" + (write ? "|FOLL_WRITE" : "") + (longterm ? "|FOLL_LONGTERM" : "")
    }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Pin<Address>(at: try step.address(at), pages: pages, write: write, longterm: longterm))
        return .succeeded("")
    }
}

extension Pin: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        var flags: UInt32 = 0
        if write { flags |= UInt32(PTEINSPECT_PIN_WRITE) }
        if longterm { flags |= UInt32(PTEINSPECT_PIN_LONGTERM) }
        guard pti_fixture_pin(try worker.openFixture(), 0, at.value, UInt64(pages), flags) == 0 else { throw WorkerFailure.system("PTEINSPECT_IOC_PIN") }
        return ""
    }
}

struct Unpin<At: Place>: PageRangeVerb {
    static var name: String { "unpin" }
    var at: At
    var pages: Int
}

extension Unpin: ScenarioVerb where At == Loc {
    var description: String { "unpin \(at) \(pages) pages" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Unpin<Address>(at: try step.address(at), pages: pages))
        return .succeeded("")
    }
}

extension Unpin: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard pti_fixture_pin(try worker.openFixture(), 1, at.value, UInt64(pages), 0) == 0 else { throw WorkerFailure.system("PTEINSPECT_IOC_UNPIN") }
        return ""
    }
}

// MARK: - GUP references that are not pins

/// vmsplice(2) of pages into a pipe the worker keeps: each page gets a get_user_pages_fast()
/// reference (FOLL_GET, not FOLL_PIN: fs/splice.c iter_to_pipe() -> lib/iov_iter.c
/// __iov_iter_get_pages_alloc() -> get_user_pages_fast(), the same in 6.1, 6.12 and 7.3), held
/// by the pipe buffer until `vmsplice-drop` closes the pipe. What an application holding a page
/// for I/O looks like to reclaim, fork and UFFDIO_MOVE: a raised refcount that
/// folio_maybe_dma_pinned() does not count, so try_to_unmap() still unmaps the page, and
/// __remove_mapping() then cannot free it: the folio stays in the swap cache behind its swap PTE.
struct Vmsplice<At: Place>: PageRangeVerb {
    static var name: String { "vmsplice" }
    /// /proc/sys/fs/pipe-max-size's default (1 MiB) in 4 KiB pages: a pipe holds no more for an
    /// unprivileged caller, and a scenario needs no more.
    static var maxPages: Int { 256 }
    var at: At
    var pages: Int
}

extension Vmsplice: ScenarioVerb where At == Loc {
    var description: String { "vmsplice \(at) \(pages) pages into a pipe (get_user_pages_fast(): FOLL_GET references, held)" }
    func validate(_ text: String) throws(GrammarError) {
        guard pages <= Self.maxPages else {
            throw GrammarError(message: "'\(text)': a pipe holds at most \(Self.maxPages) pages (pipe-max-size); splice fewer")
        }
    }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError) {
        try checkPages(&state, actor: actor)
        guard state.spliced.insert(PageRef(actor, at)).inserted else {
            throw GrammarError(message: "\(at) of actor '\(actor)' is already spliced into a pipe: vmsplice-drop it first")
        }
    }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Vmsplice<Address>(at: try step.address(at), pages: pages))
        return .succeeded("")
    }
}

extension Vmsplice: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard worker.splices[at.value] == nil else { throw WorkerFailure(call: "usage", message: "vmsplice: a pipe already holds the pages at \(at)") }
        var ends: [Int32] = [-1, -1]
        guard pti_vmsplice_pipe(try worker.raw(at), worker.length(pages), &ends) == 0 else { throw WorkerFailure.system("vmsplice") }
        worker.splices[at.value] = (ends[0], ends[1])
        return ""
    }
}

/// Closes the pipe `vmsplice` filled at that page: the pipe buffers' release drops the references
/// (fs/splice.c user_page_pipe_buf_ops -> generic_pipe_buf_release() -> put_page()).
struct VmspliceDrop<At: Place>: PageVerb {
    static var name: String { "vmsplice-drop" }
    var at: At
}

extension VmspliceDrop: ScenarioVerb where At == Loc {
    var description: String { "close the pipe vmsplice filled at \(at) (its references dropped)" }
    /// The page need not be mapped any more (moved or unmapped since): the pipe still holds it.
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError) {
        guard state.spliced.remove(PageRef(actor, at)) != nil else {
            throw GrammarError(message: "no pipe holds \(at) of actor '\(actor)' at this step (an earlier 'vmsplice \(at) PAGES' fills one)")
        }
    }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(VmspliceDrop<Address>(at: try step.address(at)))
        return .succeeded("")
    }
}

extension VmspliceDrop: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard let ends = worker.splices.removeValue(forKey: at.value) else { throw WorkerFailure(call: "usage", message: "vmsplice-drop: no pipe holds the pages at \(at)") }
        close(ends.read)
        close(ends.write)
        return ""
    }
}

// MARK: - /proc/PID/mem

/// One byte through /proc/PID/mem of another actor (FOLL_FORCE): the writer's tag, in the
/// target's page, so that a leak report names who wrote it.
struct MemWrite: ScenarioVerb {
    static let name = "mem-write"
    var target = PageRef("parent", Loc.placeholder)
    init() {}
    init(target: PageRef) { self.target = target }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.pageRef(&target, "ACTOR:PAGE") }
    var description: String { "write 1 byte at \(target.actor):\(target.loc) through /proc/\(target.actor)/mem" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let (other, address) = try step.locate(target)
        let stored = step.tag(target.loc)
        let reply = try step.send(ProcMemWrite(pid: other.pid, at: address, value: stored))
        step.content.store(target.actor, target.loc, stored)
        return .succeeded(reply)
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .procMem }
}

struct MemRead: ScenarioVerb {
    static let name = "mem-read"
    var target = PageRef("parent", Loc.placeholder)
    init() {}
    init(target: PageRef) { self.target = target }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.pageRef(&target, "ACTOR:PAGE") }
    var description: String { "read 1 byte at \(target.actor):\(target.loc) through /proc/\(target.actor)/mem" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let (other, address) = try step.locate(target)
        return .succeeded(try step.send(ProcMemRead(pid: other.pid, at: address)))
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .procMem }
}

/// One byte (0x3c) or the u32 `value` written through /proc/PID/mem (FOLL_FORCE).
struct ProcMemWrite: WireVerb {
    static let name = "mem-write"
    var pid: Int32 = 1
    var at = Address.placeholder
    var value: UInt32?
    init() {}
    init(pid: Int32, at: Address, value: UInt32? = nil) { self.pid = pid; self.at = at; self.value = value }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.number(&pid, "PID", 1...Int32.max)
        try v.page(&at)
        try v.hex(&value, "VALUE")
    }
    func execute(_ worker: WorkerState) throws -> String {
        guard var word = value else { _ = try worker.procMemByte(pid: pid, at, write: true); return "" }
        try withUnsafeMutableBytes(of: &word) { (bytes) throws(WorkerFailure) in
            try worker.procMem(pid: pid, at, bytes, write: true)
        }
        return ""
    }
}

/// One byte read through /proc/PID/mem; replies with it.
struct ProcMemRead: WireVerb {
    static let name = "mem-read"
    var pid: Int32 = 1
    var at = Address.placeholder
    init() {}
    init(pid: Int32, at: Address) { self.pid = pid; self.at = at }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.number(&pid, "PID", 1...Int32.max)
        try v.page(&at)
    }
    func execute(_ worker: WorkerState) throws -> String { "\(try worker.procMemByte(pid: pid, at, write: false))" }
}

/// mlock(2), or mlock2(MLOCK_ONFAULT): VM_LOCKED on the range (with VM_LOCKONFAULT for onfault).
/// do_mlock() sets the flags, then __mm_populate() faults the range in (mm/mlock.c, 6.1 L608,
/// 6.12 L655); populate_vma_page_range() returns at once for VM_LOCKONFAULT, and asks for a write
/// fault (FOLL_WRITE) in a private writable VMA "to break COW" (mm/gup.c, 6.1 L1584/L1593,
/// 6.12 L1907/L1923): after a plain mlock each page is the process's own exclusive anonymous page.
enum MlockMode: String, CaseIterable { case populate, onfault }

struct Mlock<At: Place>: Verb {
    typealias Mode = MlockMode
    static var name: String { "mlock" }
    var at = At.placeholder
    var pages = 1
    var mode = Mode.populate
    init() {}
    init(at: At, pages: Int, mode: Mode) { self.at = at; self.pages = pages; self.mode = mode }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
        try v.choice(&mode, "mlock mode", usage: nil, default: .populate)
    }
}

extension Mlock: ScenarioVerb where At == Loc {
    var description: String { mode == .onfault ? "mlock2 \(at) \(pages) pages MLOCK_ONFAULT" : "mlock \(at) \(pages) pages" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Mlock<Address>(at: try step.address(at), pages: pages, mode: mode))
        return .succeeded("")
    }
}

extension Mlock: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        let start = try worker.raw(at), length = worker.length(pages)
        switch mode {
        case .populate:
            guard Glibc.mlock(start, length) == 0 else { throw WorkerFailure.system("mlock") }
        case .onfault:
            guard pti_mlock_onfault(start, length) == 0 else { throw WorkerFailure.system("mlock2(MLOCK_ONFAULT)") }
        }
        return ""
    }
}

/// munlock(2): VM_LOCKED (and VM_LOCKONFAULT) off the range; the pages stay mapped.
struct Munlock<At: Place>: PageRangeVerb {
    static var name: String { "munlock" }
    var at: At
    var pages: Int
}

extension Munlock: ScenarioVerb where At == Loc {
    var description: String { "munlock \(at) \(pages) pages" }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.send(Munlock<Address>(at: try step.address(at), pages: pages))
        return .succeeded("")
    }
}

extension Munlock: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        guard Glibc.munlock(try worker.raw(at), worker.length(pages)) == 0 else { throw WorkerFailure.system("munlock") }
        return ""
    }
}
