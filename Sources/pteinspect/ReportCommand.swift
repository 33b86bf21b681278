import ArgumentParser
import Foundation
import PteInspectKit

/// `pteinspect report diff|table|html|dot`: reading saved scenario reports (JSON), no kernel needed.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare saved scenario reports (JSON) across kernels, or draw them (HTML, DOT).",
        discussion: """
            Reports come from `pteinspect scenario run --format json` or `--json-out FILE` (tools/run \
            writes one per kernel into .cache/run/). Nothing is run and no root is needed.
            """,
        subcommands: [ReportDiffCommand.self, ReportTableCommand.self, ReportMatrixCommand.self, ReportHTMLCommand.self, ReportDOTCommand.self, ReportKCIDBCommand.self])
}

struct ReportDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Every watched field and expectation verdict that differs between two reports, step by step.",
        discussion: """
            For a kernel engineer's question "what does my patch change": run the same scenarios on the \
            stock kernel and on yours, then diff the two reports. Exit status 0 when nothing differs, 1 \
            when something does, 2 when a report cannot be read.
            """)

    @Argument(help: "The first (old) report.", completion: .file(extensions: ["json", "jsonl"]))
    var old: String

    @Argument(help: "The second (new) report.", completion: .file(extensions: ["json", "jsonl"]))
    var new: String

    func run() throws {
        let diff: ReportDiff
        do {
            diff = ReportDiff(old: try SavedReport.load(old), new: try SavedReport.load(new))
        } catch {
            var stderr = StandardError()
            print("pteinspect: \(error)", to: &stderr)
            throw ExitStatus.cannotRun
        }
        print(diff.render(), terminator: "")
        if !diff.isEmpty { throw ExitStatus.failure }
    }
}

struct ReportTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "One row per scenario, one column per report (kernel): PASS / FAIL / SKIP with the reasons.",
        discussion: "Exit status 0 when no report has a FAIL, HANG or CRASH and every kernel left one, 1 otherwise, 2 when a report cannot be read.")

    @OptionGroup var files: ReportFiles

    @Option(name: .customLong("label"), help: ArgumentHelp("A column's heading, in the order of the reports (repeatable; default the kernel release).", valueName: "label"))
    var labels: [String] = []

    @Option(name: .customLong("no-report"), help: ArgumentHelp("A kernel that left no report, as a last column that says why (repeatable): tools/run's kernel that did not boot.", valueName: "label=reason"))
    var absent: [String] = []

    func validate() throws {
        if labels.count > files.reports.count { throw ValidationError("\(labels.count) --label for \(files.reports.count) reports") }
        if let bad = absent.first(where: { !$0.contains("=") }) { throw ValidationError("--no-report takes LABEL=REASON, not '\(bad)'") }
    }

    func run() throws {
        let loaded = try files.load()
        var columns: [KernelTable.Column] = loaded.enumerated().map { .report($1, label: $0 < labels.count ? labels[$0] : nil) }
        for entry in absent {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            columns.append(.absent(label: parts[0], reason: parts.count > 1 ? parts[1] : ""))
        }
        print(KernelTable.render(columns: columns), terminator: "")
        if !absent.isEmpty || loaded.contains(where: { $0.scenarios.contains { $0.verdict.isFailureVerdict } }) { throw ExitStatus.failure }
    }
}

struct ReportMatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Per report (kernel), the bit x operation matrix: for each operation that writes or moves an entry, the verdicts of the expectations after it on each bit.",
        discussion: """
            A row per operation (a verb, madvise by advice, mprotect by protection, a read or write by \
            the state of its page before: first touch, swap-in, marker, read-only entry), a column per \
            bit (write, dirty, young, soft-dirty, uffd-wp, PROT_NONE, PG_anon_exclusive, mapcount, the \
            swap entry's exclusive bit, the PTE marker, the page's data). A cell is the worst verdict \
            of the expectations that read that bit after that operation, and how many; "-" when none \
            does: a gap, not a pass. Exit status 0 when no cell is FAIL, 1 otherwise, 2 when a report \
            cannot be read.
            """)

    @OptionGroup var files: ReportFiles

    func run() throws {
        let matrices = try files.load().map(EntryMatrix.init)
        print(matrices.map { $0.render() }.joined(separator: "\n"), terminator: "")
        if matrices.contains(where: { $0.rows.contains { $0.cells.values.contains { $0.fail > 0 } } }) { throw ExitStatus.failure }
    }
}

/// The reports a command reads (JSON or JSON Lines from `pteinspect scenario run`), shared by
/// `report table|html|dot`.
struct ReportFiles: ParsableArguments {
    @Argument(help: "Reports, one per kernel, in column order (JSON from `scenario run --format json` or --json-out, or JSON Lines).",
              completion: .file(extensions: ["json", "jsonl"]))
    var reports: [String]

