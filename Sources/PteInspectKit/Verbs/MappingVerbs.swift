import CPteInspect
import Glibc

// The verbs that make a mapping (and, in a scenario, bind a name to it): map, map-file, map-thp,
// map-kind, map-pfn, mremap.

private func plural(_ pages: Int) -> String { "\(pages) page\(pages == 1 ? "" : "s")" }

/// mmap `pages` anonymous pages between two PROT_NONE guard pages (the mapping never merges with
/// a neighbour and shares its anon_vma), MADV_NOHUGEPAGE. The worker replies with the address; a
/// scenario binds `symbol` to it.
struct MapAnon: ScenarioVerb, WireVerb {
    static let name = "map"
    var symbol = "P"
    var pages = 1
    var protection = Protection.readWrite
    var sharing = Sharing.private
    init() {}
    init(symbol: String = "P", pages: Int, protection: Protection = .readWrite, sharing: Sharing = .private) {
        self.symbol = symbol; self.pages = pages; self.protection = protection; self.sharing = sharing
    }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        if v.side == .scenario { try v.name(&symbol, "NAME") }
        try v.count(&pages, "PAGES")
        try v.choice(&protection, "protection", usage: nil, default: .readWrite)
        try v.choice(&sharing, "sharing", usage: nil, default: .private)
    }
    var description: String {
        "mmap \(plural(pages)) \(protection.flagNames) \(sharing.flagName)|MAP_ANONYMOUS, MADV_NOHUGEPAGE -> \(symbol)"
    }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) { state.bind(actor, symbol, pages: pages) }
    func perform(_ step: StepContext) throws -> StepOutcome {
        // The account of a mapping starts once it exists (a refused mmap leaves the old one).
        let outcome = try step.bind(symbol, self)
        step.content.map(step.actor, symbol, shared: sharing == .shared, file: false)
        return outcome
    }
    func execute(_ worker: WorkerState) throws -> String {
        var start = try worker.reserve(pages: pages, accounted: true)
        let length = worker.length(pages)
        if sharing == .shared {
            guard let shared = mmap(start, length, protection.prot, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                  shared != MAP_FAILED else { throw WorkerFailure.system("mmap(MAP_SHARED)") }
            start = shared
        } else {
            guard Glibc.mprotect(start, length, protection.prot) == 0 else { throw WorkerFailure.system("mprotect") }
        }
        guard Glibc.madvise(start, length, MADV_NOHUGEPAGE) == 0 else { throw WorkerFailure.system("madvise(MADV_NOHUGEPAGE)") }
        return WorkerState.hex(start)
    }
}

/// The first `pages` pages of the shmem file `file` (a memfd the worker creates on first use,
/// `pages` long; the same name maps the same file again), between guard pages.
struct MapFile: ScenarioVerb, WireVerb {
    static let name = "map-file"
    var symbol = "P"
    var file = "f"
    var pages = 1
    var protection = Protection.readWrite
    var sharing = Sharing.private
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        if v.side == .scenario { try v.name(&symbol, "NAME") }
        try v.name(&file, v.side == .scenario ? "FILE" : "NAME")
        try v.count(&pages, "PAGES")
        try v.choice(&protection, "protection", usage: nil, default: .readWrite)
        try v.choice(&sharing, "sharing", usage: nil, default: .private)
    }
    var description: String {
        "mmap \(plural(pages)) of shmem file \(file) \(protection.flagNames) \(sharing.flagName) -> \(symbol)"
    }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) { state.bind(actor, symbol, pages: pages) }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let outcome = try step.bind(symbol, self)
        step.content.map(step.actor, symbol, shared: sharing == .shared, file: true)
        return outcome
    }
    func execute(_ worker: WorkerState) throws -> String {
        let fd: Int32
        if let known = worker.files[file] {
            fd = known
        } else {
            fd = pti_memfd_create(file)
            guard fd >= 0 else { throw WorkerFailure.system("memfd_create") }
            guard ftruncate(fd, off_t(worker.length(pages))) == 0 else {
                let failure = WorkerFailure.system("ftruncate")
                close(fd)
                throw failure
            }
            worker.files[file] = fd
        }
        let target = try worker.reserve(pages: pages)
        guard let mapped = mmap(target, worker.length(pages), protection.prot, sharing.flag | MAP_FIXED, fd, 0), mapped != MAP_FAILED else {
            throw WorkerFailure.system("mmap(memfd:\(file))")
        }
        return WorkerState.hex(mapped)
    }
}

