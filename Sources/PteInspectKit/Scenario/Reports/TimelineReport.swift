/// The human report: for each step, what was done, a compact table of the watched pages (changed
/// values marked with *), and each expectation with its verdict, in context.
public enum TimelineReport {
    /// Columns of the page table: a header and the fields each column shows.
    struct Column {
        let header: String
        let fields: [PageField]
        let render: (PageObservation) -> String
    }

    static func flagLetters(_ o: PageObservation, _ pairs: [(PageField, String)]) -> String {
        if pairs.allSatisfy({ o[$0.0] == nil }) { return "?" }
        let set = pairs.compactMap { field, letter -> String? in
            guard let value = o[field] else { return nil }
            return value == .bool(true) ? letter : nil
        }
        return set.isEmpty ? "-" : set.joined(separator: " ")
    }

    static func value(_ o: PageObservation, _ field: PageField) -> String {
        guard let value = o[field] else { return "?" }
        return value.description
    }

    static let columns: [Column] = [
        Column(header: "STATE", fields: [.mapped, .present, .swapped, .level]) { o in
            if o[.present] == .bool(true) { return o[.level] == .text("pmd") ? "pmd" : "present" }
            if o[.swapped] == .bool(true) { return "swap" }
            if o[.mapped] == .bool(true) { return "other" }
            return "none"
        },
        Column(header: "PFN", fields: [.pfn]) { value($0, .pfn) },
        Column(header: "PTE", fields: [.write, .dirty, .young, .special, .softDirty, .uffdWP, .protnone, .zeroPage, .swapExclusive]) { o in
            if o[.swapped] == .bool(true) {
                return flagLetters(o, [(.swapExclusive, "X"), (.softDirty, "SD"), (.uffdWP, "UW")])
            }
            return flagLetters(o, [(.write, "W"), (.dirty, "D"), (.young, "A"), (.special, "S"), (.softDirty, "SD"), (.uffdWP, "UW"), (.protnone, "PN"), (.zeroPage, "zero")])
        },
        Column(header: "PAGE", fields: [.anon, .anonExclusive, .ksm, .swapCache, .large, .folioOrder]) { o in
            let letters = flagLetters(o, [(.anon, "anon"), (.anonExclusive, "AX"), (.ksm, "ksm"), (.swapCache, "SC"), (.large, "large")])
            // A large folio's order: 9 a PMD THP, 2..8 an mTHP (neither a small page nor a PMD THP).
            guard case let .number(order)? = o[.folioOrder], order > 0 else { return letters }
            return letters + ":o\(order)"
        },
        Column(header: "MAP", fields: [.mapcount, .folioMapcount]) { o in
            // The page's own mapcount, and the folio's where it is a large folio (one counter since 6.10).
            guard case .number? = o[.folioMapcount], case let .number(order)? = o[.folioOrder], order > 0 else { return value(o, .mapcount) }
            return value(o, .mapcount) + "/" + value(o, .folioMapcount)
        },
        Column(header: "REF", fields: [.refcount]) { value($0, .refcount) },
        Column(header: "INDEX", fields: [.index, .indexIsLinear]) { o in
            guard let index = o[.index], index != .absent else { return o[.index] == nil ? "?" : "-" }
            switch o[.indexIsLinear] {
            case .bool(true): return index.description + " =lin"
            case .bool(false): return index.description + " !lin"
            default: return index.description
            }
        },
        Column(header: "PGOFF", fields: [.vmaPgoff]) { value($0, .vmaPgoff) },
        Column(header: "ANON_VMA", fields: [.vmaAnonVma]) { o in
            guard case let .hex(id)? = o[.vmaAnonVma] else { return value(o, .vmaAnonVma) }
            return String(String(id, radix: 16).suffix(6))
        },
        Column(header: "RMAP", fields: [.rmap]) { o in
            guard case let .set(hits)? = o[.rmap] else { return value(o, .rmap) }
            return String(hits.count)
        },
        // The page's first 4 bytes: "s4" the tag of step 4's write (a step has one actor: it
        // says who), "s4+1" that write's page +1 (a page mapped elsewhere shows that), 0, or hex.
        Column(header: "DATA", fields: [.data]) { o in
            guard case let .hex(raw)? = o[.data] else { return value(o, .data) }
            guard let tag = ContentTag(value: UInt32(truncatingIfNeeded: raw)) else { return raw == 0 ? "0" : "0x" + String(raw, radix: 16) }
            return "s\(tag.step)" + (tag.page == 0 ? "" : "+\(tag.page)")
        },
    ]

