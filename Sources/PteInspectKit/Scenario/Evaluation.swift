public enum Verdict: String, Equatable {
    case pass = "PASS", fail = "FAIL", skip = "SKIP"
    /// A known kernel bug showed (`known-bug:`, on a kernel in its range): the expectation failed
    /// as the bug makes it fail. Counted as passed, as kselftest counts its XFAIL (`ok N ... #
    /// XFAIL`, tools/testing/selftests/kselftest.h ksft_test_result_xfail()); a scenario's verdict
    /// when one of its expectations is an XFAIL and none failed.
    case xfail = "XFAIL"
    /// A step did not complete within its bound (a scenario's verdict; never an expectation's).
    case hang = "HANG"
    /// The kernel reported a problem (BUG, WARNING, KASAN, lockdep, ...) during a step (a
    /// scenario's verdict; never an expectation's).
    case crash = "CRASH"

    /// Not a pass or a skip: FAIL, HANG or CRASH.
    public var isFailure: Bool { self == .fail || self == .hang || self == .crash }
}

/// Why a step ended a scenario other than by a wrong value or a refused call.
public enum StepFault: String, Equatable {
    /// It did not complete within its bound.
    case hang = "HANG"
    /// The kernel log shows a splat logged while it ran.
    case crash = "CRASH"

    var verdict: Verdict { self == .hang ? .hang : .crash }
}

/// One field that did not match.
public struct Mismatch: Equatable {
    public let assertion: String
    public let expected: String
    public let observed: String
}

public struct ExpectationResult {
    public let expectation: Expectation
    public let verdict: Verdict
    /// Why it was skipped.
    public let reason: String?
    public let mismatches: [Mismatch]
    /// The known kernel bug whose range holds this kernel (`known-bug:`), whether it showed
    /// (XFAIL) or not (PASS): what KCIDB's incident records as present or absent.
    public let knownBug: KnownBug?

    public init(expectation: Expectation, verdict: Verdict, reason: String?, mismatches: [Mismatch], knownBug: KnownBug? = nil) {
        self.expectation = expectation
        self.verdict = verdict
        self.reason = reason
        self.mismatches = mismatches
        self.knownBug = knownBug
    }
}

/// How a step's call ended.
public enum StepOutcome: Equatable {
    case succeeded(String)
    case failed(errno: Int32?, message: String)

    public var description: String {
        switch self {
        case let .succeeded(value): return value.isEmpty ? "ok" : "ok \(value)"
        case let .failed(_, message): return message
        }
    }
}

/// Everything an expectation can be evaluated against after one step.
public struct EvaluationContext {
    public var current: [PageRef: PageObservation]
    /// Observations after the steps that have a label.
    public var history: [String: [PageRef: PageObservation]]
    /// Where each watched page is now ("actor@0x...", as rmap results are named).
    public var locations: [PageRef: String]
    public var outcome: StepOutcome
    public var canSee: (PageField) -> Bool
    public var backend: Backend
    public var kernel: KernelVersion?
    /// Why an expectation's own requirement is not met here (ScenarioEnvironment.unmet), or nil.
    public var unmet: (Requirement) -> String?
    /// Every page of the mappings every-page expectations read (keyed by their first page):
    /// `ranges[ref][i]` is page +i.
    public var ranges: [PageRef: [PageObservation]] = [:]

    public init(current: [PageRef: PageObservation], history: [String: [PageRef: PageObservation]] = [:],
                locations: [PageRef: String] = [:], outcome: StepOutcome = .succeeded(""),
                canSee: @escaping (PageField) -> Bool, backend: Backend, kernel: KernelVersion?,
                unmet: @escaping (Requirement) -> String? = { _ in nil }) {
        self.current = current
        self.history = history
        self.locations = locations
        self.outcome = outcome
        self.canSee = canSee
        self.backend = backend
        self.kernel = kernel
        self.unmet = unmet
    }

