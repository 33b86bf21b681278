/// The verbs: every operation a scenario step or a worker command can name, each one type that
/// says everything about it — its name, its arguments (`visit`, from which parsing, writing,
/// usage and the pages it touches are derived), what it does in the worker (`WireVerb.execute`),
/// what the runner does and records for a scenario step (`ScenarioVerb.perform`), its words in a
/// report (`description`) and the kernel path its data check cites (`dataPath`). A verb that acts
/// on a page is generic over where (`Place`): `Mprotect<Loc>` in a scenario, `Mprotect<Address>`
/// on the wire, one declaration. Adding an operation is one such type and its line in `Verbs`.
protocol Verb {
    static var name: String { get }
    /// Placeholder values: a parser fills the fields in.
    init()
    mutating func visit<V: ArgumentVisitor>(_ visitor: inout V) throws(GrammarError)
}

extension Verb {
    static func usage(_ side: VerbSide) -> String {
        var instance = Self()
        var usage = ArgumentUsage(side: side)
        try? instance.visit(&usage)
        return ([name] + usage.parts).joined(separator: " ")
    }

    /// The words after the verb's name.
    func words(_ side: VerbSide) -> [String] {
        var copy = self
        var writer = ArgumentWriter(side: side)
        try? copy.visit(&writer)
        return writer.line
    }

    func line(_ side: VerbSide) -> String { ([Self.name] + words(side)).joined(separator: " ") }

    /// Fields filled in from the parser's words, every word used.
    static func read(_ parser: inout ArgumentParser) throws(GrammarError) -> Self {
        var instance = Self()
        try instance.visit(&parser)
        try parser.finish()
        return instance
    }
}

/// A verb whose only argument is a page (read, vmsplice-drop).
protocol PageVerb: Verb {
    associatedtype At: Place
    var at: At { get set }
    init(at: At)
}

extension PageVerb {
    init() { self.init(at: At.placeholder) }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.page(&at) }
}

/// A verb whose arguments are a page and a count of pages from it, nothing else (unpin, munlock,
/// vmsplice, UFFDIO_ZEROPAGE, UFFDIO_CONTINUE): the fields, their defaults and their visit, once.
protocol PageRangeVerb: Verb {
    associatedtype At: Place
    var at: At { get set }
    var pages: Int { get set }
    init(at: At, pages: Int)
}

extension PageRangeVerb {
    init() { self.init(at: At.placeholder, pages: 1) }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.page(&at)
        try v.pages(&pages, from: at)
    }
}

/// A verb of the worker protocol (WorkerProtocol.swift): what the worker does for it, and the
/// value of its "ok" reply.
protocol WireVerb: Verb {
    func execute(_ worker: WorkerState) throws -> String
}

/// A verb a scenario step can name.
protocol ScenarioVerb: Verb {
    /// Performed by the CLI itself (swapoff, settings), written `system: VERB`.
    static var isSystem: Bool { get }
    /// Said after the usage line ("(in a scenario with kinds:)").
    static var usageNote: String { get }
    /// Parses a step's words (default: `read`); a verb that takes something from the scenario
    /// rather than from its words (map-kind: the run's page kind) says so here.
    static func parse(_ parser: inout ArgumentParser) throws(GrammarError) -> Self
    /// A step's words make sense only in some combinations (a write's value is not 0).
    func validate(_ text: String) throws(GrammarError)
    /// What the step needs mapped and what it binds, against the scenario so far: by default each
    /// page its arguments name must be mapped by an earlier step of that actor.
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError)
    /// The report's words for it ("madvise P+1 1 pages MADV_PAGEOUT").
    var description: String { get }
    /// Performs the step and records what it changes (ContentModel, the actors, the bindings).
    func perform(_ step: StepContext) throws -> StepOutcome
    /// The kernel path its data check cites, given the pages before it.
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath
    /// Fields the step itself polls: a backend that cannot see one cannot run it.
    var observedFields: [PageField] { get }
    /// Seconds this step may take on top of the step bound (a wait with a bound of its own).
    var ownBound: Double { get }
    /// Its row in the bit x operation matrix (EntryMatrix): the verb's name, with the argument
    /// that makes it another operation on the entries (madvise's advice, mprotect's protection).
    var operation: String { get }
}

extension ScenarioVerb {
    static var isSystem: Bool { false }
    static var usageNote: String { "" }
    static func parse(_ parser: inout ArgumentParser) throws(GrammarError) -> Self { try read(&parser) }
    func validate(_ text: String) throws(GrammarError) {}
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError) { try checkPages(&state, actor: actor) }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .other }
    var observedFields: [PageField] { [] }
    var ownBound: Double { 0 }
    var operation: String { Self.name }

    /// A step's action from the parser's words, checked (`validate`).
    static func action(_ parser: inout ArgumentParser) throws(GrammarError) -> Action {
        let parsed = try parse(&parser)
        try parsed.validate(parser.text)
        return Action(parsed)
    }

    /// The pages the arguments name, each of which must be mapped now.
    func checkPages(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError) {
        for page in pages { try state.needs(page.loc, of: page.actor ?? actor) }
    }

    /// The pages the arguments name: the stepping actor's (`actor` nil) and other actors'.
    var pages: [(actor: String?, loc: Loc)] {
        var copy = self
        var visitor = ArgumentPages()
        try? copy.visit(&visitor)
        return visitor.pages
    }
}