/// 4 MiB between guard pages, MADV_HUGEPAGE on its 2 MiB-aligned middle; that address. On the
/// wire `shared`: the middle 2 MiB is MAP_SHARED|MAP_ANONYMOUS (shmem, its file offset 0 at a
/// 2 MiB boundary, so a shmem THP can be PMD-mapped there).
struct MapTHP: ScenarioVerb, WireVerb {
    static let name = "map-thp"
    /// The pages of the aligned range a scenario's name is bound to.
    static let pages = 512
    var symbol = "P"
    var sharing = Sharing.private
    init() {}
    init(sharing: Sharing) { self.sharing = sharing }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        if v.side == .scenario {
            try v.name(&symbol, "NAME")
        } else {
            try v.choice(&sharing, "sharing", usage: nil, default: .private)
        }
    }
    var description: String { "mmap 4 MiB, MADV_HUGEPAGE on its 2 MiB-aligned middle -> \(symbol)" }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) { state.bind(actor, symbol, pages: Self.pages) }
    func perform(_ step: StepContext) throws -> StepOutcome {
        try step.holdKhugepaged()
        let outcome = try step.bind(symbol, MapTHP(sharing: .private))
        step.content.map(step.actor, symbol, shared: false, file: false)
        return outcome
    }
    func execute(_ worker: WorkerState) throws -> String {
        let huge = 2 << 20
        // Between PROT_NONE guard pages, as `map`: without them 6.1 placed the 4 MiB right
        // against an earlier anonymous mapping and expanded that VMA (mm/mmap.c mmap_region(),
        // "Check next/prev" -> vma_expand()), so the new range came with its neighbour's
        // anon_vma; 6.12 puts a 2 MiB-multiple anonymous mmap on a THP boundary with gaps around
        // it (efa7df3e3bb5, v6.7; d4148aeab412, v6.12), and showed none.
        let base = try worker.reserve(pages: 2 * huge / worker.pageSize, accounted: true)
        guard Glibc.mprotect(base, 2 * huge, PROT_READ | PROT_WRITE) == 0 else { throw WorkerFailure.system("mprotect") }
        // 6.1 does not align anonymous mmaps to 2 MiB: use the aligned 2 MiB inside the 4 MiB.
        let start = (UInt(bitPattern: base) + UInt(huge) - 1) & ~UInt(huge - 1)
        var aligned = try worker.raw(Address(UInt64(start)))
        if sharing == .shared {
            // shmem: a PMD can map its THP only where the address and the file offset agree
            // modulo 2 MiB (transhuge_vma_suitable()); a shared anonymous mapping starts at offset 0.
            guard let shared = mmap(aligned, huge, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                  shared != MAP_FAILED else { throw WorkerFailure.system("mmap(MAP_SHARED)") }
            aligned = shared
        }
        guard Glibc.madvise(aligned, huge, MADV_HUGEPAGE) == 0 else { throw WorkerFailure.system("madvise(MADV_HUGEPAGE)") }
        return WorkerState.hex(aligned)
    }
}

