import Foundation

/// Saved scenario reports as KCIDB I/O data (the Linux kernel CI results database; schema v5.3,
/// the `kcidb_io.schema.LATEST` of kcidb-io 141, which tools/kcidb-check validates with): one
/// test per scenario run at `pteinspect.SCENARIO[.KIND]`, one per expectation under it at
/// `.stepN.eM` (the M-th expectation of step N), each with KCIDB's status:
///
/// | pteinspect | KCIDB | why |
/// |---|---|---|
/// | PASS, FAIL, SKIP | the same | |
/// | XFAIL (a known kernel bug showed) | FAIL, and an incident of the bug's issue, present | KCIDB's triage: the test failed, the issue says why |
/// | HANG | ERROR | the test did not complete; the tested code's state is unknown |
/// | CRASH | FAIL | the kernel reported a problem: its log is the excerpt |
/// | not run (the kernel compromised) | MISS | the test did not run; the reason is the comment |
///
/// Each known kernel bug (`known-bug:`) whose range holds a report's kernel is an issue (culprit:
/// the tested code), with one incident per expectation it applies to: present where it showed
/// (XFAIL), absent where the expectation held all the same (PASS).
///
/// Unless the caller names a build of its own (`buildID`: a CI system attaches the tests to the
/// build it submitted), each report brings a checkout and a build of the kernel it ran on.
public struct KCIDBReport {
    /// Schema version written (kcidb-io's schema/v05_03.py).
    public static let version = (major: 5, minor: 3)
    /// Largest log_excerpt the schema allows.
    static let excerptLimit = 16384

    /// What the ids start with: KCIDB's origin, lowercase letters, digits and `_`.
    public var origin = "pteinspect"
    /// A build id of the caller's CI system (ORIGIN:ID, its origin its own); nil: one of ours per report.
    public var buildID: String?
    /// The kernel's configuration's name (e.g. "debug"), for the builds made here.
    public var configName: String?

    public init() {}

    /// The KCIDB document of `reports`, each with the run id its test ids carry (`runID(of:)`).
    public func render(_ reports: [(report: SavedReport, runID: String)]) -> JSONValue {
        var checkouts: [JSONValue] = [], builds: [JSONValue] = [], tests: [JSONValue] = []
        var issues: [JSONValue] = [], incidents: [JSONValue] = []
        for (report, runID) in reports {
            let build: String
            if let buildID {
                build = buildID
            } else {
                let checkout = "\(origin):linux-\(report.kernel)"
                build = checkout + (configName.map { "-" + $0 } ?? "")
                checkouts.append(.object([("id", .string(checkout)), ("origin", .string(origin)),
                                          ("comment", .string("Linux \(report.kernel), as uname -r said where pteinspect ran")),
                                          ("valid", .bool(true))]))
                builds.append(.object([("id", .string(build)), ("checkout_id", .string(checkout)), ("origin", .string(origin)),
                                       ("architecture", .string("x86_64"))]
                                      + (configName.map { [("config_name", JSONValue.string($0))] } ?? [])
                                      + [("status", .string("PASS")),
                                         ("comment", .string("the kernel pteinspect ran on (it booted and ran the scenarios)")),
                                         ("misc", .object([("kernel_release", .string(report.kernel))]))]))
            }
            for scenario in report.scenarios {
                tests += self.tests(of: scenario, in: report, build: build, runID: runID)
                let known = knownBugs(of: scenario, runID: runID)
                issues += known.issues
                incidents += known.incidents
            }
        }
        var members: [(String, JSONValue)] = [("version", .object([("major", .int(Int64(Self.version.major))), ("minor", .int(Int64(Self.version.minor)))]))]
        if !checkouts.isEmpty { members.append(("checkouts", .array(uniqued(checkouts)))) }
        if !builds.isEmpty { members.append(("builds", .array(uniqued(builds)))) }
        members.append(("tests", .array(tests)))
        if !issues.isEmpty { members.append(("issues", .array(uniqued(issues)))) }
        if !incidents.isEmpty { members.append(("incidents", .array(incidents))) }
        return .object(members)
    }