/// Every verb, once. The scenario grammar, the worker protocol and their usage messages are
/// derived from these lists.
enum Verbs {
    /// Actors' actions and system actions, in the order usage lists them.
    static let scenario: [any ScenarioVerb.Type] = [
        MapAnon.self, MapFile.self, MapTHP.self, MapKind.self, MapFixture.self,
        Write<Loc>.self, Read<Loc>.self, Fork.self, Mremap<Loc>.self, Mprotect<Loc>.self, Madvise<Loc>.self, Mlock<Loc>.self,
        Munlock<Loc>.self, Drain.self,
        UffdOpen.self, UffdRegister<Loc>.self, UffdCopy<Loc>.self, UffdZeropage<Loc>.self, UffdWriteProtect<Loc>.self, UffdReadWriteProtect<Loc>.self,
        UffdContinue<Loc>.self, UffdMove<Loc>.self,
        MemWrite.self, MemRead.self, Pin<Loc>.self, Unpin<Loc>.self, Vmsplice<Loc>.self, VmspliceDrop<Loc>.self, ClearRefs.self, Exit.self,
        Swapoff.self, Swapon.self, Setting.self, WaitForKsm.self,
    ]

    /// The worker protocol's commands.
    static let wire: [any WireVerb.Type] = [
        Ping.self, MapAnon.self, MapFile.self, MapTHP.self, Write<Address>.self, Read<Address>.self, Fill.self,
        Mremap<Address>.self, Mprotect<Address>.self, MapFixture.self, Pin<Address>.self, Unpin<Address>.self, Vmsplice<Address>.self, VmspliceDrop<Address>.self,
        Madvise<Address>.self, Mlock<Address>.self, Munlock<Address>.self, Drain.self, UffdOpen.self, UffdRegister<Address>.self, UffdCopy<Address>.self,
        UffdZeropage<Address>.self, UffdContinue<Address>.self, UffdWriteProtect<Address>.self, UffdReadWriteProtect<Address>.self, UffdMove<Address>.self,
        RandomChurn.self, ProcMemWrite.self, ProcMemRead.self, ClearRefs.self, WireFork.self, Release.self, Exit.self,
    ]

    static let scenarioByName: [String: any ScenarioVerb.Type] = Dictionary(uniqueKeysWithValues: scenario.map { ($0.name, $0) })
    static let wireByName: [String: any WireVerb.Type] = Dictionary(uniqueKeysWithValues: wire.map { ($0.name, $0) })
}

// MARK: - A step's action

/// What a step does: one scenario verb with its arguments. Actor actions run in that actor's
/// worker process; system actions (swapoff, swapon, sysfs settings, waiting for ksmd) in the CLI.
public struct Action: CustomStringConvertible {
    let verb: any ScenarioVerb

    init(_ verb: any ScenarioVerb) { self.verb = verb }

    public var isSystem: Bool { type(of: verb).isSystem }
    public var name: String { type(of: verb).name }
    public var description: String { verb.description }
    /// As a scenario file writes it ("madvise P+1 1 pageout").
    public var text: String { verb.line(.scenario) }
    public var observedFields: [PageField] { verb.observedFields }
    /// The bit x operation matrix's row (EntryMatrix).
    public var operation: String { verb.operation }
    /// The pages its arguments name, the stepping actor's given as `actor`.
    public func touchedPages(actor: String) -> [PageRef] { verb.pages.map { PageRef($0.actor ?? actor, $0.loc) } }

    // The actions tests and built-in code construct by hand.
    public static func map(_ symbol: String, pages: Int, _ protection: Protection = .readWrite, shared: Bool = false) -> Action {
        Action(MapAnon(symbol: symbol, pages: pages, protection: protection, sharing: shared ? .shared : .private))
    }
    public static func write(_ loc: Loc, value: UInt32? = nil) -> Action { Action(Write(at: loc, value: value)) }
    public static func read(_ loc: Loc) -> Action { Action(Read(at: loc)) }
    public static func fork(child: String) -> Action { Action(Fork(child: child)) }
    public static func madvise(_ loc: Loc, pages: Int, _ advice: Advice) -> Action { Action(Madvise(at: loc, pages: pages, advice: advice)) }
    public static var drain: Action { Action(Drain()) }
    public static var exit: Action { Action(Exit()) }
    public static func uffdOpen(move: Bool) -> Action { Action(UffdOpen(move: move)) }
    public static func uffdRegister(_ loc: Loc, pages: Int, modes: UffdModes) -> Action { Action(UffdRegister(at: loc, pages: pages, modes: modes)) }
    public static func mapKind(_ symbol: String, _ kind: PageKind) -> Action { Action(MapKind(symbol: symbol, kind: kind)) }
}
