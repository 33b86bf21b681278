import Foundation
import Glibc

/// Writes a scenario run's report as results come, so that a run that hangs, crashes or is
/// killed leaves everything up to that point: the human timeline step by step, KTAP's plan first
/// and each scenario's block as it ends (flushed), the `--json-out` file rewritten (atomically)
/// after every scenario with `"complete": false` until the last. `--format json` on standard
/// output is one document, printed at the end, or by `cutShort` when the run ends early;
/// `--format jsonl` is the same as JSON Lines, each line written as it is known.
public final class RunReporter: @unchecked Sendable {
    /// `html` is written when the run ends (or is cut short), from the JSON document: one model,
    /// the HTML a rendering of it (HTMLReport).
    public enum Format: String, CaseIterable, Sendable { case human, json, jsonl, ktap, html, dot }

    private let format: Format
    private let jsonOut: String?
    private let write: (String) -> Void
    private let lock = NSLock()
    private var kernel = "", backend = ""
    private var planned = 0
    private var results: [ScenarioResult] = []
    /// Each result's JSON object, rendered once when it ends: the `--json-out` file is rewritten
    /// after every scenario, and rendering every result again each time made that quadratic
    /// (147 of a 191-s suite on stock 6.1 under TCG went into it).
    private var renderedResults: [String] = []
    private var current: (scenario: Scenario, number: Int)?
    private var announced: String?
    private var ended = false
    private let began = Deadline(seconds: 0)
    /// When the scenario in progress started (seconds since the report began).
    private var currentBegan: Double?

    /// `write` gets each piece of the report and must flush it (default: standard output).
    /// `style` colours the human format (a terminal's), never the machine-read ones.
    public init(format: Format, jsonOut: String? = nil, style: TerminalStyle = TerminalStyle(enabled: false),
                write: ((String) -> Void)? = nil) {
        self.format = format
        self.jsonOut = jsonOut
        let output = write ?? { text in
            fputs(text, stdout)
            fflush(stdout)
        }
        self.write = format == .human && style.enabled ? { output(style.apply($0)) } : output
    }

    /// Where `--json-out` could not be written (set after the first attempt), for the CLI to report.
    public private(set) var jsonOutError: String?

    public func begin(planned: Int, kernel: String, backend: String, notes: [String]) {
        lock.withLock {
            self.planned = planned
            self.kernel = kernel
            self.backend = backend
            switch format {
            case .human:
                write(TimelineReport.header(backend: backend, kernel: kernel) + notes.map { "(\($0))\n" }.joined())
            case .ktap:
                write(KTAPReport.header(count: planned) + notes.map { "# \(KTAPReport.clean($0))\n" }.joined())
            case .jsonl:
                write(ScenarioJSONReport.Lines.run(kernel: kernel, backend: backend, planned: planned))
            case .json, .html, .dot: break
            }
            saveJSON(complete: false, interrupted: nil)
        }
    }

    public func started(_ scenario: Scenario) {
        lock.withLock {
            current = (scenario, results.count + 1)
            currentBegan = began.elapsed
        }
    }

    /// After each step (the human timeline prints it at once).
    public func step(_ scenario: Scenario, _ result: StepResult) {
        lock.withLock {
            guard format == .human, !ended else { return }
            if announced != scenario.name {
                write(TimelineReport.scenarioHeader(scenario, progress: progress()))
                announced = scenario.name
            }
            write(TimelineReport.render(step: result))
        }
    }

    public func ended(_ result: ScenarioResult) {
        lock.withLock {
            guard !ended else { return }
            let position = progress()   // this scenario's number, before it counts as done
            results.append(result)
            renderedResults.append(ScenarioJSONReport.json(result).rendered())
            current = nil
            defer { currentBegan = nil }
            switch format {
            case .human:
                if announced != result.scenario.name { write(TimelineReport.scenarioHeader(result.scenario, progress: position)) }
                write(TimelineReport.verdictLine(result))
            case .ktap: write(KTAPReport.render(result, number: results.count, seconds: currentBegan.map { began.elapsed - $0 }))
            case .jsonl: write(ScenarioJSONReport.Lines.scenario(result))
            case .json, .html, .dot: break
            }
            saveJSON(complete: results.count == planned, interrupted: nil)
        }
    }