    public func evaluate(_ expectation: Expectation) -> ExpectationResult {
        if let bug = expectation.knownBug, let kernel, bug.contains(kernel) {
            return evaluateKnownBug(expectation, bug, kernel)
        }
        if let reason = skipReason(expectation) {
            return ExpectationResult(expectation: expectation, verdict: .skip, reason: reason, mismatches: [])
        }
        if let pages = expectation.everyPage { return evaluateEveryPage(expectation, pages: pages) }
        var mismatches: [Mismatch] = []
        for assertion in expectation.assertions {
            if let problem = check(assertion) { mismatches.append(problem) }
        }
        return ExpectationResult(expectation: expectation, verdict: mismatches.isEmpty ? .pass : .fail, reason: nil,
                                 mismatches: mismatches)
    }

    /// On a kernel a known bug is on: evaluated as if in range (requirements and what the backend
    /// sees still apply); a failure is the bug (XFAIL, with its mismatches), a pass a PASS.
    private func evaluateKnownBug(_ expectation: Expectation, _ bug: KnownBug, _ kernel: KernelVersion) -> ExpectationResult {
        let inRange = Expectation(expectation.summary, kernels: KernelRange(basis: expectation.kernels.basis), cite: expectation.citation,
                                  expectation.assertions, requires: expectation.requirements, everyPage: expectation.everyPage)
        if let reason = skipReason(inRange) {
            return ExpectationResult(expectation: expectation, verdict: .skip, reason: reason, mismatches: [])
        }
        let result = evaluate(inRange)
        guard result.verdict == .fail else {
            return ExpectationResult(expectation: expectation, verdict: result.verdict, reason: result.reason, mismatches: [], knownBug: bug)
        }
        return ExpectationResult(expectation: expectation, verdict: .xfail,
                                 reason: "the known kernel bug of \(kernel) shows: \(bug.bug)", mismatches: result.mismatches, knownBug: bug)
    }

    /// Why `expectation` is a SKIP here (its kernel range, a requirement, a field this backend
    /// cannot see), or nil when it is evaluated.
    public func skipReason(_ expectation: Expectation) -> String? {
        if let kernel, !expectation.kernels.contains(kernel) {
            return "holds for kernels \(expectation.kernels) (\(expectation.kernels.basis)); this is \(kernel)"
        }
        if kernel == nil, expectation.kernels.isBounded {
            return "the running kernel's version could not be read"
        }
        for requirement in expectation.requirements {
            if let reason = unmet(requirement) { return reason }
        }
        let unseen = expectation.fields.filter { !canSee($0) }.sorted()
        if !unseen.isEmpty {
            return "needs \(unseen.map(\.description).joined(separator: ", ")), which the \(backend) backend cannot see"
                + (backend == .pagemap ? " (load the pteinspect module for the module backend)" : "")
        }
        return nil
    }

    /// An every-page expectation: its checks on page +0, +1, ... of each mapping they name, each
    /// page compared with the same page of the others. The mismatches are those of the first page
    /// that fails, named ("parent:P+37 of 512"), with how many pages fail in all.
    private func evaluateEveryPage(_ expectation: Expectation, pages: Int) -> ExpectationResult {
        var first: [Mismatch] = []
        var failing = 0
        for page in 0..<pages {
            var context = self
            for ref in expectation.mappings {
                context.current[ref] = ranges[ref].flatMap { page < $0.count ? $0[page] : nil }
            }
            let mismatches = expectation.assertions.compactMap { context.check($0) }
            guard !mismatches.isEmpty else { continue }
            failing += 1
            if first.isEmpty {
                let names = expectation.mappings.sorted { $0.description < $1.description }
                    .map { PageRef($0.actor, $0.loc.plus(page)).description }.joined(separator: ", ")
                first = mismatches.map {
                    Mismatch(assertion: "\(names) (page \(page + 1) of \(pages)): \($0.assertion)", expected: $0.expected, observed: $0.observed)
                }
            }
        }
        if failing > 1, let last = first.last {
            first[first.count - 1] = Mismatch(assertion: last.assertion, expected: last.expected,
                                              observed: last.observed + " (\(failing) of \(pages) pages fail)")
        }
        return ExpectationResult(expectation: expectation, verdict: first.isEmpty ? .pass : .fail, reason: nil, mismatches: first)
    }