    public static func header(backend: String, kernel: String) -> String {
        "pteinspect scenarios on \(kernel), \(backend) backend\n"
    }

    /// `progress`: where the run is ("3/21, 0:42" — this scenario's number of how many, and the
    /// time since the run began), for a long run read as it goes.
    public static func scenarioHeader(_ scenario: Scenario, progress: String? = nil) -> String {
        "\n== \(scenario.name): \(scenario.title)" + (progress.map { "   [\($0)]" } ?? "") + "\n"
    }

    /// "3/21, 1:05" from a scenario's number, the planned count and the seconds since the start.
    public static func progress(number: Int, of planned: Int, elapsed: Double) -> String {
        let seconds = max(0, Int(elapsed.rounded()))
        return "\(number)/\(planned), \(seconds / 60):" + String(format: "%02d", seconds % 60)
    }

    public static func render(step: StepResult) -> String {
        var out = "-- step \(step.number)  \(step.step.description)"
        out += "  => \(step.outcome.description)\n"
        if let error = step.error {
            out += "   \(step.fault?.rawValue ?? "ERROR")  \(error)\n"
        }
        for line in step.kernelReport { out += "         | \(line)\n" }
        if !step.pages.isEmpty {
            let rows = step.pages.map { page -> [String] in
                let changed = step.changed[page.ref] ?? []
                return [page.ref.description, "0x" + (page.location.split(separator: "x").last.map(String.init) ?? "")]
                    + columns.map { column in
                        let text = column.render(page.observation)
                        return column.fields.contains(where: changed.contains) ? text + "*" : text
                    }
            }
            let table = TextTable.render(header: ["PAGE", "ADDR"] + columns.map(\.header), rows: rows)
            out += table.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "   " + $0 }.joined(separator: "\n")
            if !out.hasSuffix("\n") { out += "\n" }
        }
        for result in step.expectations {
            out += "   \(result.verdict.rawValue)  \(result.expectation.summary)\n"
            switch result.verdict {
            case .pass: break
            case .skip: out += "         \(result.reason ?? "")\n"
            case .xfail, .fail, .hang, .crash:
                if result.verdict == .xfail { out += "         \(result.reason ?? "")\n" }
                for mismatch in result.mismatches {
                    out += "         \(mismatch.assertion): expected \(mismatch.expected), observed \(mismatch.observed)\n"
                }
                out += "         per \(result.expectation.citation) (kernels \(result.expectation.kernels))\n"
            }
        }
        return out
    }

    public static func verdictLine(_ result: ScenarioResult) -> String {
        let results = result.expectationResults
        let counts = [Verdict.pass, .fail, .skip, .xfail].map { verdict in results.filter { $0.verdict == verdict }.count }
        var line = "=> \(result.scenario.name): \(result.verdict.rawValue)"
        if result.verdict != .skip || !results.isEmpty {
            let xfail = counts[3] > 0 ? ", \(counts[3]) known kernel bugs showed (XFAIL)" : ""
            line += " (\(counts[0]) passed, \(counts[1]) failed, \(counts[2]) skipped expectations\(xfail))"
        }
        if let reason = result.reason { line += ": \(reason)" }
        if result.verdict.isFailure || result.verdict == .xfail, let detail = result.detail { line += "\n   " + detail }
        return line + "\n"
    }

    public static func summary(_ results: [ScenarioResult]) -> String {
        var out = "\nSummary\n"
        var failures: [String] = []
        let rows = results.map { result -> [String] in
            let r = result.expectationResults
            var why = ""
            if result.verdict == .skip {
                why = result.reason ?? ""
                // the same long reason on every row after a stop: said once, under the table
                if why.hasPrefix("not run: the kernel is compromised") { why = "not run: the kernel is compromised (RUN STOPPED, below)" }
            }
            if result.verdict == .xfail { why = "known kernel bug: " + (result.reason ?? "") }
            if result.verdict.isFailure {
                failures.append("[\(failures.count + 1)] \(result.scenario.name): \(result.reason ?? "")" + (result.detail.map { "\n    " + $0 } ?? ""))
                why = "[\(failures.count)]"
            }
            return [result.scenario.name, result.verdict.rawValue, "\(r.filter { $0.verdict == .pass }.count)",
                    "\(r.filter { $0.verdict == .fail }.count)", "\(r.filter { $0.verdict == .skip }.count)", why]
        }
        out += TextTable.render(header: ["SCENARIO", "RESULT", "PASS", "FAIL", "SKIP", failures.isEmpty && !results.contains { $0.verdict == .xfail } ? "WHY SKIPPED" : "WHY"], rows: rows)
        if !failures.isEmpty { out += "\n" + failures.joined(separator: "\n") + "\n" }
        out += kindTable(results)
        out += "\nscenarios: \(counts(results))\n"
        return out
    }

    /// The scenarios run over page kinds as one table: a row per kind, a column per scenario (a
    /// kind list is longer than a scenario list, and kind names are short: it fits a projector),
    /// each cell the run's verdict; "." where the scenario does not run over that kind. Empty
    /// when no scenario has kinds.
    public static func kindTable(_ results: [ScenarioResult]) -> String {
        let runs = results.filter { $0.scenario.kind != nil }
        guard !runs.isEmpty else { return "" }
        var scenarios: [String] = []
        var kinds: [PageKind] = []
        for run in runs {
            if !scenarios.contains(run.scenario.baseName) { scenarios.append(run.scenario.baseName) }
            if let kind = run.scenario.kind, !kinds.contains(kind) { kinds.append(kind) }
        }
        let rows = kinds.map { kind in
            [kind.description] + scenarios.map { name in
                runs.first { $0.scenario.baseName == name && $0.scenario.kind == kind }?.verdict.rawValue ?? "."
            }
        }
        return "\nScenarios x page kinds\n" + TextTable.render(header: ["KIND"] + scenarios, rows: rows)
    }

    /// `scenario explain`: the steps, the expectations and their citations, without running.
    public static func explain(_ scenario: Scenario) -> String {
        var out = "\(scenario.name): \(scenario.title)\n\n\(scenario.summary)\n"
        if !scenario.documents.isEmpty { out += "\nBackground: " + scenario.documents.map { "seed \($0)" }.joined(separator: "; ") + " (shared/seeds/)\n" }
        out += "Requires: " + (scenario.requirements.isEmpty ? "nothing" : scenario.requirements.map(\.description).joined(separator: ", ")) + "\n"
        out += "Actors: " + scenario.actors.joined(separator: ", ") + " (spawned workers; forks become actors too)\n"
        out += "Watched pages: " + scenario.watch.map(\.description).joined(separator: ", ") + "\n"
        out += "Data check: after every step, each watched page the module can read holds what its actor wrote or inherited "
            + "(citing the kernel path of each step's operation: a fork's copy, a swap-in's read, a write's COW copy...; docs/scenario-format.md, Data checks)\n"
        for (i, step) in scenario.steps.enumerated() {
            out += "\n\(i + 1). \(step.description)" + (step.label.map { "   [label: \($0)]" } ?? "") + "\n"
            for expectation in step.expectations {
                out += "   expect: \(expectation.summary)\n"
                for assertion in expectation.assertions { out += "     - \(assertion.description)\n" }
                out += "     kernels: \(expectation.kernels) (\(expectation.kernels.basis))\n"
                if let bug = expectation.knownBug {
                    out += "     known bug on \(bug.kernels.map(\.description).joined(separator: "; ")): \(bug.bug)\n"
                }
                if !expectation.requirements.isEmpty {
                    out += "     requires: \(expectation.requirements.map(\.description).joined(separator: ", "))\n"
                }
                out += "     source: \(expectation.citation)\n"
                let fields = expectation.fields.sorted().map(\.description)
                if !fields.isEmpty { out += "     needs: \(fields.joined(separator: ", "))\n" }
            }
        }
        return out
    }

    /// "N passed, N failed, N skipped" and, where there were any, "N XFAIL", "N hung, N crashed".
    public static func counts(_ results: [ScenarioResult]) -> String {
        let count = { (verdict: Verdict) in results.filter { $0.verdict == verdict }.count }
        var text = "\(count(.pass)) passed, \(count(.fail)) failed, \(count(.skip)) skipped"
        if count(.xfail) > 0 { text += ", \(count(.xfail)) XFAIL (a known kernel bug showed)" }
        if count(.hang) > 0 || count(.crash) > 0 { text += ", \(count(.hang)) hung, \(count(.crash)) crashed" }
        return text
    }
}