    /// A scenario run's test and its expectations'.
    func tests(of scenario: SavedReport.Scenario, in report: SavedReport, build: String, runID: String) -> [JSONValue] {
        let path = Self.path(of: scenario.name)
        var misc: [(String, JSONValue)] = [("kernel_release", .string(report.kernel)), ("backend", .string(report.backend)),
                                           ("verdict", .string(scenario.verdict))]
        if let reason = scenario.reason { misc.append(("reason", .string(reason))) }
        var test: [(String, JSONValue)] = [
            ("id", .string("\(origin):\(runID):\(path)")), ("build_id", .string(build)), ("origin", .string(origin)),
            ("path", .string(path)), ("status", .string(Self.status(of: scenario))),
            ("comment", .string(scenario.title)),
        ]
        if let excerpt = Self.excerpt(of: scenario) { test.append(("log_excerpt", .string(excerpt))) }
        test.append(("misc", .object(misc)))
        var out: [JSONValue] = [.object(test)]
        for step in scenario.steps {
            for (index, expectation) in step.expectations.enumerated() {
                let subpath = "\(path).step\(step.number).e\(index + 1)"
                var fields: [(String, JSONValue)] = [
                    ("id", .string("\(origin):\(runID):\(subpath)")), ("build_id", .string(build)), ("origin", .string(origin)),
                    ("path", .string(subpath)), ("status", .string(Self.status(of: expectation))),
                    ("comment", .string("step \(step.number): \(expectation.summary)")),
                ]
                if expectation.verdict == "FAIL" || expectation.verdict == "XFAIL" {
                    fields.append(("log_excerpt", .string(Self.limited(Self.failure(of: expectation)))))
                }
                var extra: [(String, JSONValue)] = []
                if let citation = expectation.citation { extra.append(("citation", .string("\(citation.file) \(citation.function)"))) }
                if let reason = expectation.reason { extra.append(("reason", .string(reason))) }
                if !extra.isEmpty { fields.append(("misc", .object(extra))) }
                out.append(.object(fields))
            }
        }
        return out
    }

    /// KCIDB's status of a scenario run (the table above).
    static func status(of scenario: SavedReport.Scenario) -> String {
        switch scenario.verdict {
        case "HANG": return "ERROR"
        case "CRASH": return "FAIL"
        case "SKIP" where scenario.reason?.hasPrefix("not run:") == true: return "MISS"
        case "XFAIL": return "FAIL"
        case "PASS", "FAIL", "SKIP": return scenario.verdict
        default: return "ERROR"
        }
    }

    static func status(of expectation: SavedReport.Expectation) -> String {
        if expectation.verdict == "XFAIL" { return "FAIL" }
        return ["PASS", "FAIL", "SKIP"].contains(expectation.verdict) ? expectation.verdict : "ERROR"
    }

    /// The issue of a known kernel bug: its id is the bug's text hashed (the same bug in every
    /// report and run is one issue).
    func issueID(of bug: SavedReport.KnownBug) -> String {
        "\(origin):known-bug-\(Self.runID(of: Data(bug.bug.utf8)))"
    }

    /// A scenario run's known kernel bugs as KCIDB issues, and an incident per expectation (and
    /// one for the scenario's own test when its verdict is XFAIL).
    func knownBugs(of scenario: SavedReport.Scenario, runID: String) -> (issues: [JSONValue], incidents: [JSONValue]) {
        let path = Self.path(of: scenario.name)
        var issues: [JSONValue] = [], incidents: [JSONValue] = []
        var scenarioBug: SavedReport.KnownBug?
        for step in scenario.steps {
            for (index, expectation) in step.expectations.enumerated() {
                guard let bug = expectation.known_bug else { continue }
                let present = expectation.verdict == "XFAIL"
                if present && scenarioBug == nil { scenarioBug = bug }
                issues.append(issue(bug))
                let test = "\(origin):\(runID):\(path).step\(step.number).e\(index + 1)"
                incidents.append(incident(bug, test: test, present: present,
                                          comment: present ? "the known bug showed: " + (expectation.reason ?? bug.bug)
                                                           : "the known bug did not show: the expectation held (\(expectation.verdict))"))
            }
        }
        if scenario.verdict == "XFAIL", let bug = scenarioBug {
            incidents.append(incident(bug, test: "\(origin):\(runID):\(path)", present: true, comment: scenario.reason ?? bug.bug))
        }
        return (issues, incidents)
    }