    private func observation(_ ref: PageRef, at label: String?) -> PageObservation? {
        guard let label else { return current[ref] }
        return history[label]?[ref]
    }

    private func check(_ assertion: Assertion) -> Mismatch? {
        let text = assertion.description
        switch assertion {
        case let .outcome(wanted):
            switch (wanted, outcome) {
            case (.succeeds, .succeeded): return nil
            case (.succeeds, let .failed(_, message)): return Mismatch(assertion: text, expected: "success", observed: message)
            case let (.fails(errno), .failed(got, message)):
                return got == errno.code ? nil : Mismatch(assertion: text, expected: errno.name, observed: message)
            case let (.fails(errno), .succeeded(value)):
                return Mismatch(assertion: text, expected: errno.name, observed: "success" + (value.isEmpty ? "" : " (\(value))"))
            }
        case let .field(ref, field, expected):
            guard let mine = current[ref]?[field] else {
                return Mismatch(assertion: text, expected: "\(ref) observed", observed: "\(ref) was not observed at this step")
            }
            func theirs(_ other: PageRef, _ otherField: PageField?, _ label: String?) -> FieldValue? {
                observation(other, at: label)?[otherField ?? field]
            }
            switch expected {
            case .notAbsent:
                return mine == .absent ? Mismatch(assertion: text, expected: "a value", observed: "-") : nil
            case let .value(value):
                return mine.matches(value) ? nil : Mismatch(assertion: text, expected: value.description, observed: mine.description)
            case let .same(other, otherField, label):
                guard let value = theirs(other, otherField, label) else {
                    return Mismatch(assertion: text, expected: "a value for \(other)", observed: "\(other) was not observed" + (label.map { " at \($0)" } ?? ""))
                }
                if value == .absent { return Mismatch(assertion: text, expected: "a value (the other side has none)", observed: mine.description) }
                return mine.matches(value) ? nil : Mismatch(assertion: text, expected: value.description, observed: mine.description)
            case let .differs(other, otherField, label):
                guard let value = theirs(other, otherField, label) else {
                    return Mismatch(assertion: text, expected: "a value for \(other)", observed: "\(other) was not observed" + (label.map { " at \($0)" } ?? ""))
                }
                return mine.matches(value) || mine == .absent ? Mismatch(assertion: text, expected: "not \(value)", observed: mine.description) : nil
            case let .contains(other, otherField, label):
                guard let value = theirs(other, otherField, label), value != .absent else {
                    return Mismatch(assertion: text, expected: "a value for \(other).\(otherField)", observed: "none")
                }
                guard case let .set(members) = mine, members.contains(value.description) else {
                    return Mismatch(assertion: text, expected: "contains \(value)", observed: mine.description)
                }
                return nil
            case let .rmapFinds(pages):
                var names: [String] = []
                for page in pages {
                    guard let name = locations[page] else {
                        return Mismatch(assertion: text, expected: "\(page) observed", observed: "\(page) has no address at this step")
                    }
                    names.append(name)
                }
                let wanted = FieldValue.set(names)
                return mine.matches(wanted) ? nil : Mismatch(assertion: text, expected: wanted.description, observed: mine.description)
            case let .oneOf(pages, label):
                let values = pages.compactMap { theirs($0, nil, label) }
                return values.contains { mine.matches($0) && $0 != .absent } ? nil
                    : Mismatch(assertion: text, expected: "one of " + values.map(\.description).joined(separator: ", "), observed: mine.description)
            }
        }
    }
}

