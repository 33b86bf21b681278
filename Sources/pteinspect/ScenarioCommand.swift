import ArgumentParser
import Foundation
import Glibc
import PteInspectKit

/// `pteinspect scenario list|run|explain`.
struct ScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Run real kernel operations and check the kernel's state after each step.",
        discussion: """
            Each scenario drives helper processes (actors) through mmap, fork, mremap, madvise, \
            userfaultfd, KSM, pinning and PFN-map steps and checks expectations that cite the kernel \
            source they follow. Results: PASS, FAIL (expected vs observed), SKIP (why). \
            \(ExitStatus.text)
            """,
        subcommands: [ScenarioList.self, ScenarioRun.self, ScenarioExplain.self, ScenarioExport.self, ScenarioKconfig.self],
        defaultSubcommand: ScenarioRun.self)
}

/// Where scenarios come from: the built-in catalog, or scenario files (`--file`, docs/scenario-format.md).
struct ScenarioSource: ParsableArguments {
    @Option(name: .customLong("file"), help: ArgumentHelp(
        "A scenario file, or a folder of them (*.yaml), instead of the built-in catalog (docs/scenario-format.md). Repeatable.",
        valueName: "path"), completion: .file(extensions: ["yaml"]))
    var files: [String] = []

    /// The scenarios to choose from; a file with a mistake ends the command with its file:line:column.
    func scenarios() throws -> [Scenario] {
        guard !files.isEmpty else {
            do {
                return try ScenarioCatalog.load()
            } catch {
                var stderr = StandardError()
                print("pteinspect: \(error)", to: &stderr)
                throw ExitStatus.cannotRun
            }
        }
        var loaded: [Scenario] = []
        for path in files {
            do {
                loaded += try ScenarioFile.load(path: path)
            } catch let error as ScenarioFileError {
                var stderr = StandardError()
                print("pteinspect: \(error)", to: &stderr)
                throw ExitStatus.cannotRun
            }
        }
        var seen = Set<String>()
        for scenario in loaded where !seen.insert(scenario.name).inserted {
            var stderr = StandardError()
            print("pteinspect: two scenario files name their scenario '\(scenario.name)': names must be unique in one run", to: &stderr)
            throw ExitStatus.cannotRun
        }
        return loaded
    }

    /// The ones `names` picks (all when empty): a name, or a scenario with kinds by its file's name
    /// (every kind) or `NAME[KIND]` (one); an unknown name ends the command, listing the known.
    func pick(_ names: [String]) throws -> [Scenario] {
        let all = try scenarios()
        guard !names.isEmpty else { return all }
        func picked(_ scenario: Scenario, _ name: String) -> Bool { scenario.name == name || scenario.baseName == name }
        let unknown = names.filter { name in !all.contains { picked($0, name) } }
        guard unknown.isEmpty else {
            var stderr = StandardError()
            print("pteinspect: no scenario \(unknown.joined(separator: ", ")) \(files.isEmpty ? "in the catalog" : "in the files given"); known: \(all.map(\.name).joined(separator: ", "))", to: &stderr)
            throw ExitStatus.cannotRun
        }
        // In the order asked, each once (a NAME and its NAME[KIND] name one run).
        var seen = Set<String>()
        return names.flatMap { name in all.filter { picked($0, name) } }.filter { seen.insert($0.name).inserted }
    }
}

struct ScenarioList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the scenarios (checks scenario files given with --file).")

    @OptionGroup var source: ScenarioSource

    @Flag(help: "Print only the names, one per line (a scenario over kinds as NAME[KIND], one line per kind), for scripts.")
    var names = false

    func run() throws {
        let scenarios = try source.scenarios()
        if names {
            for scenario in scenarios { print(scenario.name) }
            return
        }
        print(TextTable.render(header: ["NAME", "TITLE"], rows: scenarios.map { [$0.name, $0.title] }))
        let from = source.files.isEmpty ? (try? ScenarioCatalog.folder()) ?? "?" : source.files.joined(separator: ", ")
        print("\(scenarios.count) scenario\(scenarios.count == 1 ? "" : "s") from \(from)")
    }
}

struct ScenarioExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Print a scenario's steps, expectations and citations without running it.")

    @Argument(help: "Scenario names (see `pteinspect scenario list`; default with --file: every scenario of the files).",
              completion: .list(ScenarioCatalog.namesForCompletion))
    var names: [String] = []

    @OptionGroup var source: ScenarioSource

    func validate() throws {
        if names.isEmpty && source.files.isEmpty { throw ValidationError("name a scenario (pteinspect scenario list), or give --file") }
    }

    func run() throws {
        for scenario in try source.pick(names) { print(TimelineReport.explain(scenario), terminator: "") }
    }
}

