/// `scenario run --format json`. Schema "pteinspect.scenario-report", version 1, documented in
/// docs/scenario-report.md; a change that removes or renames a key bumps the version.
public enum ScenarioJSONReport {
    public static let schema = "pteinspect.scenario-report"
    public static let version: Int64 = 1

    static func json(_ value: FieldValue) -> JSONValue {
        switch value {
        case let .bool(flag): return .bool(flag)
        case let .number(number): return .uint(number)
        case let .hex(number): return .hex(number)
        case let .text(text): return .string(text)
        case let .set(members): return .array(members.sorted().map { .string($0) })
        case .absent: return .null
        }
    }

    static func json(_ observation: PageObservation) -> JSONValue {
        .object(observation.values.keys.sorted().map { ($0.description, json(observation.values[$0] ?? .absent)) })
    }

    static func json(_ range: KernelRange) -> JSONValue {
        let also: [JSONValue] = range.also.map(interval)
        return .object([
            ("from", range.from.map { .string($0.description) } ?? .null),
            ("below", range.below.map { .string($0.description) } ?? .null),
            ("basis", .string(range.basis)),
            ("also", .array(also)),
        ])
    }

    static func interval(_ range: KernelRange) -> JSONValue {
        .object([("from", range.from.map { .string($0.description) } ?? .null),
                 ("below", range.below.map { .string($0.description) } ?? .null)])
    }

    static func json(_ bug: KnownBug?) -> JSONValue {
        guard let bug else { return .null }
        let kernels: [JSONValue] = bug.kernels.map { .string($0.description) }
        return .object([("bug", .string(bug.bug)), ("kernels", .array(kernels))])
    }

    static func json(_ result: ExpectationResult) -> JSONValue {
        let e = result.expectation
        let everyPage: JSONValue = e.everyPage.map { .int(Int64($0)) } ?? .null
        return .object([
            ("summary", .string(e.summary)),
            ("verdict", .string(result.verdict.rawValue)),
            ("reason", result.reason.map { .string($0) } ?? .null),
            ("assertions", .array(e.assertions.map { .string($0.description) })),
            ("fields", .array(e.fields.sorted().map { .string($0.description) })),
            ("every_page", everyPage),
            ("kernels", json(e.kernels)),
            ("citation", .object([
                ("file", .string(e.citation.file)),
                ("function", .string(e.citation.function)),
                ("detail", e.citation.detail.map { .string($0) } ?? .null),
                ("document", e.citation.document.map { .string($0) } ?? .null),
            ])),
            ("mismatches", .array(result.mismatches.map {
                .object([("assertion", .string($0.assertion)), ("expected", .string($0.expected)), ("observed", .string($0.observed))])
            })),
            ("known_bug", json(result.knownBug)),
        ])
    }

    static func json(_ step: StepResult) -> JSONValue {
        .object([
            ("number", .int(Int64(step.number))),
            ("actor", .string(step.step.actor)),
            ("action", .string(step.step.action.description)),
            ("verb", .string(step.step.action.name)),
            ("operation", .string(step.step.action.operation)),
            ("touches", .array(step.step.action.touchedPages(actor: step.step.actor).map { .string($0.description) })),
            ("label", step.step.label.map { .string($0) } ?? .null),
            ("outcome", .string(step.outcome.description)),
            ("error", step.error.map { .string($0) } ?? .null),
            ("fault", step.fault.map { .string($0.rawValue) } ?? .null),
            ("kernel_report", .array(step.kernelReport.map { .string($0) })),
            ("pages", .array(step.pages.map { page in
                .object([
                    ("page", .string(page.ref.description)),
                    ("location", .string(page.location)),
                    ("fields", json(page.observation)),
                    ("changed", .array((step.changed[page.ref] ?? []).sorted().map { .string($0.description) })),
                ])
            })),
            ("expectations", .array(step.expectations.map(json))),
        ])
    }

    static func json(_ result: ScenarioResult) -> JSONValue {
        .object([
            ("name", .string(result.scenario.name)),
            ("title", .string(result.scenario.title)),
            ("summary", .string(result.scenario.summary)),
            ("verdict", .string(result.verdict.rawValue)),
            ("reason", result.reason.map { .string($0) } ?? .null),
            ("detail", result.detail.map { .string($0) } ?? .null),
            ("documents", .array(result.scenario.documents.map { .string($0) })),
            ("steps", .array(result.steps.map(json))),
        ])
    }

    /// `complete`: every selected scenario has its result here (false in the copy `--json-out`
    /// rewrites after each scenario while the run goes on, and in one that ended early).
    /// `interrupted`: why the run ended before its last scenario.
    /// `rendered`: the objects of `results` rendered before, in order (RunReporter keeps them).
    public static func render(_ results: [ScenarioResult], kernel: String, backend: String,
                              planned: Int? = nil, complete: Bool = true, interrupted: String? = nil,
                              rendered: [String]? = nil) -> JSONValue {
        let count = { (verdict: Verdict) in Int64(results.filter { $0.verdict == verdict }.count) }
        return .object([
            ("schema", .string(schema)),
            ("version", .int(version)),
            ("kernel", .string(kernel)),
            ("backend", .string(backend)),
            ("planned", .int(Int64(planned ?? results.count))),
            ("complete", .bool(complete)),
            ("interrupted", interrupted.map { .string($0) } ?? .null),
            ("summary", .object([("pass", .int(count(.pass))), ("fail", .int(count(.fail))), ("skip", .int(count(.skip))),
                                 ("xfail", .int(count(.xfail))), ("hang", .int(count(.hang))), ("crash", .int(count(.crash)))])),
            ("scenarios", .array(rendered.map { $0.map(JSONValue.raw) } ?? results.map(json))),
        ])
    }

    /// `--format jsonl`: the same report as JSON Lines, one object per line, each written as it
    /// is known: a "run" record first, one "scenario" record per scenario as it ends (the object
    /// of `scenarios` above), an "end" record last. A run killed at any point leaves whole lines.
    public enum Lines {
        public static let schema = "pteinspect.scenario-report-lines"
        public static let version: Int64 = 1

        public static func run(kernel: String, backend: String, planned: Int) -> String {
            JSONValue.object([
                ("record", .string("run")), ("schema", .string(schema)), ("version", .int(version)),
                ("report_version", .int(ScenarioJSONReport.version)),
                ("kernel", .string(kernel)), ("backend", .string(backend)), ("planned", .int(Int64(planned))),
            ]).rendered() + "\n"
        }

        public static func scenario(_ result: ScenarioResult) -> String {
            guard case let .object(members) = json(result) else { return "" }
            return JSONValue.object([("record", .string("scenario"))] + members).rendered() + "\n"
        }

        public static func end(_ results: [ScenarioResult], complete: Bool, interrupted: String?) -> String {
            guard case let .object(members) = render(results, kernel: "", backend: "", complete: complete, interrupted: interrupted) else { return "" }
            let kept = members.filter { ["complete", "interrupted", "summary"].contains($0.0) }
            return JSONValue.object([("record", .string("end"))] + kept).rendered() + "\n"
        }
    }
}