/// The page kind of this run (`Scenario.kind`) at a fresh mapping, made and verified as
/// `PageKind.recipe` says; binds `symbol` to the folio's first page.
struct MapKind: ScenarioVerb {
    static let name = "map-kind"
    static var usageNote: String { "(in a scenario with kinds:)" }
    var symbol = "P"
    var kind = PageKind(.small)
    init() {}
    init(symbol: String, kind: PageKind) { self.symbol = symbol; self.kind = kind }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.name(&symbol, "NAME") }
    static func parse(_ parser: inout ArgumentParser) throws(GrammarError) -> MapKind {
        var verb = try read(&parser)
        guard let kind = parser.kind else { throw GrammarError(message: "map-kind makes the page kind of each run: the scenario needs a 'kinds:' list") }
        verb.kind = kind
        return verb
    }
    var description: String { "make a \(kind) page: \(kind.recipe) -> \(symbol)" }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) { state.bind(actor, symbol, pages: kind.pages) }
    func perform(_ step: StepContext) throws -> StepOutcome { try step.makeKind(kind, symbol: symbol) }
}

/// `pages` pages of /dev/pteinspect (VM_PFNMAP, remap_pfn_range; the device stays open).
struct MapFixture: ScenarioVerb, WireVerb {
    static let name = "map-pfn"
    var symbol = "P"
    var pages = 1
    var sharing = Sharing.private
    init() {}
    init(pages: Int, sharing: Sharing) { self.pages = pages; self.sharing = sharing }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        if v.side == .scenario { try v.name(&symbol, "NAME") }
        try v.count(&pages, "PAGES")
        try v.choice(&sharing, "sharing")
    }
    var description: String { "mmap \(plural(pages)) of /dev/pteinspect \(sharing.flagName) (remap_pfn_range) -> \(symbol)" }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) { state.bind(actor, symbol, pages: pages) }
    func perform(_ step: StepContext) throws -> StepOutcome {
        // Module-owned RAM: what a private COW copy of it holds before a write is its, not a tag.
        let outcome = try step.bind(symbol, MapFixture(pages: pages, sharing: sharing))
        step.content.map(step.actor, symbol, shared: sharing == .shared, file: true)
        return outcome
    }
    func execute(_ worker: WorkerState) throws -> String {
        let fixture = try worker.openFixture()
        let target = try worker.reserve(pages: pages)
        guard let mapped = mmap(target, worker.length(pages), PROT_READ | PROT_WRITE, sharing.flag | MAP_FIXED, fixture, 0),
              mapped != MAP_FAILED else { throw WorkerFailure.system("mmap(/dev/pteinspect)") }
        return WorkerState.hex(mapped)
    }
}

/// mremap(MREMAP_MAYMOVE|MREMAP_FIXED) of `pages` pages into a fresh range between guard pages;
/// the new address. In a scenario the whole mapping `NAME` moves and the name follows it.
struct Mremap<At: Place>: Verb {
    static var name: String { "mremap" }
    var at = At.placeholder
    var pages = 1
    init() {}
    init(at: At, pages: Int) { self.at = at; self.pages = pages }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at, "NAME")
        try v.pages(&pages, from: at)
    }
}

extension Mremap: ScenarioVerb where At == Loc {
    func validate(_ text: String) throws(GrammarError) {
        guard at.page == 0 else { throw GrammarError(message: "'\(at)' is not a name (letters, digits, '_' and '-', starting with a letter)") }
    }
    var description: String { "mremap \(at.symbol) (\(plural(pages)), MREMAP_MAYMOVE|MREMAP_FIXED) to a fresh range" }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError) {
        try state.needs(at, of: actor)
        state.bind(actor, at.symbol, pages: pages)   // the name follows the PAGES pages moved
    }
    func perform(_ step: StepContext) throws -> StepOutcome { try step.bind(at.symbol, Mremap<Address>(at: try step.address(at), pages: pages)) }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .mremap }
}

extension Mremap: WireVerb where At == Address {
    func execute(_ worker: WorkerState) throws -> String {
        let old = try worker.raw(at)
        let target = try worker.reserve(pages: pages)
        guard let moved = pti_mremap_fixed(old, worker.length(pages), target), moved != MAP_FAILED else { throw WorkerFailure.system("mremap") }
        return WorkerState.hex(moved)
    }
}
