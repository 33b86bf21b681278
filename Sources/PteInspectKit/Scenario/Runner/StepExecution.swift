import Foundation
import Glibc

// One step of a scenario, from performing it to its result: perform (the verb's), the SKIP of a
// page kind the kernel would not make, a hang or a splat made a fault, the watched pages
// observed, the fields that changed, the expectations and the data check evaluated.

/// What the steps of one scenario carry from one to the next.
final class StepWalk {
    let scenario: Scenario
    let state: RunState
    let log: ScenarioLog
    /// The watched pages as last observed.
    var previous: [PageRef: PageObservation] = [:]
    /// Observations after the steps that have a label.
    var history: [String: [PageRef: PageObservation]] = [:]

    init(scenario: Scenario, state: RunState, log: ScenarioLog) {
        self.scenario = scenario
        self.state = state
        self.log = log
    }
}

/// The watched pages after a step, in the scenario's order.
struct ObservedPages {
    var pages: [(ref: PageRef, location: String, observation: PageObservation)] = []
    var locations: [PageRef: String] = [:]
    var current: [PageRef: PageObservation] = [:]
}

extension ScenarioRunner {
    /// One step: performed, then judged. Every way a step can end the scenario returns here.
    func execute(_ step: Step, number: Int, _ walk: StepWalk) -> StepEnd {
        let state = walk.state, log = walk.log
        let outcome = perform(step, number: number, state)
        if case .succeeded = outcome, let kind = (step.action.verb as? MapKind)?.kind, state.hang == nil,
           let reason = state.kindNotMade ?? (kind.swapped ? state.kindNotSwapped : nil) {
            // The kernel would not make the kind here: its semantics cannot be shown (cow.c's
            // SKIP) — unless it complained while trying (a BUG splitting or paging out): CRASH.
            let splat = log.splatReport()
            state.kill()
            guard let splat else { return .skip("step \(number) (\(step.description)): \(reason)") }
            return .abort(Self.faulted(number: number, step: step, outcome: outcome, pages: [], hang: nil, splat: splat,
                                       recent: log.records, leftBehind: state.leftBehind, otherwise: nil))
        }
        if let hang = state.hang {
            // The helper is stuck: kill this scenario's helpers, say where it was and what the
            // kernel logged; a splat logged meanwhile (a BUG with a lock held) makes it a CRASH.
            state.kill()
            return .last(Self.faulted(number: number, step: step, outcome: outcome, pages: [], hang: hang, splat: log.splatReport(),
                                      recent: log.records, leftBehind: state.leftBehind, otherwise: nil))
        }
        var error: String?
        if case let .failed(_, message) = outcome, !step.expectsFailure { error = "the step failed: \(message)" }
        var observed = ObservedPages()
        var observationFailed = false
        if error == nil, let failure = observe(walk.scenario.watch, after: step, number: number, state, into: &observed) {
            error = "observing the pages failed: \(failure)"
            observationFailed = true
        }
        if let splat = log.splatReport() {
            return .last(Self.faulted(number: number, step: step, outcome: outcome, pages: observed.pages, hang: nil, splat: splat,
                                      recent: log.records, leftBehind: [], otherwise: nil))
        }
        var context = EvaluationContext(current: observed.current, history: walk.history, locations: observed.locations, outcome: outcome,
                                        canSee: observer.canSee, backend: observer.backend, kernel: environment.kernel,
                                        unmet: environment.unmet)
        if error == nil, !observationFailed {
            // Only for the every-page expectations evaluated here: one that is a SKIP reads nothing.
            let everyPage = step.expectations.filter { $0.everyPage != nil && context.skipReason($0) == nil }
            do {
                context.ranges = try observeRanges(of: everyPage, after: step, number: number, state)
            } catch let failure {
                error = "observing the pages failed: \(failure)"
                observationFailed = true
            }
        }
        if observationFailed {
            return .last(StepResult(number: number, step: step, outcome: outcome, pages: observed.pages, changed: [:],
                                    expectations: [], error: error))
        }
        var results = error == nil ? step.expectations.map { context.evaluate($0) } : []
        let watched = Set(observed.pages.map(\.ref))
        let checked = observed.pages + Self.otherPages(of: context.ranges, state).filter { !watched.contains($0.ref) }
        if error == nil, let check = dataCheck(checked, state.content, path: DataPath.of(step) { walk.previous[$0] }) {
            results.append(check)
        }
        let result = StepResult(number: number, step: step, outcome: outcome, pages: observed.pages,
                                changed: Self.changedFields(observed.current, since: walk.previous), expectations: results, error: error)
        if error != nil { return .last(result) }
        if let label = step.label { walk.history[label] = observed.current }
        walk.previous.merge(observed.current) { $1 }
        return .next(result)
    }

