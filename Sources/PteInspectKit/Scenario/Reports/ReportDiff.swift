/// `pteinspect report diff A.json B.json`: every watched field whose observed value differs
/// between two runs of the same scenarios (6.1 against 6.12, a stock kernel against a patched
/// one), step by step, whether or not an expectation covers it; and every expectation whose
/// verdict differs.
///
/// Values that only name things (PFNs, page offsets, anon_vma identities, addresses) differ from
/// one run to the next by nature; what two runs can agree on is which of them are equal to which.
/// Each such value is replaced by its order of first appearance in its scenario ("pfn#2"), the
/// same walk on both sides, so "the page kept its PFN" compares equal and "a new page" does not.
/// Step outcomes lose their pids and user addresses the same way (withoutRunIdentities). What the
/// kernel leaves to chance still shows (a swapped-in page that happens to get its old PFN back on
/// one side): read a PFN difference after swap-in or allocation as chance unless it repeats.
public struct ReportDiff {
    public struct FieldChange: Equatable {
        public let page: String
        public let field: String
        public let old: String
        public let new: String
    }

    public struct VerdictChange: Equatable {
        public let expectation: String
        public let old: String
        public let new: String
        /// The SKIP reason or first mismatch on the side that is not PASS.
        public let detail: String?
    }

    public struct StepDiff: Equatable {
        public let number: Int
        public let action: String
        public var outcome: (old: String, new: String)?
        public var fields: [FieldChange] = []
        public var verdicts: [VerdictChange] = []

        public static func == (a: StepDiff, b: StepDiff) -> Bool {
            a.number == b.number && a.action == b.action && a.outcome?.old == b.outcome?.old && a.outcome?.new == b.outcome?.new
                && a.fields == b.fields && a.verdicts == b.verdicts
        }
    }

    public struct ScenarioDiff {
        public let name: String
        public let verdicts: (old: String, new: String)
        /// Steps that differ in anything, in order.
        public var steps: [StepDiff] = []
        /// Set when the two runs did not run the same steps (a different catalog, or a step that
        /// failed on one side): the comparison stops at the first step that differs.
        public var shape: String?
    }

    public let old: SavedReport
    public let new: SavedReport
    public private(set) var scenarios: [ScenarioDiff] = []
    /// Scenarios that are in one report only.
    public private(set) var onlyOld: [String] = []
    public private(set) var onlyNew: [String] = []

