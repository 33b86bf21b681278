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
            source they follow. Results: PASS, FAIL (expected vs observed), SKIP (why). Exit status 0 \
            when nothing failed, 1 when something failed, 2 when the run could not start.
            """,
        subcommands: [ScenarioList.self, ScenarioRun.self, ScenarioExplain.self],
        defaultSubcommand: ScenarioRun.self)
}

struct ScenarioList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the scenarios.")

    func run() {
        print(TextTable.render(header: ["NAME", "TITLE"], rows: ScenarioCatalog.all.map { [$0.name, $0.title] }))
    }
}

struct ScenarioExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Print a scenario's steps, expectations and citations without running it.")

    @Argument(help: "Scenario name (see `pteinspect scenario list`).")
    var name: String

    func run() throws {
        guard let scenario = ScenarioCatalog.named(name) else {
            var stderr = StandardError()
            print("pteinspect: no scenario '\(name)'; known: \(ScenarioCatalog.all.map(\.name).joined(separator: ", "))", to: &stderr)
            throw ExitStatus.cannotRun
        }
        print(TimelineReport.explain(scenario), terminator: "")
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case human, json, ktap
}

struct ScenarioRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run scenarios (all by default) and report.")

    @Argument(help: "Scenario names (default: all).")
    var names: [String] = []

    @Option(help: "Where to observe pages: auto (the module if loaded, else pagemap), module, pagemap.")
    var backend: Backend = .auto

    @Option(help: "Report format: human (a timeline), json (schema pteinspect.scenario-report v1), ktap.")
    var format: ReportFormat = .human

    @Flag(help: "Pause after each step until Enter is pressed (human format; for teaching).")
    var step = false

    @Option(name: .customLong("json-out"), help: ArgumentHelp("Also write the JSON report to this file (for `pteinspect report diff|table`).", valueName: "file"))
    var jsonOut: String?

    func validate() throws {
        if step && format != .human { throw ValidationError("--step goes with the human format") }
        let unknown = names.filter { ScenarioCatalog.named($0) == nil }
        if !unknown.isEmpty {
            throw ValidationError("no scenario \(unknown.joined(separator: ", ")); known: \(ScenarioCatalog.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        var stderr = StandardError()
        let scenarios = names.isEmpty ? ScenarioCatalog.all : names.compactMap(ScenarioCatalog.named)
        guard geteuid() == 0 else {
            print("pteinspect: scenarios need root (PFNs, /proc/kpageflags, the module, swapoff): run with sudo", to: &stderr)
            throw ExitStatus.cannotRun
        }
        let observer: PageObserver
        var module: ModuleInfo?
        do {
            switch backend {
            case .pagemap:
                observer = PagemapObserver()
            case .module:
                let client = try PteInspectClient()
                module = try client.info()
                observer = ModuleObserver(client: client)
            case .auto:
                if let client = try? PteInspectClient(), let info = try? client.info() {
                    module = info
                    observer = ModuleObserver(client: client)
                } else {
                    observer = PagemapObserver()
                }
            }
        } catch {
            throw report(error)
        }
        let environment = ScenarioEnvironment.probe(module: module)
        let runner = ScenarioRunner(observer: observer, environment: environment)
        if format == .human {
            print(TimelineReport.header(backend: observer.backend, kernel: environment.kernelRelease), terminator: "")
            if observer.backend == "pagemap" {
                print("(pagemap backend: expectations on fields only the module sees are SKIPs; load the module for the rest)")
            }
            var announced = ""
            runner.afterStep = { scenario, result in
                if announced != scenario.name {
                    print(TimelineReport.scenarioHeader(scenario), terminator: "")
                    announced = scenario.name
                }
                print(TimelineReport.render(step: result), terminator: "")
                fflush(stdout)
                if step {
                    print("   [Enter: next step]", terminator: "")
                    fflush(stdout)
                    _ = readLine()
                }
            }
        }
        var results: [ScenarioResult] = []
        for scenario in scenarios {
            let result = runner.run(scenario)
            results.append(result)
            if format == .human {
                if result.steps.isEmpty { print(TimelineReport.scenarioHeader(scenario), terminator: "") }
                print(TimelineReport.verdictLine(result), terminator: "")
                fflush(stdout)
            }
        }
        let json = ScenarioJSONReport.render(results, kernel: environment.kernelRelease, backend: observer.backend)
        switch format {
        case .human: print(TimelineReport.summary(results), terminator: "")
        case .json: print(json.rendered())
        case .ktap: print(KTAPReport.render(results), terminator: "")
        }
        if let jsonOut {
            guard FileManager.default.createFile(atPath: jsonOut, contents: Data((json.rendered() + "\n").utf8)) else {
                print("pteinspect: cannot write the JSON report to \(jsonOut) (does its directory exist and is it writable?)", to: &stderr)
                throw ExitStatus.cannotRun
            }
        }
        if results.contains(where: { $0.verdict == .fail }) { throw ExitStatus.failure }
    }
}
