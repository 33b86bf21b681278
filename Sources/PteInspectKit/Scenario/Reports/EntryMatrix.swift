/// The bit x operation matrix of one kernel's report: for each operation that writes or moves an
/// entry (a row), what the expectations after it say of each bit an entry must carry (a column).
/// Derived from the report alone: a step's row is its action's `operation` (the verb, with
/// madvise's advice or mprotect's protection), a read or write qualified by the state its page
/// was in before (a swap-in is not a first touch); an expectation counts in every column whose
/// field its checks read. A cell with no expectation is a gap ("-"), never a pass.
public struct EntryMatrix {
    /// The columns: the bits and per-page state a rebuilt entry must keep, in the order shown.
    public static let bits: [PageField] = [
        .write, .dirty, .young, .softDirty, .pagemapSoftDirty, .uffdWP, .protnone, .anonExclusive, .mapcount,
        .swapExclusive, .pteMarker, .data,
    ]

    /// The verdicts of the expectations that fall in one cell.
    public struct Cell: Equatable {
        public var pass = 0, fail = 0, xfail = 0, skip = 0

        /// The worst verdict and how many expectations it covers ("PASS 3", "FAIL 1", "-").
        public var label: String {
            if fail > 0 { return "FAIL \(fail)" }
            if xfail > 0 { return "XFAIL \(xfail)" }
            if pass > 0 { return "PASS \(pass)" }
            if skip > 0 { return "SKIP \(skip)" }
            return "-"
        }

        mutating func add(_ verdict: String) {
            switch verdict {
            case Verdict.pass.rawValue: pass += 1
            case Verdict.xfail.rawValue: xfail += 1
            case Verdict.skip.rawValue: skip += 1
            default: fail += 1
            }
        }
    }

    public struct Row {
        public let operation: String
        public var cells: [PageField: Cell]
        /// The scenarios whose steps fall in this row.
        public var scenarios: Set<String>
    }

    public let kernel: String
    public private(set) var rows: [Row] = []

    public init(_ report: SavedReport) {
        kernel = report.kernel
        var byOperation: [String: Row] = [:]
        for scenario in report.scenarios {
            var before: [String: SavedReport.Page] = [:]
            for step in scenario.steps {
                if let operation = Self.operation(of: step, before: before) {
                    var row = byOperation[operation] ?? Row(operation: operation, cells: [:], scenarios: [])
                    row.scenarios.insert(scenario.name)
                    for expectation in step.expectations {
                        let fields = Set(expectation.fields ?? [])
                        for bit in Self.bits where fields.contains(bit.description) {
                            row.cells[bit, default: Cell()].add(expectation.verdict)
                        }
                    }
                    byOperation[operation] = row
                }
                for page in step.pages { before[page.page] = page }
            }
        }
        rows = byOperation.values.sorted { $0.operation < $1.operation }
    }

    /// Verbs that neither write nor move an entry of the watched pages (mapping a name, opening a
    /// userfaultfd, a setting, a wait) are not rows.
    static let notOperations: Set<String> = Set(([
        MapAnon.self, MapFile.self, MapTHP.self, MapKind.self, MapFixture.self, UffdOpen.self, UffdRegister<Loc>.self,
        Setting.self, WaitForKsm.self, Drain.self, Swapon.self, VmspliceDrop<Loc>.self, MemRead.self,
    ] as [any ScenarioVerb.Type]).map { $0.name })
    /// Verbs that touch their page (a fault where the entry does not allow the access).
    static let accesses: Set<String> = Set(([Read<Loc>.self, Write<Loc>.self, MemWrite.self] as [any ScenarioVerb.Type]).map { $0.name })

    /// A step's row: its action's operation, a read or write qualified by its page's state before.
    static func operation(of step: SavedReport.Step, before: [String: SavedReport.Page]) -> String? {
        guard let operation = step.operation else { return nil }
        guard !notOperations.contains(operation) else { return nil }
        guard accesses.contains(operation) else { return operation }
        guard let touched = step.touches?.first else { return operation }
        guard let page = before[touched] else { return "\(operation): first touch" }
        func flag(_ field: PageField) -> Bool { page.fields[field.description]?.description == "1" }
        if flag(.swapped) { return "\(operation): swap-in" }
        if let marker = page.fields[PageField.pteMarker.description], marker != .null { return "\(operation): marker" }
        if flag(.protnone) { return "\(operation): PROT_NONE entry" }
        if !flag(.mapped) { return "\(operation): first touch" }
        if operation.hasSuffix("write") && !flag(.write) { return "\(operation): read-only entry" }
        return "\(operation): present"
    }

    /// Short column headings for the text table.
    static func heading(_ bit: PageField) -> String {
        switch bit {
        case .write: return "write"
        case .dirty: return "dirty"
        case .young: return "young"
        case .softDirty: return "soft-dirty"
        case .pagemapSoftDirty: return "pagemap-sd"
        case .uffdWP: return "uffd-wp"
        case .protnone: return "protnone"
        case .anonExclusive: return "anon-excl"
        case .mapcount: return "mapcount"
        case .swapExclusive: return "swp-excl"
        case .pteMarker: return "marker"
        case .data: return "data"
        default: return bit.description
        }
    }

    /// The matrix as a text table: a row per operation, a column per bit.
    public func render() -> String {
        let header = ["OPERATION"] + Self.bits.map(Self.heading)
        let body = rows.map { row in [row.operation] + Self.bits.map { row.cells[$0]?.label ?? "-" } }
        let table = [header] + body
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        var text = "Bit x operation matrix on \(kernel) (cell: the worst verdict of the expectations after that operation that read that bit, and how many; - none)\n"
        for line in table {
            text += zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ").trimmingTrailingSpaces() + "\n"
        }
        let gaps = rows.reduce(0) { total, row in total + Self.bits.filter { row.cells[$0] == nil }.count }
        text += "\(rows.count) operations x \(Self.bits.count) bits: \(rows.count * Self.bits.count - gaps) cells checked, \(gaps) not\n"
        return text
    }
}