/// What one step did and saw.
public struct StepResult {
    public let number: Int
    public let step: Step
    public let outcome: StepOutcome
    /// The watched pages observed after the step, in watch order.
    public let pages: [(ref: PageRef, location: String, observation: PageObservation)]
    /// Fields that changed since the page's previous observation.
    public let changed: [PageRef: Set<PageField>]
    public let expectations: [ExpectationResult]
    /// Set when the step could not be carried out or observed; the scenario stops there.
    public let error: String?
    /// Set when the step hung or the kernel reported a problem while it ran (`error` says what).
    public var fault: StepFault? = nil
    /// The kernel's report (its log from the splat on) or, for a hang, where the stuck helper was
    /// and the kernel log since the scenario began.
    public var kernelReport: [String] = []
    /// The helpers that would not die after the step (SIGKILL included): a task stuck in the kernel.
    public var leftBehind: [String] = []

    public var verdict: Verdict {
        if let fault { return fault.verdict }
        if error != nil || expectations.contains(where: { $0.verdict == .fail }) { return .fail }
        return .pass
    }
}

public struct ScenarioResult {
    public let scenario: Scenario
    public let backend: Backend
    public let verdict: Verdict
    /// Why the scenario was skipped, could not finish, or failed: for a failure, its first failing
    /// step and expectation ("step 3 (parent: fork child): the child ...").
    public let reason: String?
    /// The line a summary prints under a failure's reason: the first mismatch (field, expected,
    /// observed) and the citation of a failed expectation; the first line of the kernel's report
    /// for a CRASH or HANG.
    public let detail: String?
    public let steps: [StepResult]

    public var expectationResults: [ExpectationResult] { steps.flatMap(\.expectations) }

    public init(scenario: Scenario, backend: Backend, steps: [StepResult], skipReason: String? = nil) {
        self.scenario = scenario
        self.backend = backend
        self.steps = steps
        if let skipReason {
            verdict = .skip
            reason = skipReason
            detail = nil
        } else if let broken = steps.first(where: { $0.fault != nil }) ?? steps.first(where: { $0.error != nil }) {
            verdict = broken.fault?.verdict ?? .fail
            reason = "step \(broken.number) (\(broken.step.description)): \(broken.error ?? "")"
            detail = broken.fault == nil ? nil : broken.kernelReport.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        } else if let (step, failed) = Self.firstFailedExpectation(steps) {
            verdict = .fail
            reason = Self.headline(step, failed)
            detail = Self.mismatchLine(failed)
        } else if let (step, expected) = Self.firstExpectation(steps, .xfail) {
            verdict = .xfail
            reason = Self.headline(step, expected) + ": " + (expected.reason ?? "")
            detail = Self.mismatchLine(expected)
        } else {
            let results = steps.flatMap(\.expectations)
            if !results.isEmpty, results.allSatisfy({ $0.verdict == .skip }) {
                verdict = .skip
                reason = "every expectation was skipped: " + (results.first?.reason ?? "")
            } else {
                verdict = .pass
                reason = nil
            }
            detail = nil
        }
    }

    static func firstFailedExpectation(_ steps: [StepResult]) -> (StepResult, ExpectationResult)? {
        firstExpectation(steps, .fail)
    }

    static func firstExpectation(_ steps: [StepResult], _ verdict: Verdict) -> (StepResult, ExpectationResult)? {
        for step in steps {
            if let found = step.expectations.first(where: { $0.verdict == verdict }) { return (step, found) }
        }
        return nil
    }

    static func headline(_ step: StepResult, _ failed: ExpectationResult) -> String {
        "step \(step.number) (\(step.step.description)): \(failed.expectation.summary)"
    }

    /// "parent:P.pte.write == 1: expected 1, observed 0; per mm/memory.c do_wp_page(): ..."
    static func mismatchLine(_ failed: ExpectationResult) -> String {
        let first = failed.mismatches.first.map { "\($0.assertion): expected \($0.expected), observed \($0.observed)" } ?? "no mismatch recorded"
        let more = failed.mismatches.count > 1 ? " (and \(failed.mismatches.count - 1) more)" : ""
        return first + more + "; per " + failed.expectation.citation.description
    }
}
