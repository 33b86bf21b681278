/// `pteinspect report table A.json B.json ...`: one row per scenario, one column per report
/// (kernel), PASS / FAIL / SKIP / XFAIL (a known kernel bug showed); every SKIP, XFAIL and FAIL gets a numbered note with its reason, so the
/// table stays narrow enough to read (and to project).
public enum KernelTable {
    /// One column: a kernel's report under a label (default: its release and backend), or a
    /// kernel that left no report (it did not boot, its run was lost), with the reason.
    public enum Column {
        case report(SavedReport, label: String? = nil)
        case absent(label: String, reason: String)
    }

    public static func render(_ reports: [SavedReport]) -> String {
        render(columns: reports.map { .report($0) })
    }

    public static func render(columns: [Column]) -> String {
        var names: [String] = []
        for case let .report(report, _) in columns {
            for scenario in report.scenarios where !names.contains(scenario.name) { names.append(scenario.name) }
        }
        var notes: [String] = []
        func note(_ text: String) -> Int {
            if let existing = notes.firstIndex(of: text) { return existing + 1 }
            notes.append(text)
            return notes.count
        }
        func cell(_ name: String, _ column: Column) -> String {
            switch column {
            case let .absent(label, reason):
                return "NOT RUN [\(note("\(label): no report: \(reason)"))]"
            case let .report(report, _):
                guard let scenario = report.scenarios.first(where: { $0.name == name }) else { return "-" }
                guard scenario.verdict != "PASS" else { return "PASS" }
                var reason = scenario.reason ?? Self.firstFailure(scenario) ?? "no reason recorded in this report"
                if let detail = scenario.detail { reason += "\n    " + detail }
                return "\(scenario.verdict) [\(note(reason))]"
            }
        }
        // (a table of kernels none of which left a report still has a row to say so)
        let rows = (names.isEmpty ? ["(no scenario ran)"] : names).map { name in [name] + columns.map { cell(name, $0) } }
        let header = columns.map { column -> String in
            switch column {
            case let .report(report, label): return label.map { "\($0) (\(report.kernel), \(report.backend))" } ?? "\(report.kernel) (\(report.backend))"
            case let .absent(label, _): return label
            }
        }
        var out = TextTable.render(header: ["SCENARIO"] + header, rows: rows) + "\n"
        let totals = columns.map { column -> String in
            guard case let .report(report, label) = column else {
                if case let .absent(label, _) = column { return "\(label): no report" }
                return ""
            }
            let count = { (verdict: String) in report.scenarios.filter { $0.verdict == verdict }.count }
            var text = "\(label ?? report.kernel): \(count("PASS")) passed, \(count("FAIL")) failed, \(count("SKIP")) skipped"
            if count("XFAIL") > 0 { text += ", \(count("XFAIL")) XFAIL" }
            // HANG and CRASH only where they happened: a healthy kernel's line stays as it was
            if count("HANG") > 0 { text += ", \(count("HANG")) hung" }
            if count("CRASH") > 0 { text += ", \(count("CRASH")) crashed" }
            return text
        }
        out += totals.joined(separator: "; ") + "\n"
        for (i, text) in notes.enumerated() { out += "[\(i + 1)] \(text)\n" }
        return out
    }

    /// A report written before failures carried their reason: the first failed expectation, read
    /// from the steps, with its first mismatch and citation.
    static func firstFailure(_ scenario: SavedReport.Scenario) -> String? {
        for step in scenario.steps {
            guard let failed = step.expectations.first(where: { $0.verdict == "FAIL" }) else { continue }
            var text = "step \(step.number) (\(step.actor): \(step.action)): \(failed.summary)"
            if let m = failed.mismatches.first { text += "\n    \(m.assertion): expected \(m.expected), observed \(m.observed)" }
            if let c = failed.citation { text += "; per " + Citation.place(file: c.file, function: c.function) }
            return text
        }
        return nil
    }
}
