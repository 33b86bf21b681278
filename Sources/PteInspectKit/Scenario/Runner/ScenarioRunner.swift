import CPteInspect
import Foundation
import Glibc

/// Runs scenarios: spawns the actors (workers), performs each step, observes the watched pages,
/// evaluates the expectations. The CLI never forks: actors fork themselves.
public final class ScenarioRunner {
    public let observer: PageObserver
    public let environment: ScenarioEnvironment
    private let executable: String
    let pageSize = SystemPage.size
    /// Called after each step (streaming output, `--step` pauses).
    public var afterStep: ((Scenario, StepResult) -> Void)?
    /// How long one step may take (a helper's reply, the CLI's own calls) before it is a HANG.
    public var stepTimeout: Double = Bounds.reply
    /// Read after every step: a splat logged meanwhile makes the step a CRASH. nil: /dev/kmsg
    /// is not readable here, and the runner cannot tell (`kernelLogNote` says so).
    public var kernelLog: KernelLog?
    /// Bounds the CLI's own calls (observations, swapoff); nil: unbounded (tests).
    public var watchdog: Watchdog?
    /// Steps that hung so far in this run.
    public private(set) var hangs = 0

    public init(observer: PageObserver, environment: ScenarioEnvironment,
                executable: String = WorkerProcess.currentExecutable()) {
        self.observer = observer
        self.environment = environment
        self.executable = executable
    }

    /// Why `scenario` cannot run here, or nil.
    public func skipReason(_ scenario: Scenario) -> String? {
        for requirement in scenario.requirements {
            if requirement == .module, observer.backend != .module {
                return "needs the module backend (this run uses \(observer.backend))"
            }
            if let reason = environment.unmet(requirement) { return reason }
        }
        if let reason = scenario.kind?.unmet(environment) { return reason }
        // A step that waits on what the backend reports (ksmd's merge, seen as PageKsm) cannot
        // end where the backend cannot see that field: a SKIP up front, not a timeout.
        for (offset, step) in scenario.steps.enumerated() {
            if let field = step.action.observedFields.first(where: { !observer.canSee($0) }) {
                var reason = "step \(offset + 1) (\(step.action)) waits on \(field), which the \(observer.backend) backend cannot see"
                if let pagemap = observer as? PagemapObserver, !pagemap.quirks.notes.isEmpty {
                    reason += " here: " + pagemap.quirks.notes.joined(separator: "; ")
                }
                return reason
            }
        }
        return nil
    }

    /// Runs one scenario. A step that hangs (a helper that does not answer within `stepTimeout`)
    /// or during which the kernel logs a splat ends the scenario there, as HANG or CRASH, with
    /// the kernel's words; the helpers are killed and the next scenario can run.
    public func run(_ scenario: Scenario) -> ScenarioResult {
        if let reason = skipReason(scenario) {
            return ScenarioResult(scenario: scenario, backend: observer.backend, steps: [], skipReason: reason)
        }
        let log = ScenarioLog(kernelLog)
        let state = RunState(content: ContentModel(scenario))
        var steps: [StepResult] = []
        // Every step's result is reported as it comes; a hang counts toward the run's.
        func report(_ result: StepResult) {
            if result.fault == .hang { hangs += 1 }
            steps.append(result)
            afterStep?(scenario, result)
        }
        var ending = Ending.completed
        if let failure = startActors(scenario, state, log) {
            report(failure)
            ending = .aborted
        } else {
            let walk = StepWalk(scenario: scenario, state: state, log: log)
            steps: for (offset, step) in scenario.steps.enumerated() {
                switch execute(step, number: offset + 1, walk) {
                case let .next(result): report(result)
                case let .last(result): report(result); break steps
                case let .abort(result): report(result); ending = .aborted; break steps
                case let .skip(reason): ending = .skipped(reason); break steps
                }
            }
        }
        // The actors exit (children first) and the machine's settings go back: the kernel tears
        // their memory down, which a broken kernel can trip over too.
        finish(state)
        switch ending {
        case let .skipped(reason):
            return ScenarioResult(scenario: scenario, backend: observer.backend, steps: steps, skipReason: reason)
        case .aborted:
            break
        case .completed:
            if let teardown = teardownFault(steps, state, log) { report(teardown) }
        }
        return ScenarioResult(scenario: scenario, backend: observer.backend, steps: steps)
    }

    /// How a scenario ended: its steps ran (up to one that failed), it was cut short where no
    /// teardown check makes sense (the actors could not start, a kind's making crashed), or the
    /// kernel would not make its page kind (a SKIP).
    private enum Ending { case completed, aborted, skipped(String) }

    /// What one step left for the walk: go on, stop after it, stop without the teardown check, or
    /// SKIP the scenario.
    enum StepEnd { case next(StepResult), last(StepResult), abort(StepResult), skip(String) }