struct ScenarioKconfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kconfig",
        abstract: "Print the kernel options the scenarios need as a config fragment (kselftest's `config`, for scripts/kconfig/merge_config.sh).",
        discussion: "Derived from what the scenarios require (userfaultfd, THP, KSM, swap...), each option after a comment saying why. A kernel without one of them still runs the catalog: the scenarios that need it are SKIPs, with the reason.")

    @Argument(help: "Scenario names (default: all).", completion: .list(ScenarioCatalog.namesForCompletion))
    var names: [String] = []

    @OptionGroup var source: ScenarioSource

    func run() throws {
        print(KernelOptions.fragment(KernelOptions.needed(by: try source.pick(names))), terminator: "")
    }
}

struct ScenarioExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write scenarios as scenario files (docs/scenario-format.md), e.g. to start your own from a built-in one.")

    @Argument(help: "Scenario names (default: all).", completion: .list(ScenarioCatalog.namesForCompletion))
    var names: [String] = []

    @OptionGroup var source: ScenarioSource

    @Option(name: .customLong("to"), help: ArgumentHelp("Write NAME.yaml files into this folder instead of printing.", valueName: "folder"))
    var folder: String?

    func run() throws {
        let scenarios = try source.pick(names)
        guard let folder else {
            print(scenarios.map(ScenarioFileWriter.yaml).joined(separator: "---\n"), terminator: "")
            return
        }
        for scenario in scenarios {
            let path = (folder as NSString).appendingPathComponent(scenario.name + ".yaml")
            do {
                try ScenarioFileWriter.yaml(scenario).write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                var stderr = StandardError()
                print("pteinspect: cannot write \(path): \(error.localizedDescription)", to: &stderr)
                throw ExitStatus.cannotRun
            }
        }
    }
}

extension RunReporter.Format: ExpressibleByArgument {}
extension TerminalStyle.Choice: ExpressibleByArgument {}

