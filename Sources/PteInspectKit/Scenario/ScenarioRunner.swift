import CPteInspect
import Foundation
import Glibc

/// Runs scenarios: spawns the actors (workers), performs each step, observes the watched pages,
/// evaluates the expectations. The CLI never forks: actors fork themselves.
public final class ScenarioRunner {
    public let observer: PageObserver
    public let environment: ScenarioEnvironment
    private let executable: String
    private let pageSize = SystemPage.size
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
        _ = kernelLog?.read()   // what was logged before this scenario is not its doing
        var scenarioLog: [KernelLog.Record] = []
        func logged() -> [KernelLog.Record] {
            let records = kernelLog?.read() ?? []
            scenarioLog += records
            return records
        }
        // The splat in this scenario's log, if any, once the kernel has finished printing it
        // (its stack follows the first line within milliseconds; wait until 300 ms are quiet).
        func splatReport() -> [String]? {
            _ = logged()
            guard KernelSplat.report(in: scenarioLog) != nil else { return nil }
            for _ in 0..<10 {
                usleep(300_000)
                if logged().isEmpty { break }
            }
            return KernelSplat.report(in: scenarioLog)
        }
        // While a reply is awaited: a splat logged meanwhile means it is not coming (a BUG in the
        // helper's fault kills the task, which then never leaves the kernel).
        let splatLogged: (() -> Bool)? = kernelLog == nil ? nil : {
            _ = logged()
            return KernelSplat.report(in: scenarioLog) != nil
        }
        let state = RunState(content: ContentModel(scenario))
        var steps: [StepResult] = []
        do {
            state.fifoDirectory = try makeTemporaryDirectory()
            for name in scenario.actors {
                // posix_spawn() returns once the child has exec'd: a call of the CLI's own.
                let worker = try guarded("starting the actor \(name)", within: Bounds.workerStart + stepTimeout) {
                    try WorkerProcess(executable: executable, replyTimeout: stepTimeout, stopWaiting: splatLogged)
                }
                state.actors.append((name, worker))
                state.symbols[name] = [:]
            }
        } catch {
            var hang: Hang?
            if case let failure as WorkerProcess.Failure = error {
                switch failure {
                case let .timedOut(_, _, seconds, place), let .interrupted(_, _, seconds, place): hang = Hang(seconds: seconds, place: place)
                default: break
                }
            }
            state.kill()
            finish(state)
            let result = faulted(number: 0, step: Step("system", .drain), outcome: .failed(errno: nil, message: "\(error)"),
                                 pages: [], hang: hang, splat: splatReport(), recent: scenarioLog,
                                 leftBehind: state.leftBehind, otherwise: "could not start the actors: \(error)")
            return ScenarioResult(scenario: scenario, backend: observer.backend, steps: [result])
        }
        var history: [String: [PageRef: PageObservation]] = [:]
        var previous: [PageRef: PageObservation] = [:]
        for (offset, step) in scenario.steps.enumerated() {
            let number = offset + 1
            let outcome = perform(step, number: number, state)
            if case .succeeded = outcome, case let .mapKind(_, kind) = step.action, state.hang == nil,
               let reason = state.kindNotMade ?? (kind.swapped ? state.kindNotSwapped : nil) {
                // The kernel would not make the kind here: its semantics cannot be shown (cow.c's
                // SKIP) — unless it complained while trying (a BUG splitting or paging out): CRASH.
                if let splat = splatReport() {
                    state.kill()
                    let result = faulted(number: number, step: step, outcome: outcome, pages: [], hang: nil, splat: splat,
                                         recent: scenarioLog, leftBehind: state.leftBehind, otherwise: nil)
                    steps.append(result)
                    afterStep?(scenario, result)
                    finish(state)
                    return ScenarioResult(scenario: scenario, backend: observer.backend, steps: steps)
                }
                state.kill()
                finish(state)
                return ScenarioResult(scenario: scenario, backend: observer.backend, steps: steps,
                                      skipReason: "step \(number) (\(step.description)): \(reason)")
            }
            if let hang = state.hang {
                // The helper is stuck: kill this scenario's helpers, say where it was and what the
                // kernel logged; a splat logged meanwhile (a BUG with a lock held) makes it a CRASH.
                state.kill()
                let result = faulted(number: number, step: step, outcome: outcome, pages: [], hang: hang, splat: splatReport(),
                                     recent: scenarioLog, leftBehind: state.leftBehind, otherwise: nil)
                steps.append(result)
                afterStep?(scenario, result)
                break
            }
            var error: String?
            if case let .failed(_, message) = outcome,
               !step.expectations.contains(where: { $0.assertions.contains { if case .outcome(.fails) = $0 { return true } else { return false } } }) {
                error = "the step failed: \(message)"
            }
            var pages: [(ref: PageRef, location: String, observation: PageObservation)] = []
            var locations: [PageRef: String] = [:]
            var current: [PageRef: PageObservation] = [:]
            var observationFailed = false
            if error == nil {
                do {
                    for ref in scenario.watch {
                        guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else { continue }
                        let observation = try guarded("step \(number) (\(step.description)): observing \(ref)") {
                            try observer.observe(pid: worker.pid, address: address) { pid, address in
                                state.name(pid: pid, address: address)
                            }
                        }
                        let location = "\(ref.actor)@0x" + String(address, radix: 16)
                        pages.append((ref, location, observation))
                        locations[ref] = location
                        current[ref] = observation
                    }
                } catch let failure {
                    error = "observing the pages failed: \(failure)"
                    observationFailed = true
                }
            }
            if let splat = splatReport() {
                let result = faulted(number: number, step: step, outcome: outcome, pages: pages, hang: nil, splat: splat,
                                     recent: scenarioLog, leftBehind: [], otherwise: nil)
                steps.append(result)
                afterStep?(scenario, result)
                break
            }
            if observationFailed {
                steps.append(StepResult(number: number, step: step, outcome: outcome, pages: pages, changed: [:],
                                        expectations: [], error: error))
                break
            }
            var changed: [PageRef: Set<PageField>] = [:]
            for (ref, observation) in current {
                guard let before = previous[ref] else { continue }
                let fields = Set(observation.values.keys.filter { field in
                    guard let old = before[field], let new = observation[field] else { return false }
                    return !new.matches(old)
                })
                if !fields.isEmpty { changed[ref] = fields }
            }
            let context = EvaluationContext(current: current, history: history, locations: locations, outcome: outcome,
                                            canSee: observer.canSee, backend: observer.backend, kernel: environment.kernel,
                                            unmet: environment.unmet)
            var results = error == nil ? step.expectations.map(context.evaluate) : []
            if error == nil, let check = dataCheck(pages, state.content, path: DataPath.of(step) { previous[$0] }) { results.append(check) }
            let result = StepResult(number: number, step: step, outcome: outcome, pages: pages, changed: changed,
                                    expectations: results, error: error)
            steps.append(result)
            afterStep?(scenario, result)
            if error != nil { break }
            if let label = step.label { history[label] = current }
            previous.merge(current) { $1 }
        }
        // The actors exit (children first) and the machine's settings go back: the kernel tears
        // their memory down, which a broken kernel can trip over too.
        finish(state)
        let leftBehind = state.leftBehind
        let splat = splatReport()
        if splat != nil || !leftBehind.isEmpty, !steps.contains(where: { $0.fault != nil }) {
            var result = StepResult(number: steps.count + 1, step: Step("system", .exit), outcome: .succeeded(""), pages: [],
                                    changed: [:], expectations: [],
                                    error: splat != nil ? "the kernel reported a problem while the actors exited at the end of the scenario"
                                        : "an actor did not exit at the end of the scenario")
            result.fault = splat != nil ? .crash : .hang
            result.kernelReport = (splat ?? []) + leftBehind
            result.leftBehind = leftBehind
            if splat == nil { hangs += 1 }
            steps.append(result)
            afterStep?(scenario, result)
        }
        return ScenarioResult(scenario: scenario, backend: observer.backend, steps: steps)
    }

    /// The data check of one step: every watched page whose first bytes the module read holds
    /// what `ContentModel` says its actor wrote or inherited; nil when no page was checked (the
    /// backend cannot read data, or no page is present with a known content). A wrong page is
    /// named with whose write it holds instead, and what that means (a leak, a lost write).
    /// Its citation is the step's operation (`path`): the kernel code that carries the contents through it.
    private func dataCheck(_ pages: [(ref: PageRef, location: String, observation: PageObservation)], _ model: ContentModel,
                           path: DataPath) -> ExpectationResult? {
        guard observer.canSee(.data) else { return nil }
        var assertions: [Assertion] = []
        var mismatches: [Mismatch] = []
        for (ref, _, observation) in pages {
            // A private page the process wrote must be an anonymous copy: a present page that is
            // not anonymous (a file's, a fixture's) holding the write means it went through to
            // memory the process does not own (the Dirty COW class: a FOLL_FORCE write into the page cache).
            // The zero page is not such memory: a write lost to it (a split that maps an all-zero
            // subpage to it, 6.12 remap_page(RMP_USE_SHARED_ZEROPAGE)) is the value check's "zeros".
            if case let .stored(want)? = model.expected(ref), model.isPrivate(ref), observation[.present] == .bool(true),
               observation[.anon] == .bool(false), observation[.zeroPage] != .bool(true) {
                let assertion = Assertion.field(ref, .data, .value(.hex(UInt64(want))))
                assertions.append(assertion)
                mismatches.append(Mismatch(assertion: assertion.description,
                                           expected: "0x\(String(want, radix: 16)) (\(model.describe(want))) in an anonymous copy",
                                           observed: "a page that is not anonymous (PageAnon 0, not read): the private write went to memory the process does not own"))
                continue
            }
            guard case let .hex(raw)? = observation[.data], let expected = model.expected(ref), let want = expected.value else { continue }
            let got = UInt32(truncatingIfNeeded: raw)
            let assertion = Assertion.field(ref, .data, .value(.hex(UInt64(want))))
            assertions.append(assertion)
            guard got != want else { continue }
            mismatches.append(Mismatch(assertion: assertion.description,
                                       expected: "0x\(String(want, radix: 16)) (\(model.describe(want)))",
                                       observed: "0x\(String(got, radix: 16)) (\(model.describe(got))): \(model.diagnose(ref, got: got, want: want))"))
        }
        guard !assertions.isEmpty else { return nil }
        let expectation = Expectation(ContentModel.checkSummary, kernels: path.kernels, cite: path.citation, assertions)
        return ExpectationResult(expectation: expectation, verdict: mismatches.isEmpty ? .pass : .fail, reason: nil, mismatches: mismatches)
    }

    /// Where a helper was stuck: how long it had been awaited and its /proc state.
    typealias Hang = (seconds: Double, place: String)

    /// The result of a step that ended in a fault. A splat in the kernel log makes it a CRASH
    /// quoting the report (a BUG with a lock held also leaves the helper stuck: that follows);
    /// otherwise a helper that did not answer makes it a HANG, with where the helper was and the
    /// scenario's last 40 log lines. `otherwise`: the error when neither happened (a helper that
    /// could not start at all). What was left behind (a helper that would not die) comes last.
    private func faulted(number: Int, step: Step, outcome: StepOutcome, pages: [(ref: PageRef, location: String, observation: PageObservation)],
                         hang: Hang?, splat: [String]?, recent: [KernelLog.Record], leftBehind: [String],
                         otherwise: String?) -> StepResult {
        let place = hang.map { ["where the helper was: " + $0.place] } ?? []
        var error: String
        var fault: StepFault?
        var report: [String]
        if let splat {
            error = "the kernel reported a problem during this step: \(Self.message(splat))"
            if let hang { error += " (the helper had not answered after \(Bounds.text(hang.seconds.rounded())))" }
            fault = .crash
            report = splat + place
        } else if let hang {
            hangs += 1
            error = otherwise ?? "step \(number) (\(step.description)) did not complete within \(Bounds.text(hang.seconds))"
            fault = .hang
            report = place + (otherwise == nil ? recent.suffix(40).map(\.line) : [])
        } else {
            error = otherwise ?? "step \(number) (\(step.description)) failed"
            report = []
        }
        var result = StepResult(number: number, step: step, outcome: outcome, pages: pages, changed: [:], expectations: [], error: error)
        result.fault = fault
        result.kernelReport = report + leftBehind
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
    private func guarded<T>(_ what: @autoclosure () -> String, within bound: Double? = nil, _ body: () throws -> T) rethrows -> T {
        guard let watchdog else { return try body() }
        return try watchdog.guarded(what(), within: bound ?? stepTimeout, body)
    }

    // MARK: - Performing steps

    private func perform(_ step: Step, number: Int, _ state: RunState) -> StepOutcome {
        do {
            if step.action.isSystem {
                // A wait with a bound of its own (ksmd's merge) gets that bound on top.
                var bound = stepTimeout
                if case let .waitForKsm(_, seconds) = step.action { bound += Double(seconds) }
                return try guarded("step (\(step.description))", within: bound) { try performSystem(step.action, state) }
            }
            guard let worker = state.worker(step.actor) else {
                return .failed(errno: nil, message: "no actor '\(step.actor)' (not spawned, or exited)")
            }
            func at(_ loc: Loc) throws -> UInt64 {
                guard let address = state.address(PageRef(step.actor, loc), pageSize: pageSize) else {
                    throw ScenarioError.unbound("\(step.actor) has no mapping '\(loc.symbol)'")
                }
                return address
            }
            func bind(_ symbol: String, _ command: WorkerCommand) throws -> StepOutcome {
                let address = try worker.sendForAddress(command)
                state.symbols[step.actor, default: [:]][symbol] = address
                return .succeeded("0x" + String(address, radix: 16))
            }
            func sharing(_ shared: Bool) -> Sharing { shared ? .shared : .private }
            let content = state.content
            /// What the actor stores at `loc` (the data checks): the step's tag.
            func tag(_ loc: Loc, by actor: String? = nil) -> UInt32? {
                content.tag(actor ?? step.actor, step: number, page: loc.page)?.value
            }
            switch step.action {
            // The account of a mapping starts once it exists (a refused mmap leaves the old one).
            case let .map(symbol, pages, prot, shared):
                let outcome = try bind(symbol, .map(pages: pages, prot, sharing(shared)))
                content.map(step.actor, symbol, shared: shared, file: false)
                return outcome
            case let .mapTHP(symbol):
                try holdKhugepaged(state)
                let outcome = try bind(symbol, .mapTHP())
                content.map(step.actor, symbol, shared: false, file: false)
                return outcome
            case let .mapKind(symbol, kind):
                let mapping: WorkerCommand
                switch kind.shape {
                case .small: mapping = .map(pages: 1, .readWrite, .private)
                case .shmem: mapping = .map(pages: 1, .readWrite, .shared)
                case .shmemTHP: mapping = .mapTHP(sharing: .shared)
                case .thp, .thpPTE, .thpSingle, .mthp: mapping = .mapTHP()
                }
                if kind.holdsKhugepaged { try holdKhugepaged(state) }
                let outcome = try bind(symbol, mapping)
                content.map(step.actor, symbol, shared: kind.isShmem, file: false)
                let base = try at(Loc(symbol))
                try make(kind, at: base, worker, state, tag: tag(Loc(symbol)))
                content.store(step.actor, Loc(symbol), tag(Loc(symbol)))
                if kind.shape == .thpSingle { content.advise(step.actor, Loc(symbol, 1), pages: kind.pages - 1, .dontneed) }
                // The folio is checked before it is paged out: a swapped kind is that kind swapped.
                state.kindNotMade = kindNotMade(PageKind(kind.shape), at: PageRef(step.actor, symbol), state)
                if kind.swapped, state.kindNotMade == nil {
                    let before = kind.swapOutCount()
                    try worker.send(.madvise(base, pages: kind.pages, .pageout))
                    state.kindNotSwapped = kindNotMade(kind, at: PageRef(step.actor, symbol), state)
                    // Whether the folio went out whole is part of what the kernel did: the outcome says it.
                    if case let .succeeded(address) = outcome, let note = kind.swapOutNote(before: before, after: kind.swapOutCount()) {
                        return .succeeded(address + "; " + note)
                    }
                }
                return outcome
            case let .mapFile(symbol, file, pages, prot, shared):
                let outcome = try bind(symbol, .mapFile(name: file, pages: pages, prot, sharing(shared)))
                content.map(step.actor, symbol, shared: shared, file: true)
                return outcome
            case let .mapFixture(symbol, pages, shared):
                // Module-owned RAM: what a private COW copy of it holds before a write is its, not a tag.
                let outcome = try bind(symbol, .mapFixture(pages: pages, sharing(shared)))
                content.map(step.actor, symbol, shared: shared, file: true)
                return outcome
            case let .write(loc, value):
                let stored = value ?? tag(loc)
                try worker.send(.write(try at(loc), value: stored))
                content.store(step.actor, loc, stored)
            case let .read(loc): return .succeeded(try worker.send(.read(try at(loc))))
            case let .fork(child):
                let directory = state.fifoDirectory ?? "/tmp"
                let forked = try worker.forkWorker(fifoDirectory: directory)
                state.actors.append((child, forked))
                state.symbols[child] = state.symbols[step.actor] ?? [:]
                content.fork(step.actor, child: child)
                return .succeeded("pid \(forked.pid)")
            case let .mremap(symbol, pages): return try bind(symbol, .mremap(try at(Loc(symbol)), pages: pages))
            case let .mprotect(loc, pages, prot): try worker.send(.mprotect(try at(loc), pages: pages, prot))
            case let .madvise(loc, pages, advice):
                try worker.send(.madvise(try at(loc), pages: pages, advice))
                content.advise(step.actor, loc, pages: pages, advice)
            case .drain: try worker.send(.drain)
            case let .uffdOpen(move): return .succeeded(try worker.send(.uffdOpen(move: move)))
            case let .uffdRegister(loc, pages, modes): return .succeeded(try worker.send(.uffdRegister(try at(loc), pages: pages, modes)))
            case let .uffdCopy(loc, pages, wp):
                // Page i of the copy starts with the tag of page loc+i (tags of one step differ in
                // their page only): none if a page number would not fit its 12 bits.
                let first = loc.page + pages <= 4096 ? tag(loc) : nil
                try worker.send(.uffdCopy(try at(loc), pages: pages, writeProtect: wp, first: first))
                content.set(step.actor, loc, pages: pages) { page in
                    first == nil ? .unknown : content.tag(step.actor, step: number, page: page).map { .stored($0.value) } ?? .unknown
                }
            case let .uffdZeropage(loc, pages):
                try worker.send(.uffdZeropage(try at(loc), pages: pages))
                content.set(step.actor, loc, pages: pages) { _ in .zero }
            case let .uffdWriteProtect(loc, pages, on): try worker.send(.uffdWriteProtect(try at(loc), pages: pages, on: on))
            case let .uffdContinue(loc, pages): return .succeeded(try worker.send(.uffdContinue(try at(loc), pages: pages)))
            case let .uffdMove(from, to, pages):
                let moved = try worker.send(.uffdMove(from: try at(from), to: try at(to), pages: pages))
                content.move(step.actor, from: from, to: to, pages: pages)
                return .succeeded(moved)
            case let .memWrite(target, loc), let .memRead(target, loc):
                guard let other = state.worker(target), let address = state.address(PageRef(target, loc), pageSize: pageSize) else {
                    throw ScenarioError.unbound("no page \(target):\(loc)")
                }
                if case .memWrite = step.action {
                    // The writer's tag, in the target's page: a leak report names who wrote it.
                    let stored = tag(loc)
                    let reply = try worker.send(.memWrite(pid: other.pid, address, value: stored))
                    content.store(target, loc, stored)
                    return .succeeded(reply)
                }
                return .succeeded(try worker.send(.memRead(pid: other.pid, address)))
            case let .pin(loc, pages, write, longterm):
                try worker.send(.pin(try at(loc), pages: UInt64(pages), write: write, longterm: longterm))
            case let .unpin(loc, pages): try worker.send(.unpin(try at(loc), pages: UInt64(pages)))
            case .exit:
                content.exit(step.actor)
                worker.stop()
                if let note = worker.leftBehind { state.leftBehind.append("\(step.actor): \(note)") }
                state.actors.removeAll { $0.name == step.actor }
            case .swapoff, .swapon, .setting, .waitForKsm:
                break
            }
            return .succeeded("")
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

    /// khugepaged held off while a scenario has a MADV_HUGEPAGE range (PageKind.khugepagedSleep):
    /// put back when the scenario ends, like every setting.
    private func holdKhugepaged(_ state: RunState) throws {
        guard FileManager.default.fileExists(atPath: PageKind.khugepagedSleep),
              !state.settings.contains(where: { $0.path == PageKind.khugepagedSleep }) else { return }
        // The write wakes khugepaged for one more scan (nice 19: it may run late); the range is
        // made once that scan is over and khugepaged sleeps again: its voluntary context
        // switches count up (bounded: 2 s, then the scenario goes on as before the hold).
        let khugepaged = Self.kernelThread(named: "khugepaged")
        let before = khugepaged.flatMap(Self.voluntarySwitches)
        _ = try performSystem(.setting(path: PageKind.khugepagedSleep, value: PageKind.khugepagedHoldMillis), state)
        guard let khugepaged, let before else { return }
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, let now = Self.voluntarySwitches(khugepaged), now == before { usleep(10_000) }
    }

    /// The pid of the kernel thread called `name` (its /proc/PID/comm), if it runs.
    static func kernelThread(named name: String) -> Int32? {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.first { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == name
        }
    }

    /// voluntary_ctxt_switches of /proc/PID/status: how many times the task went to sleep.
    static func voluntarySwitches(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            .flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") }
    }

    /// The rest of `map-kind` once the range is mapped at `base`, up to the page-out of a swapped
    /// kind (PageKind.recipe; cow.c's
    /// do_run_with_thp() and run_with_base_page() make them the same way).
    private func make(_ kind: PageKind, at base: UInt64, _ worker: WorkerProcess, _ state: RunState, tag: UInt32?) throws {
        if let control = kind.mthpControl {
            // Only this size may be chosen: alloc_anon_folio() tries the highest enabled order
            // that fits the 2 MiB-aligned VMA first (6.12 mm/memory.c L4654), so every other
            // size, the PMD one included, is off (each put back when the scenario ends).
            let directory = "/sys/kernel/mm/transparent_hugepage"
            let sizes = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for size in sizes.sorted() where size.hasPrefix("hugepages-") && size.hasSuffix("kB") {
                let path = "\(directory)/\(size)/enabled"
                guard path != control, FileManager.default.fileExists(atPath: path) else { continue }
                _ = try performSystem(.setting(path: path, value: "never"), state)
            }
            _ = try performSystem(.setting(path: control, value: "always"), state)
        }
        if kind.shape == .shmemTHP {
            // A shmem THP for a MADV_HUGEPAGE range (shmem_huge_global_enabled(): SHMEM_HUGE_ADVISE
            // and VM_HUGEPAGE); on 6.11+ anonymous shmem's PMD size follows it when "inherit".
            _ = try performSystem(.setting(path: PageKind.shmemControl, value: "advise"), state)
            if FileManager.default.fileExists(atPath: PageKind.shmemPMDControl) {
                _ = try performSystem(.setting(path: PageKind.shmemPMDControl, value: "inherit"), state)
            }
        }
        try worker.send(.write(base, value: tag))
        let page = pageSize
        switch kind.shape {
        case .thpPTE, .thpSingle:
            // cow.c THP_RUN_PTE: "Trigger PTE-mapping the THP by temporarily mapping a single
            // subpage R/O" (mprotect splits the PMD: change_huge_pmd -> __split_huge_pmd).
            try worker.send(.mprotect(base + page, pages: 1, .read))
            try worker.send(.mprotect(base + page, pages: 1, .readWrite))
            if kind.shape == .thpSingle {
                // cow.c THP_RUN_SINGLE_PTE: "Discard all but a single subpage of that PTE-mapped THP".
                try worker.send(.madvise(base + page, pages: kind.pages - 1, .dontneed))
            }
        case .small, .thp, .mthp, .shmem, .shmemTHP:
            break
        }
    }

    /// Why `map-kind` did not make `kind` at `ref` (PageKind.notMade), or nil; an observation
    /// that fails is a reason too.
    private func kindNotMade(_ kind: PageKind, at ref: PageRef, _ state: RunState) -> String? {
        guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else { return "\(ref) is not mapped" }
        do {
            let seen = try guarded("checking the kind made at \(ref)") {
                try observer.observe(pid: worker.pid, address: address) { _, _ in "" }
            }
            return kind.notMade(seen)
        } catch {
            return "observing \(ref) failed: \(error)"
        }
    }

    private func performSystem(_ action: Action, _ state: RunState) throws -> StepOutcome {
        switch action {
        case .swapoff:
            guard let device = environment.swapDevices.first else { throw ScenarioError.unbound("no swap device") }
            guard pti_swapoff(device) == 0 else {
                let code = errno
                return .failed(errno: code, message: "swapoff(\(device)): \(String(cString: strerror(code)))")
            }
            state.swappedOff = device
            return .succeeded(device)
        case .swapon:
            guard let device = state.swappedOff ?? environment.swapDevices.first else { throw ScenarioError.unbound("no swap device") }
            guard pti_swapon(device, 0) == 0 else {
                let code = errno
                return .failed(errno: code, message: "swapon(\(device)): \(String(cString: strerror(code)))")
            }
            state.swappedOff = nil
            return .succeeded(device)
        case let .setting(path, value):
            let old = Self.currentChoice(try String(contentsOfFile: path, encoding: .utf8))
            try Self.write(value, to: path)
            if !state.settings.contains(where: { $0.path == path }) { state.settings.append((path, old)) }
            return .succeeded("was \(old)")
        case let .waitForKsm(pages, seconds):
            let deadline = Date().addingTimeInterval(TimeInterval(seconds))
            while true {
                var waiting: [String] = []
                for ref in pages {
                    guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else {
                        throw ScenarioError.unbound("no page \(ref)")
                    }
                    let seen = try observer.observe(pid: worker.pid, address: address) { _, _ in "" }
                    if seen[.ksm] != .bool(true) { waiting.append(ref.description) }
                }
                if waiting.isEmpty { return .succeeded("merged") }
                if Date() > deadline {
                    return .failed(errno: nil, message: "ksmd did not merge \(waiting.joined(separator: ", ")) within \(seconds) s")
                }
                usleep(200_000)
            }
        default:
            throw ScenarioError.unbound("not a system action")
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
        guard fd >= 0 else { throw NetlinkError.system(call: "open(\(path))", errno: errno) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw NetlinkError.system(call: "write(\(path))", errno: errno) }
    }

    private func makeTemporaryDirectory() throws -> String {
        // mkdtemp() replaces the template's last six characters, which must be X.
        var template = Array(("/tmp/pteinspect-scenario-" + String(repeating: "X", count: 6)).utf8CString)
        guard let made = mkdtemp(&template) else { throw NetlinkError.system(call: "mkdtemp", errno: errno) }
        return String(cString: made)
    }
}

public enum ScenarioError: Error, CustomStringConvertible {
    case unbound(String)
    public var description: String {
        switch self { case let .unbound(text): return text }
    }
}

/// The actors and machine state of one run; `finish` puts everything back.
private final class RunState {
    /// What each page must hold (the data checks), kept by `perform` as the steps succeed.
    let content: ContentModel
    init(content: ContentModel) { self.content = content }

    var actors: [(name: String, worker: WorkerProcess)] = []
    var symbols: [String: [String: UInt64]] = [:]
    var fifoDirectory: String?
    var swappedOff: String?
    var settings: [(path: String, old: String)] = []
    /// Set when a helper did not answer within its bound: how long was waited, where it was.
    var hang: ScenarioRunner.Hang?
    /// Why the last `map-kind` did not make its folio, or (a swapped kind) did not swap it out.
    var kindNotMade: String?
    var kindNotSwapped: String?
    /// Helpers that did not go away when stopped or killed (stuck in the kernel).
    var leftBehind: [String] = []

    func worker(_ name: String) -> WorkerProcess? { actors.last { $0.name == name }?.worker }

    func address(_ ref: PageRef, pageSize: UInt64) -> UInt64? {
        guard worker(ref.actor) != nil, let base = symbols[ref.actor]?[ref.loc.symbol] else { return nil }
        let (offset, overflow) = UInt64(ref.loc.page).multipliedReportingOverflow(by: pageSize)
        guard !overflow, case let (address, wrapped) = base.addingReportingOverflow(offset), !wrapped else { return nil }
        return address
    }

    /// An rmap hit as the scenario names pages: "actor@0x...".
    func name(pid: Int32?, address: UInt64) -> String {
        let owner = pid.flatMap { pid in actors.last { $0.worker.pid == pid }?.name } ?? pid.map { "pid \($0)" } ?? "no process"
        return "\(owner)@0x" + String(address, radix: 16)
    }

    /// Kills every actor (SIGKILL, bounded waits), children first.
    func kill() {
        for actor in actors.reversed() {
            actor.worker.kill()
            if let note = actor.worker.leftBehind { leftBehind.append("\(actor.name): \(note)") }
        }
        actors = []
    }

    func finish() {
        // Children before parents: a forked worker is reaped by its parent.
        for actor in actors.reversed() {
            actor.worker.stop()
            if let note = actor.worker.leftBehind { leftBehind.append("\(actor.name): \(note)") }
        }
        actors = []
        if let device = swappedOff { _ = pti_swapon(device, 0) }
        for setting in settings.reversed() { try? ScenarioRunner.write(setting.old, to: setting.path) }
        if let fifoDirectory { rmdir(fifoDirectory) }
    }
}