    public init(old: SavedReport, new: SavedReport) {
        self.old = old
        self.new = new
        let newByName = Dictionary(new.scenarios.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let oldNames = Set(old.scenarios.map(\.name))
        onlyNew = new.scenarios.map(\.name).filter { !oldNames.contains($0) }
        for a in old.scenarios {
            guard let b = newByName[a.name] else { onlyOld.append(a.name); continue }
            scenarios.append(Self.compare(a, b))
        }
    }

    /// True when nothing differs.
    public var isEmpty: Bool {
        onlyOld.isEmpty && onlyNew.isEmpty && scenarios.allSatisfy { $0.steps.isEmpty && $0.shape == nil && $0.verdicts.old == $0.verdicts.new }
    }

    static func compare(_ a: SavedReport.Scenario, _ b: SavedReport.Scenario) -> ScenarioDiff {
        var diff = ScenarioDiff(name: a.name, verdicts: (a.verdict, b.verdict))
        var namesA = IdentityNames(), namesB = IdentityNames()
        for (stepA, stepB) in zip(a.steps, b.steps) {
            guard stepA.number == stepB.number, stepA.action == stepB.action, stepA.actor == stepB.actor else {
                diff.shape = "step \(stepA.number) is '\(stepA.actor): \(stepA.action)' in one report and '\(stepB.actor): \(stepB.action)' in the other"
                break
            }
            var step = StepDiff(number: stepA.number, action: "\(stepA.actor): \(stepA.action)")
            let outcomeA = Self.withoutRunIdentities(stepA.outcome), outcomeB = Self.withoutRunIdentities(stepB.outcome)
            if outcomeA != outcomeB { step.outcome = (outcomeA, outcomeB) }
            let pagesB = Dictionary(stepB.pages.map { ($0.page, $0) }, uniquingKeysWith: { first, _ in first })
            for pageA in stepA.pages {
                let pageB = pagesB[pageA.page]
                for field in Set(pageA.fields.keys).union(pageB?.fields.keys ?? [:].keys).sorted() {
                    let valueA = pageA.fields[field].map { namesA.name($0, field: field) } ?? "(not seen)"
                    let valueB = pageB.map { $0.fields[field].map { namesB.name($0, field: field) } ?? "(not seen)" } ?? "(page not watched)"
                    if valueA != valueB { step.fields.append(FieldChange(page: pageA.page, field: field, old: valueA, new: valueB)) }
                }
            }
            let expectationsB = Dictionary(stepB.expectations.map { ($0.summary, $0) }, uniquingKeysWith: { first, _ in first })
            for expectationA in stepA.expectations {
                guard let expectationB = expectationsB[expectationA.summary], expectationA.verdict != expectationB.verdict else { continue }
                let notPass = expectationB.verdict == "PASS" ? expectationA : expectationB
                let detail = notPass.reason ?? notPass.mismatches.first.map { "\($0.assertion): expected \($0.expected), observed \($0.observed)" }
                step.verdicts.append(VerdictChange(expectation: expectationA.summary, old: expectationA.verdict, new: expectationB.verdict, detail: detail))
            }
            if step.outcome != nil || !step.fields.isEmpty || !step.verdicts.isEmpty { diff.steps.append(step) }
        }
        if diff.shape == nil, a.steps.count != b.steps.count {
            if a.steps.isEmpty || b.steps.isEmpty {
                let skipped = a.steps.isEmpty ? a : b
                diff.shape = "not run on \(a.steps.isEmpty ? "the first" : "the second") kernel: \(skipped.reason ?? skipped.verdict)"
            } else {
                diff.shape = "one report has \(a.steps.count) steps, the other \(b.steps.count)"
            }
        }
        return diff
    }

    /// A step's outcome without what every run draws anew: pids ("pid 268", "/proc/268/") and
    /// user-space addresses (12 hex digits, "0x7f01de55e000"). Other numbers stay: a feature
    /// mask (UFFDIO_API's "features=0x1fff") is what a kernel has.
    static func withoutRunIdentities(_ text: String) -> String {
        let chars = Array(text)
        var out = "", i = 0
        func run(from start: Int, _ accept: (Character) -> Bool) -> Int {
            var j = start
            while j < chars.count, accept(chars[j]) { j += 1 }
            return j
        }
        func has(_ prefix: String, at index: Int) -> Bool {
            let p = Array(prefix)
            return index + p.count <= chars.count && Array(chars[index..<(index + p.count)]) == p
        }
        while i < chars.count {
            if has("pid ", at: i), case let end = run(from: i + 4, { $0.isNumber }), end > i + 4 {
                out += "pid <pid>"; i = end; continue
            }
            if has("/proc/", at: i), case let end = run(from: i + 6, { $0.isNumber }), end > i + 6 {
                out += "/proc/<pid>"; i = end; continue
            }
            if has("0x", at: i), case let end = run(from: i + 2, { $0.isHexDigit }), end - (i + 2) == 12 {
                out += "0x<addr>"; i = end; continue
            }
            out.append(chars[i]); i += 1
        }
        return out
    }

    /// The text `report diff` prints.
    public func render() -> String {
        var out = "report diff: \(old.kernel) (\(old.backend)) -> \(new.kernel) (\(new.backend))\n"
        out += "identities (PFNs, page offsets, anon_vmas, addresses) are compared by which equal which: #n is the n-th seen in the scenario\n"
        for name in onlyOld { out += "\n\(name): only in the first report\n" }
        for name in onlyNew { out += "\n\(name): only in the second report\n" }
        var same: [String] = []
        for scenario in scenarios {
            guard !scenario.steps.isEmpty || scenario.shape != nil || scenario.verdicts.old != scenario.verdicts.new else {
                same.append(scenario.name); continue
            }
            out += "\n\(scenario.name): \(scenario.verdicts.old) -> \(scenario.verdicts.new)\n"
            for step in scenario.steps {
                out += "  step \(step.number) (\(step.action))\n"
                if let outcome = step.outcome { out += "    outcome: \(outcome.old) -> \(outcome.new)\n" }
                for change in step.fields { out += "    \(change.page) \(change.field): \(change.old) -> \(change.new)\n" }
                for change in step.verdicts {
                    out += "    expectation \"\(change.expectation)\": \(change.old) -> \(change.new)"
                    out += change.detail.map { " (\($0))" } ?? ""
                    out += "\n"
                }
            }
            if let shape = scenario.shape { out += "  the runs differ in shape: \(shape); compared up to there\n" }
        }
        if !same.isEmpty { out += "\nno difference: \(same.joined(separator: ", "))\n" }
        return out
    }
}

/// Names identity values by first appearance, per kind of identity.
struct IdentityNames {
    private var seen: [String: [String: Int]] = [:]

    /// The kind of identity a field holds, or nil for a field compared as it is.
    static func kind(of field: String) -> String? {
        switch field {
        case "pfn": return "pfn"
        case "index", "linear_page_index", "linear_anon_page_index", "addr>>PAGE_SHIFT", "vma.vm_pgoff", "vma.anon_pgoff": return "pgoff"
        case "page.anon_vma", "vma.anon_vma", "vma.anon_vma.root", "vma.anon_vma_chain": return "anon_vma"
        case "rmap": return "addr"
        case "swap.slot": return "slot"
        default: return nil
        }
    }

    mutating func name(_ value: SavedReport.Value, field: String) -> String {
        guard let kind = Self.kind(of: field) else { return value.description }
        switch value {
        case let .text(text): return rename(text, kind)
        case let .number(number): return rename(String(number), kind)
        case let .list(items): return "{" + items.map { rename($0, kind) }.sorted().joined(separator: ", ") + "}"
        default: return value.description
        }
    }

    /// A whole value, or every 0x... inside it (rmap hits read "parent@0x7f...").
    private mutating func rename(_ text: String, _ kind: String) -> String {
        guard let at = text.range(of: "@0x") else { return label(text, kind) }
        return text[..<at.lowerBound] + "@" + label(String(text[at.upperBound...]), kind)
    }

    private mutating func label(_ raw: String, _ kind: String) -> String {
        var table = seen[kind, default: [:]]
        let n = table[raw] ?? table.count + 1
        table[raw] = n
        seen[kind] = table
        return "\(kind)#\(n)"
    }
}