    /// The run ends before its last scenario (`why`): what was in progress is reported as such
    /// (a HANG, or a CRASH when the kernel log explains it), and nothing is written after this.
    public func cutShort(_ why: String, verdict: Verdict = .hang) {
        lock.withLock {
            guard !ended else { return }
            ended = true
            switch format {
            case .human:
                write("\nRUN ENDED EARLY: \(why)\n" + (current.map { "   in scenario \($0.scenario.name)\n" } ?? ""))
                write(TimelineReport.summary(results))
            case .ktap:
                if let current {
                    write(KTAPReport.cutShort(name: current.scenario.name, number: current.number, why: "\(verdict.rawValue): " + why))
                } else {
                    write("# \(KTAPReport.clean(why))\n")
                }
            case .json:
                write(document(complete: false, interrupted: why).rendered() + "\n")
            case .jsonl:
                write(ScenarioJSONReport.Lines.end(results, complete: false, interrupted: why))
            case .html:
                write(html(document(complete: false, interrupted: why)))
            case .dot:
                write(dot(document(complete: false, interrupted: why)))
            }
            saveJSON(complete: false, interrupted: why)
        }
    }

    /// After the last scenario. `interrupted`: why the scenarios after some point were not run
    /// (each has its result, a SKIP saying so): the JSON says it, and the human summary ends with it.
    public func finish(interrupted: String? = nil) {
        lock.withLock {
            guard !ended else { return }
            ended = true
            switch format {
            case .human: write(TimelineReport.summary(results) + (interrupted.map { "\nRUN STOPPED: \($0); the scenarios after it were not run\n" } ?? ""))
            case .json: write(document(complete: true, interrupted: interrupted).rendered() + "\n")
            case .jsonl: write(ScenarioJSONReport.Lines.end(results, complete: true, interrupted: interrupted))
            case .html: write(html(document(complete: true, interrupted: interrupted)))
            case .dot: write(dot(document(complete: true, interrupted: interrupted)))
            case .ktap: if let interrupted { write("# \(KTAPReport.clean(interrupted))\n") }
            }
            if interrupted != nil { saveJSON(complete: true, interrupted: interrupted) }
        }
    }

    /// This scenario's number of how many, and the time since the report began.
    private func progress() -> String {
        TimelineReport.progress(number: current?.number ?? results.count + 1, of: planned, elapsed: began.elapsed)
    }

    public var verdicts: [Verdict] { lock.withLock { results.map(\.verdict) } }

    /// The step graphs of a JSON document as DOT (one digraph per step).
    private func dot(_ document: JSONValue) -> String {
        do {
            return DOTReport.render([try JSONDecoder().decode(SavedReport.self, from: Data(document.rendered().utf8))])
        } catch {
            return "// the report could not be rendered: \(error)\n"
        }
    }

    /// The HTML of a JSON document, read back as a saved report would be.
    private func html(_ document: JSONValue) -> String {
        do {
            let report = try JSONDecoder().decode(SavedReport.self, from: Data(document.rendered().utf8))
            return HTMLReport.render([report], title: "pteinspect scenarios on \(kernel)")
        } catch {
            return "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><title>pteinspect</title></head><body><p>"
                + HTMLReport.escape("the report could not be rendered: \(error)") + "</p></body></html>\n"
        }
    }

    private func document(complete: Bool, interrupted: String?) -> JSONValue {
        ScenarioJSONReport.render(results, kernel: kernel, backend: backend, planned: planned,
                                  complete: complete, interrupted: interrupted, rendered: renderedResults)
    }

    /// Rewrites `--json-out` (a temporary file renamed over it: a reader never sees half a file).
    private func saveJSON(complete: Bool, interrupted: String?) {
        guard let jsonOut, jsonOutError == nil else { return }
        let temporary = jsonOut + ".partial"
        let data = Data((document(complete: complete, interrupted: interrupted).rendered() + "\n").utf8)
        guard FileManager.default.createFile(atPath: temporary, contents: data), rename(temporary, jsonOut) == 0 else {
            jsonOutError = "cannot write the JSON report to \(jsonOut) (does its directory exist and is it writable?)"
            return
        }
    }
}