    /// The actors spawned as fresh workers; the fault that stopped it, or nil.
    private func startActors(_ scenario: Scenario, _ state: RunState, _ log: ScenarioLog) -> StepResult? {
        do {
            state.fifoDirectory = try makeTemporaryDirectory()
            for name in scenario.actors {
                // posix_spawn() returns once the child has exec'd: a call of the CLI's own.
                let worker = try guarded("starting the actor \(name)", within: Bounds.workerStart + stepTimeout) {
                    try WorkerProcess(executable: executable, replyTimeout: stepTimeout, stopWaiting: log.splatLogged)
                }
                state.actors.append((name, worker))
                state.symbols[name] = [:]
            }
            return nil
        } catch {
            var hang: Hang?
            if case let failure as WorkerProcess.Failure = error {
                switch failure {
                case let .timedOut(_, _, seconds, place), let .interrupted(_, _, seconds, place): hang = Hang(seconds: seconds, place: place)
                default: break
                }
            }
            state.kill()
            return Self.faulted(number: 0, step: Step("system", .drain), outcome: .failed(errno: nil, message: "\(error)"),
                                pages: [], hang: hang, splat: log.splatReport(), recent: log.records,
                                leftBehind: state.leftBehind, otherwise: "could not start the actors: \(error)")
        }
    }

    /// After the last step: a splat logged while the actors exited, or an actor that would not
    /// exit, is a fault of its own (when no step already ended in one).
    private func teardownFault(_ steps: [StepResult], _ state: RunState, _ log: ScenarioLog) -> StepResult? {
        let leftBehind = state.leftBehind
        let splat = log.splatReport()
        guard splat != nil || !leftBehind.isEmpty, !steps.contains(where: { $0.fault != nil }) else { return nil }
        var result = StepResult(number: steps.count + 1, step: Step("system", .exit), outcome: .succeeded(""), pages: [],
                                changed: [:], expectations: [],
                                error: splat != nil ? "the kernel reported a problem while the actors exited at the end of the scenario"
                                    : "an actor did not exit at the end of the scenario")
        result.fault = splat != nil ? .crash : .hang
        result.kernelReport = (splat ?? []) + leftBehind
        result.leftBehind = leftBehind
        return result
    }

    /// The actors' exit and the machine's settings put back (swapon, sysfs writes): the CLI's own
    /// calls, bounded like a step (and the actors' bounded exits on top).
    private func finish(_ state: RunState) {
        let bound = stepTimeout + Double(state.actors.count) * 2 * Bounds.exit
        guarded("putting the machine back after the scenario (the actors' exit, swapon, settings)", within: bound) { state.finish() }
    }

    /// The splat's first line without its timestamp.
    static func message(_ splat: [String]) -> String {
        splat.first.map { $0.drop { $0 != "]" }.dropFirst().trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// `body` under the watchdog (when there is one), bounded by `within` (default `stepTimeout`).
    func guarded<T>(_ what: @autoclosure () -> String, within bound: Double? = nil, _ body: () throws -> T) rethrows -> T {
        guard let watchdog else { return try body() }
        return try watchdog.guarded(what(), within: bound ?? stepTimeout, body)
    }

    // MARK: - Performing steps

    /// Performs one step: its verb's `perform` (Verbs/*.swift), an actor's in that actor's worker,
    /// a system action under the CLI's own bound.
    func perform(_ step: Step, number: Int, _ state: RunState) -> StepOutcome {
        let context = StepContext(step: step, number: number, state: state, runner: self)
        do {
            if step.action.isSystem {
                // A wait with a bound of its own (ksmd's merge) gets that bound on top.
                return try guarded("step (\(step.description))", within: stepTimeout + step.action.verb.ownBound) {
                    try step.action.verb.perform(context)
                }
            }
            guard state.worker(step.actor) != nil else {
                return .failed(errno: nil, message: "no actor '\(step.actor)' (not spawned, or exited)")
            }
            return try step.action.verb.perform(context)
        } catch let failure as WorkerProcess.Failure {
            if case let .refused(_, reply) = failure {
                return .failed(errno: reply.errno, message: reply.explained)
            }
            if case let .timedOut(_, _, seconds, place) = failure { state.hang = (seconds, place) }
            if case let .interrupted(_, _, seconds, place) = failure { state.hang = (seconds, place) }
            return .failed(errno: nil, message: "\(failure)")
        } catch {
            return .failed(errno: nil, message: "\(error)")
        }
    }

    /// What to write back to restore a setting: the value, or of a choice file
    /// ("always inherit madvise [never]", the THP sysfs files) the bracketed choice, which is all
    /// the file accepts.
    static func currentChoice(_ text: String) -> String {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let open = value.firstIndex(of: "["), let close = value[open...].firstIndex(of: "]") else { return value }
        return String(value[value.index(after: open)..<close])
    }

    static func write(_ value: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError("open(\(path))") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw SystemCallError("write(\(path))") }
    }

    private func makeTemporaryDirectory() throws -> String {
        // mkdtemp() replaces the template's last six characters, which must be X.
        var template = Array(("/tmp/pteinspect-scenario-" + String(repeating: "X", count: 6)).utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemCallError("mkdtemp") }
        return String(cString: made)
    }
}