struct ScenarioRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run scenarios (all by default) and report.",
        discussion: """
            Reports are written as results come: the human timeline step by step, KTAP's plan \
            first and each scenario as it ends, JSON Lines (jsonl) one object per scenario as it \
            ends, the --json-out file rewritten after every scenario. A step that does not complete within --step-timeout is a HANG (the helper's \
            kernel stack is quoted, its processes killed, the next scenario runs); a kernel splat \
            (BUG, WARNING, KASAN, lockdep, ...) logged during a step is a CRASH of that step, \
            quoted from /dev/kmsg. A second hang, or a call of the CLI's own that does not \
            return (an observation through the module, swapoff), ends the run with everything \
            reported so far. A kernel that can no longer give meaningful answers (an RCU stall, a \
            lockup, a hung task, a BUG that left a task it cannot kill, lockdep switched off, a \
            scenario that cannot start its helpers) stops the run after that scenario: every \
            scenario left is reported as not run, with the reason (--keep-going runs them anyway). \
            The worst outcome decides the status. \(ExitStatus.text)
            """)

    @Argument(help: "Scenario names (default: all, of the catalog or of the --file files).", completion: .list(ScenarioCatalog.namesForCompletion))
    var names: [String] = []

    @OptionGroup var source: ScenarioSource

    @Option(help: "Where to observe pages: auto (the module if loaded, else pagemap), module, pagemap.")
    var backend: BackendChoice = .auto

    @Option(help: "Report format: human (a timeline), json (schema pteinspect.scenario-report v1, one document at the end), jsonl (the same as JSON Lines, written as results come), ktap, html (one self-contained page with the step graphs, at the end), dot (the step graphs as Graphviz digraphs, at the end).")
    var format: RunReporter.Format = .human

    @Option(help: "Colour in the human report: auto (when standard output is a terminal and NO_COLOR is not set), always, never.")
    var color: TerminalStyle.Choice = .auto

    @Flag(help: "Pause after each step until Enter is pressed (human format; for teaching).")
    var step = false

    @Option(name: .customLong("json-out"), help: ArgumentHelp("Also write the JSON report to this file, rewritten after every scenario (for `pteinspect report diff|table`).", valueName: "file"))
    var jsonOut: String?

    @Option(name: .customLong("step-timeout"), help: ArgumentHelp("How long one step may take before it is a HANG.", valueName: "seconds"))
    var stepTimeout: Double = Bounds.reply

    @Flag(name: .customLong("keep-going"), help: "Run every scenario even after the kernel is compromised (an RCU stall, a lockup, a BUG that left a task it cannot kill, lockdep off): by default the rest are reported as not run.")
    var keepGoing = false

    @Option(name: .customLong("compromise-file"), help: ArgumentHelp("Carry a compromised kernel from run to run, for one run per scenario (the kselftest collection): a run that finds the kernel compromised records why in this file, and a later run of the same boot that finds the record runs nothing, reporting every scenario as not run with that reason (--keep-going runs them). A record of an earlier boot is ignored.", valueName: "file"))
    var compromiseFile: String?

    /// Hangs after which the run stops: a kernel that wedged two helpers is not worth more steps.
    static let hangsBeforeStopping = 2

    func validate() throws {
        if step && format != .human { throw ValidationError("--step goes with the human format") }
        if !(stepTimeout > 0) { throw ValidationError("--step-timeout takes a number of seconds above 0") }
    }

    func run() throws {
        var stderr = StandardError()
        let scenarios = try source.pick(names)
        guard geteuid() == 0 else {
            print("pteinspect: scenarios need root (PFNs, /proc/kpageflags, the module, swapoff): run with sudo", to: &stderr)
            throw ExitStatus.cannotRun
        }
        let (observer, module) = try makeObserver()
        let environment = ScenarioEnvironment.probe(module: module)
        let runner = ScenarioRunner(observer: observer, environment: environment)
        runner.stepTimeout = stepTimeout
        runner.kernelLog = KernelLog()
        let reporter = RunReporter(format: format, jsonOut: jsonOut, style: TerminalStyle(color, isTerminal: isatty(STDOUT_FILENO) == 1))
        runner.watchdog = Self.watchdog(runner: runner, reporter: reporter)
        reporter.begin(planned: scenarios.count, kernel: environment.kernelRelease, backend: observer.backend.rawValue,
                       notes: Self.notes(observer: observer, runner: runner))
        runner.afterStep = { [step] scenario, result in
            reporter.step(scenario, result)
            if step {
                print("   [Enter: next step]", terminator: "")
                fflush(stdout)
                _ = readLine()
            }
        }
        let suite = try makeSuite()
        let compromise = suite.run(scenarios, backend: observer.backend, reporter: reporter, run: runner.run, hangs: { runner.hangs })
        if let problem = reporter.jsonOutError {
            print("pteinspect: \(problem)", to: &stderr)
            throw ExitStatus.cannotRun
        }
        if compromise != nil { throw ExitStatus.compromised }
        let status = ExitStatus.of(reporter.verdicts)
        if status != ExitStatus.success { throw status }
    }

    /// The loop over the scenarios, with the compromise an earlier run recorded (--compromise-file)
    /// and the record of one this run finds.
    private func makeSuite() throws -> ScenarioSuite {
        let suite = ScenarioSuite(keepGoing: keepGoing, hangsBeforeStopping: Self.hangsBeforeStopping)
        let record = compromiseFile.map { KernelCompromise.Record(path: $0) }
        var stderr = StandardError()
        do {
            suite.carried = try record?.load()
        } catch {
            print("pteinspect: \(error)", to: &stderr)
            throw ExitStatus.cannotRun
        }
        if let carried = suite.carried, !keepGoing {
            print("pteinspect: \(carried) (recorded in \(record?.path ?? "")): no scenario is run (--keep-going runs them)", to: &stderr)
        }
        suite.onCompromise = { [keepGoing] compromise in
            var stderr = StandardError()
            print("pteinspect: \(compromise)" + (keepGoing ? "; going on (--keep-going)" : "; the scenarios left are not run (--keep-going runs them)"),
                  to: &stderr)
            do {
                try record?.save(compromise)
            } catch {
                print("pteinspect: \(error)", to: &stderr)
            }
        }
        return suite
    }

    /// The module's observer when the backend is the module (and what the module says of itself),
    /// pagemap's otherwise.
    private func makeObserver() throws -> (PageObserver, ModuleInfo?) {
        do {
            guard let client = try backend.resolve() else { return (PagemapObserver(), nil) }
            let info = try client.info()
            return (ModuleObserver(client: client, readsData: info.features.contains(.pageData)), info)
        } catch {
            throw report(error)
        }
    }

    /// The bound on one call into the kernel: when it expires, the run ends with what the kernel
    /// logged meanwhile (the main thread is in the kernel, not reading the log), a HANG or a CRASH.
    private static func watchdog(runner: ScenarioRunner, reporter: RunReporter) -> Watchdog {
        let watchdog = Watchdog(exitStatus: ExitStatus.hang.rawValue)
        watchdog.onExpiry = { message in
            let splat = KernelSplat.report(in: runner.kernelLog?.read() ?? [])
            let verdict: Verdict = splat == nil ? .hang : .crash
            reporter.cutShort(message + (splat.map { "; the kernel log: " + $0.prefix(20).joined(separator: " | ") } ?? ""), verdict: verdict)
            return ExitStatus.of(reporter.verdicts + [verdict]).rawValue
        }
        return watchdog
    }

    /// What this run cannot see, said before its first scenario.
    private static func notes(observer: PageObserver, runner: ScenarioRunner) -> [String] {
        var notes: [String] = []
        if observer.backend == .pagemap {
            notes.append("pagemap backend: expectations on fields only the module sees are SKIPs; load the module for the rest")
        }
        if runner.kernelLog == nil {
            notes.append("the kernel log (/dev/kmsg) is not readable here: a kernel splat during a step cannot be told from a failure")
        }
        return notes
    }
}
