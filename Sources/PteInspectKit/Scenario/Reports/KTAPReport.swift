/// `scenario run --format ktap`: the kernel's selftest format (Documentation/dev-tools/ktap.rst):
/// a version line, a plan, one result line per scenario with its expectations as a subtest
/// (indented four spaces), `# SKIP reason` directives, `# XFAIL reason` for a known kernel bug that
/// showed (an `ok` line, as kselftest's ksft_test_result_xfail() prints it), and `#` diagnostic
/// lines for failures and XFAILs.
public enum KTAPReport {
    static func clean(_ text: String) -> String {
        // A description may not contain '#' (it starts a directive) or a newline.
        text.replacingOccurrences(of: "#", with: "no.").replacingOccurrences(of: "\n", with: " ")
    }

    public static func render(_ results: [ScenarioResult]) -> String {
        header(count: results.count) + results.enumerated().map { render($1, number: $0 + 1) }.joined()
    }

    /// The version line and the plan: printed before the first scenario runs, so that a run cut
    /// short still says how many results were due.
    public static func header(count: Int) -> String {
        "KTAP version 1\n1..\(count)\n"
    }

    /// The lines a run that ends early prints for the scenario it was in (then nothing more): a
    /// failed result with the reason as diagnostics. The plan says how many results are missing.
    public static func cutShort(name: String, number: Int, why: String) -> String {
        "# \(clean(why))\nnot ok \(number) \(name)\n"
    }

    /// The `#` lines before a failed or XFAIL expectation's result: each mismatch, the citation.
    static func diagnostics(_ expectation: ExpectationResult) -> [String] {
        expectation.mismatches.map { "# \(clean($0.assertion)): expected \(clean($0.expected)), observed \(clean($0.observed))" }
            + ["# per \(clean(expectation.expectation.citation.description))"]
    }

    /// One scenario's result: its expectations as a subtest, then its own result line.
    /// `seconds`, when given, is how long the scenario took: a diagnostic line before its result
    /// line (where to look when a run gets slow; KTAP readers skip it).
    public static func render(_ result: ScenarioResult, number position: Int, seconds: Double? = nil) -> String {
        var out = ""
        let name = result.scenario.name
        let took = seconds.map { "# \(name) took " + String(format: "%.1f", $0) + " s\n" } ?? ""
        if result.verdict == .skip && result.steps.isEmpty {
            return took + "ok \(position) \(name) # SKIP \(clean(result.reason ?? ""))\n"
        }
        var lines: [String] = []
        for step in result.steps {
            for expectation in step.expectations {
                let description = clean("step \(step.number): \(expectation.expectation.summary)")
                switch expectation.verdict {
                case .pass: lines.append("ok \(lines.count + 1) \(description)")
                case .skip: lines.append("ok \(lines.count + 1) \(description) # SKIP \(clean(expectation.reason ?? ""))")
                case .xfail:
                    lines += diagnostics(expectation)
                    let number = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }.count + 1
                    lines.append("ok \(number) \(description) # XFAIL \(clean(expectation.reason ?? ""))")
                case .fail, .hang, .crash:
                    lines += diagnostics(expectation)
                    let number = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }.count + 1
                    lines.append("not ok \(number) \(description)")
                }
            }
            if let error = step.error {
                let number = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }.count + 1
                lines.append("# \(step.fault.map { $0.rawValue + ": " } ?? "")\(clean(error))")
                lines += step.kernelReport.map { "# | " + clean($0) }
                lines.append("not ok \(number) \(clean("step \(step.number): \(step.step.description)"))")
            }
        }
        // Renumber the ok lines that were counted before failures were interleaved.
        var number = 0
        lines = lines.map { line in
            if line.hasPrefix("ok ") || line.hasPrefix("not ok ") {
                number += 1
                let prefix = line.hasPrefix("ok ") ? "ok" : "not ok"
                let rest = line.dropFirst(prefix.count + 1).drop { $0 != " " }
                return "\(prefix) \(number)\(rest)"
            }
            return line
        }
        // No subtest block when there is no result in it: kunit_parser reads "1..0" as NO_TESTS
        // ("no tests run"), not as the scenario's own ok; its diagnostics stay.
        if number > 0 {
            out += "    KTAP version 1\n    # Subtest: \(name)\n    1..\(number)\n"
            out += lines.map { "    " + $0 + "\n" }.joined()
        } else {
            out += lines.map { $0 + "\n" }.joined()
        }
        let directive = result.verdict == .skip || result.verdict == .xfail ? " # \(result.verdict.rawValue) \(clean(result.reason ?? ""))" : ""
        if result.verdict == .hang || result.verdict == .crash { out += "# \(result.verdict.rawValue)\n" }
        // What failed, at the top level too: parsers that drop indented subtests (LKFT, LKP) keep it.
        if result.verdict.isFailure, let reason = result.reason {
            out += "# \(clean(reason))\n"
            if let detail = result.detail { out += "# \(clean(detail))\n" }
        }
        out += took
        out += "\(result.verdict.isFailure ? "not ok" : "ok") \(position) \(name)\(directive)\n"
        return out
    }
}