    func validate() throws {
        if reports.isEmpty { throw ValidationError("give at least one report (JSON from `pteinspect scenario run --format json`)") }
    }

    /// The saved reports, or the end of the command with which one cannot be read.
    func load() throws -> [SavedReport] {
        do {
            return try reports.map(SavedReport.load)
        } catch {
            var stderr = StandardError()
            print("pteinspect: \(error)", to: &stderr)
            throw ExitStatus.cannotRun
        }
    }
}

struct ReportHTMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "html",
        abstract: "One self-contained HTML file of saved reports: per step the page-state strip (changed fields marked), the object graph (SVG), the expectations.",
        discussion: """
            No script, font or network: it opens in any browser, offline. With several reports (one \
            per kernel) it starts with a scenario x kernel overview linking into each scenario.
            """)

    @OptionGroup var files: ReportFiles

    @Option(help: "The page's title.")
    var title = "pteinspect scenarios"

    @Option(name: .customLong("scenario"), help: ArgumentHelp("Only this scenario (repeatable).", valueName: "name"))
    var scenarios: [String] = []

    func run() throws {
        var loaded = try files.load()
        if !scenarios.isEmpty {
            loaded = loaded.map { $0.keeping(scenarios) }
            let found = Set(loaded.flatMap { $0.scenarios.map(\.name) })
            let missing = scenarios.filter { !found.contains($0) }
            if !missing.isEmpty {
                var stderr = StandardError()
                print("pteinspect: no scenario \(missing.joined(separator: ", ")) in the reports given", to: &stderr)
                throw ExitStatus.cannotRun
            }
        }
        print(HTMLReport.render(loaded, title: title), terminator: "")
    }
}

struct ReportDOTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dot",
        abstract: "The object graph of every step of saved reports as Graphviz DOT, one digraph per step (render with dot -Tsvg).")

    @OptionGroup var files: ReportFiles

    func run() throws {
        print(DOTReport.render(try files.load()), terminator: "")
    }
}

struct ReportKCIDBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kcidb",
        abstract: "Saved reports as KCIDB JSON (schema v5.3), for kcidb-submit: a test per scenario run and per expectation.",
        discussion: """
            Test paths are pteinspect.SCENARIO[.KIND] and, under each, .stepN.eM (step N's M-th \
            expectation). Statuses: PASS, FAIL and SKIP as they are; a HANG is ERROR; a CRASH is a \
            FAIL with the kernel's log as its log_excerpt; a scenario not run (the kernel \
            compromised) is MISS. Test ids are ORIGIN:RUN:PATH, RUN a hash of the report's bytes. \
            Without --build-id each report brings a checkout and a build of the kernel it ran on \
            (ORIGIN:linux-RELEASE[-CONFIG]); with it the tests belong to that build of your CI \
            system. Validate with kcidb-io (pip install kcidb-io; tools/kcidb-check does).
            """)

    @OptionGroup var files: ReportFiles

    @Option(help: "KCIDB origin: the CI system submitting (lowercase letters, digits, _).")
    var origin = "pteinspect"

    @Option(name: .customLong("build-id"), help: ArgumentHelp("Attach the tests to this build of your CI system (ORIGIN:ID) instead of a build of pteinspect's own.", valueName: "id"))
    var buildID: String?

    @Option(name: .customLong("config-name"), help: ArgumentHelp("The kernel configuration's name for the builds written (e.g. debug).", valueName: "name"))
    var configName: String?

    func validate() throws {
        if origin.isEmpty || !origin.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) {
            throw ValidationError("--origin takes lowercase letters, digits and _ (KCIDB's origin), not '\(origin)'")
        }
        if let buildID, buildID.split(separator: ":", maxSplits: 1).count != 2 {
            throw ValidationError("--build-id is ORIGIN:ID (KCIDB's ids), not '\(buildID)'")
        }
        if buildID != nil && configName != nil {
            throw ValidationError("--config-name names the builds pteinspect writes; with --build-id it writes none")
        }
    }

    func run() throws {
        let loaded = try files.load()
        var kcidb = KCIDBReport()
        kcidb.origin = origin
        kcidb.buildID = buildID
        kcidb.configName = configName
        let ids = files.reports.map { KCIDBReport.runID(of: FileManager.default.contents(atPath: $0) ?? Data()) }
        print(kcidb.render(Array(zip(loaded, ids)).map { (report: $0.0, runID: $0.1) }).rendered(pretty: true))
    }
}

private extension String {
    /// A scenario verdict of a saved report that is a failure: FAIL, HANG, CRASH.
    var isFailureVerdict: Bool { Verdict(rawValue: self)?.isFailure ?? false }
}