    /// The watched pages whose actor exists and whose name is bound, observed in order into
    /// `observed`; the failure that stopped it (the pages before it are kept), or nil.
    private func observe(_ watch: [PageRef], after step: Step, number: Int, _ state: RunState, into observed: inout ObservedPages) -> Error? {
        do {
            for ref in watch {
                guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else { continue }
                let observation = try guarded("step \(number) (\(step.description)): observing \(ref)") {
                    try observer.observe(pid: worker.pid, address: address) { pid, address in
                        state.name(pid: pid, address: address)
                    }
                }
                let location = "\(ref.actor)@0x" + String(address, radix: 16)
                observed.pages.append((ref, location, observation))
                observed.locations[ref] = location
                observed.current[ref] = observation
            }
            return nil
        } catch {
            return error
        }
    }

    /// Every page of each mapping these every-page expectations read (keyed by the mapping's
    /// first page), one range read each.
    private func observeRanges(of expectations: [Expectation], after step: Step, number: Int,
                               _ state: RunState) throws -> [PageRef: [PageObservation]] {
        var ranges: [PageRef: [PageObservation]] = [:]
        for expectation in expectations {
            guard let pages = expectation.everyPage else { continue }
            for ref in expectation.mappings where ranges[ref] == nil {
                guard let worker = state.worker(ref.actor), let address = state.address(ref, pageSize: pageSize) else { continue }
                ranges[ref] = try guarded("step \(number) (\(step.description)): observing the \(pages) pages of \(ref)") {
                    try observer.observeRange(pid: worker.pid, address: address, pages: pages)
                }
            }
        }
        return ranges
    }

    /// The pages of those ranges past their first (the watched page, observed already), named
    /// as a scenario names them (parent:P+1 at parent@0x...), for the data check.
    static func otherPages(of ranges: [PageRef: [PageObservation]], _ state: RunState) -> [(ref: PageRef, location: String, observation: PageObservation)] {
        ranges.sorted { $0.key.description < $1.key.description }.flatMap { ref, observations in
            observations.enumerated().dropFirst().map { index, observation in
                let page = PageRef(ref.actor, ref.loc.plus(index))
                let address = state.address(page, pageSize: SystemPage.size).map { String($0, radix: 16) } ?? "?"
                return (page, "\(ref.actor)@0x\(address)", observation)
            }
        }
    }

    /// The fields of each page that differ from its previous observation (a page seen for the
    /// first time has none).
    static func changedFields(_ current: [PageRef: PageObservation], since previous: [PageRef: PageObservation]) -> [PageRef: Set<PageField>] {
        var changed: [PageRef: Set<PageField>] = [:]
        for (ref, observation) in current {
            guard let before = previous[ref] else { continue }
            let fields = Set(observation.values.keys.filter { field in
                guard let old = before[field], let new = observation[field] else { return false }
                return !new.matches(old)
            })
            if !fields.isEmpty { changed[ref] = fields }
        }
        return changed
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
    /// (The run counts the hangs it reports: `ScenarioRunner.run`.)
    static func faulted(number: Int, step: Step, outcome: StepOutcome, pages: [(ref: PageRef, location: String, observation: PageObservation)],
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


}
