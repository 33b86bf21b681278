import Glibc

// The verbs about processes: fork, exit, and the worker's own ping, release and churn.

/// fork(); in a scenario the child becomes the actor `child`, with the same symbols (a worker of
/// its own: `WireFork` with its FIFOs).
struct Fork: ScenarioVerb {
    static let name = "fork"
    var child = "child"
    init() {}
    init(child: String) { self.child = child }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.name(&child, "CHILD") }
    var description: String { "fork -> \(child)" }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) throws(GrammarError) {
        guard !ScenarioFileReader.reservedActorNames.contains(child) else { throw GrammarError(message: "'\(child)' cannot name an actor") }
        guard !state.actors.contains(child) else { throw GrammarError(message: "actor '\(child)' already exists") }
        state.actors.insert(child)
        state.bound[child] = []   // a name reused after an earlier child's exit starts afresh
        for symbol in state.bound[actor] ?? [] { state.bind(child, symbol, pages: state.length[PageRef(actor, symbol)] ?? 0) }
    }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let forked = try step.worker().forkWorker(fifoDirectory: step.state.fifoDirectory ?? "/tmp")
        step.state.actors.append((child, forked))
        step.state.symbols[child] = step.state.symbols[step.actor] ?? [:]
        step.content.fork(step.actor, child: child)
        return .succeeded("pid \(forked.pid)")
    }
    func dataPath(actor: String, before: (PageRef) -> PageObservation?) -> DataPath { .fork }
}

/// fork(); the child holds its copy idle until released or until the worker exits (no FIFOs),
/// or becomes a worker itself, reading commands from the FIFO `input` and answering on `output`
/// (it ends on `exit` or EOF). The child's pid.
struct WireFork: WireVerb {
    static let name = "fork"
    var input: String?
    var output: String?
    init() {}
    init(input: String?, output: String?) { self.input = input; self.output = output }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.optionalPair(&input, &output, "IN-FIFO OUT-FIFO") }
    func execute(_ worker: WorkerState) throws -> String {
        if let input, let output { return try worker.forkChild(fifos: (input, output)) }
        return try worker.forkChild(fifos: nil)
    }
}

/// The actor exits (its idle children released first); EOF on a worker's input is the same.
struct Exit: ScenarioVerb, WireVerb {
    static let name = "exit"
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {}
    var description: String { "exit" }
    func check(_ state: inout ScenarioFileReader.Validation, actor: String) {
        state.actors.remove(actor)
        state.bound[actor] = nil
    }
    func perform(_ step: StepContext) throws -> StepOutcome {
        let worker = try step.worker()
        step.content.exit(step.actor)
        worker.stop()
        if let note = worker.leftBehind { step.state.leftBehind.append("\(step.actor): \(note)") }
        step.state.actors.removeAll { $0.name == step.actor }
        return .succeeded("")
    }
    /// The worker's loop answers and exits before it would get here (WorkerLoop.run).
    func execute(_ worker: WorkerState) throws -> String { "" }
}

/// The worker is loaded, pinned and idle in its loop.
struct Ping: WireVerb {
    static let name = "ping"
    init() {}
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {}
    func execute(_ worker: WorkerState) throws -> String { "" }
}

/// Lets an idle forked child exit, and reaps it.
struct Release: WireVerb {
    static let name = "release"
    var pid: Int32 = 1
    init() {}
    init(pid: Int32) { self.pid = pid }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) { try v.number(&pid, "CHILD-PID", 1...Int32.max) }
    func execute(_ worker: WorkerState) throws -> String { try worker.release(pid); return "" }
}

/// Change the worker's own address space at random for `seconds` (the stress test's target,
/// `Churn`). Replies with the operation count.
struct RandomChurn: WireVerb {
    static let name = "churn"
    var seconds = 1.0
    var seed: UInt64 = 0
    init() {}
    init(seconds: Double, seed: UInt64) { self.seconds = seconds; self.seed = seed }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.decimal(&seconds, "SECONDS", 0.000_001...3600)
        try v.number(&seed, "SEED", 0...UInt64.max)
    }
    func execute(_ worker: WorkerState) throws -> String { "\(Churn.run(seconds: seconds, seed: seed))" }
}

/// `echo N > /proc/self/clear_refs` in the actor (fs/proc/task_mmu.c clear_refs_write()). With
/// `soft-dirty` (4, CLEAR_REFS_SOFT_DIRTY) every present PTE of its address space loses its
/// soft-dirty bit and is write-protected, so the next write faults and sets the bit again
/// (clear_soft_dirty(); Documentation/admin-guide/mm/soft-dirty.rst): the tracking cycle CRIU and
/// live migration rely on. `all`, `anon`, `mapped` (1-3) clear the accessed bits instead.
struct ClearRefs: ScenarioVerb, WireVerb {
    /// enum clear_refs_types, by the value the file takes.
    enum Kind: String, CaseIterable {
        case softDirty = "soft-dirty", all, anon, mapped

        var value: String {
            switch self {
            case .all: return "1"
            case .anon: return "2"
            case .mapped: return "3"
            case .softDirty: return "4"
            }
        }
    }

    static let name = "clear-refs"
    var kind = Kind.softDirty
    init() {}
    init(kind: Kind) { self.kind = kind }
    mutating func visit<V: ArgumentVisitor>(_ v: inout V) throws(GrammarError) {
        try v.choice(&kind, "clear_refs kind", usage: nil, default: .softDirty)
    }
    var description: String { "echo \(kind.value) > /proc/self/clear_refs (\(kind == .softDirty ? "clear the soft-dirty bits" : "clear the accessed bits"))" }
    func perform(_ step: StepContext) throws -> StepOutcome { try step.send(self); return .succeeded("") }
    func execute(_ worker: WorkerState) throws -> String {
        let path = "/proc/self/clear_refs"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WorkerFailure.system("open(\(path))") }
        defer { close(fd) }
        let bytes = Array(kind.value.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw WorkerFailure.system("write(\(path))") }
        return ""
    }
}