    func issue(_ bug: SavedReport.KnownBug) -> JSONValue {
        .object([("id", .string(issueID(of: bug))), ("version", .int(1)), ("origin", .string(origin)),
                 ("culprit", .object([("code", .bool(true)), ("tool", .bool(false)), ("harness", .bool(false))])),
                 ("comment", .string(bug.bug)),
                 ("misc", .object([("kernels", .array(bug.kernels.map { .string($0) }))]))])
    }

    func incident(_ bug: SavedReport.KnownBug, test: String, present: Bool, comment: String) -> JSONValue {
        .object([("id", .string(test + ":known-bug")), ("origin", .string(origin)), ("issue_id", .string(issueID(of: bug))),
                 ("issue_version", .int(1)), ("test_id", .string(test)), ("present", .bool(present)),
                 ("comment", .string(comment))])
    }

    /// What a person reads first: the kernel's log of a CRASH or a HANG, a FAIL's first failing
    /// expectation, a SKIP's reason.
    static func excerpt(of scenario: SavedReport.Scenario) -> String? {
        if scenario.verdict == "CRASH" || scenario.verdict == "HANG",
           let step = scenario.steps.first(where: { $0.fault != nil }) {
            let lines = ["step \(step.number) (\(step.action)): \(step.error ?? scenario.verdict)"] + (step.kernel_report ?? [])
            return limited(lines.joined(separator: "\n"))
        }
        if scenario.verdict == "FAIL" {
            for step in scenario.steps {
                if let failed = step.expectations.first(where: { $0.verdict == "FAIL" }) {
                    return limited("step \(step.number) (\(step.action)): " + failure(of: failed))
                }
            }
        }
        return (scenario.reason ?? scenario.detail).map(limited)
    }

    static func failure(of expectation: SavedReport.Expectation) -> String {
        var lines = [expectation.summary]
        lines += expectation.mismatches.map { "\($0.assertion): expected \($0.expected), observed \($0.observed)" }
        if let citation = expectation.citation { lines.append("cites \(citation.file) \(citation.function)") }
        return lines.joined(separator: "\n")
    }

    static func limited(_ text: String) -> String {
        guard text.utf8.count > excerptLimit else { return text }
        var cut = String(decoding: text.utf8.prefix(excerptLimit - 16), as: UTF8.self)
        if cut.last == "\u{FFFD}" { cut.removeLast() }
        return cut + "\n[cut]"
    }

    /// `pteinspect.NAME` or `pteinspect.NAME.KIND` for NAME[KIND]; KCIDB's path segments are
    /// letters, digits, `_` and `-`.
    public static func path(of scenario: String) -> String {
        var name = scenario
        var kind: String?
        if name.hasSuffix("]"), let open = name.firstIndex(of: "[") {
            kind = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            name = String(name[..<open])
        }
        return (["pteinspect", identifier(name)] + (kind.map { [identifier($0)] } ?? [])).joined(separator: ".")
    }

    /// `text` with every character KCIDB's path and ids do not take as `_`.
    static func identifier(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            let ok = (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || scalar == "-" || scalar == "_"
            return ok ? Character(scalar) : "_"
        })
    }

    /// The run id of a report's test ids: FNV-1a 64 of its bytes (a report holds the run's
    /// addresses and PFNs: two runs' reports differ), 16 hex digits.
    public static func runID(of data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private func uniqued(_ objects: [JSONValue]) -> [JSONValue] {
        var seen = Set<String>()
        return objects.filter { seen.insert($0.rendered()).inserted }
    }
}
