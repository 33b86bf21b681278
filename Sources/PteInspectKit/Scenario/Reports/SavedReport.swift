import Foundation

/// A scenario report read back from its JSON (`scenario run --format json` or `--json-out`,
/// schema pteinspect.scenario-report, docs/scenario-report.md): what `report diff` and
/// `report table` compare. Only what they need is decoded; unknown keys are ignored.
public struct SavedReport: Decodable {
    public let schema: String
    public let version: Int
    public let kernel: String
    public let backend: String
    public let scenarios: [Scenario]
    /// Why the run ended before its last scenario (a report of a run cut short), if it did.
    public var interrupted: String? = nil

    public struct Scenario: Decodable {
        public let name: String
        public let title: String
        /// Since the HTML report (a key added within version 1: absent in older reports).
        public let summary: String?
        public let documents: [String]?
        public let verdict: String
        public let reason: String?
        /// The line under a failure's reason (a key added within version 1: absent in older reports).
        public let detail: String?
        public let steps: [Step]
    }

    public struct Step: Decodable {
        public let number: Int
        public let actor: String
        public let action: String
        /// The bit x operation matrix's row and the pages the action names (added in version 1;
        /// nil in reports written before).
        public var operation: String? = nil
        public var touches: [String]? = nil
        public let outcome: String
        public let label: String?
        public let error: String?
        public let fault: String?
        public let kernel_report: [String]?
        public let pages: [Page]
        public let expectations: [Expectation]
    }

    public struct Page: Decodable {
        public let page: String
        public let location: String?
        public let fields: [String: Value]
        /// The fields that differ from the previous step.
        public let changed: [String]?
    }

    public struct Expectation: Decodable {
        public let summary: String
        public let verdict: String
        public let reason: String?
        public let assertions: [String]?
        /// The fields its checks read.
        public var fields: [String]? = nil
        public let kernels: Kernels?
        public let citation: Citation?
        public let mismatches: [Mismatch]
        /// The known kernel bug whose range holds the report's kernel, shown (XFAIL) or not (a key
        /// added within version 1 with the XFAIL verdict: absent in older reports).
        public let known_bug: KnownBug?
    }

    public struct KnownBug: Decodable {
        public let bug: String
        public let kernels: [String]
    }

    public struct Kernels: Decodable {
        public let from: String?
        public let below: String?
        public let basis: String
        /// Further intervals (a key added within version 1: absent in older reports).
        public let also: [Interval]?

        /// ">= 6.12.117, < 6.13 or >= 6.14"; "all" when unbounded.
        public var description: String {
            ([Interval(from: from, below: below)] + (also ?? [])).map(\.description).joined(separator: " or ")
        }
    }

    public struct Interval: Decodable {
        public let from: String?
        public let below: String?

        public var description: String {
            let text = [from.map { ">= " + $0 }, below.map { "< " + $0 }].compactMap { $0 }.joined(separator: ", ")
            return text.isEmpty ? "all" : text
        }
    }

    public struct Citation: Decodable {
        public let file: String
        public let function: String
        public let detail: String?
        public let document: String?
    }

    public struct Mismatch: Decodable {
        public let assertion: String
        public let expected: String
        public let observed: String
    }

    /// One observed field value as the JSON report writes it (ScenarioJSONReport.json(_: FieldValue)).
    public enum Value: Decodable, Equatable, CustomStringConvertible {
        case bool(Bool)
        case number(UInt64)
        case text(String)
        case list([String])
        case null

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
            else if let number = try? container.decode(UInt64.self) { self = .number(number) }
            else if let text = try? container.decode(String.self) { self = .text(text) }
            else if let list = try? container.decode([String].self) { self = .list(list) }
            else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a field value is a boolean, a number, a string, a list of strings or null")
            }
        }

        public var description: String {
            switch self {
            case let .bool(flag): return flag ? "1" : "0"
            case let .number(number): return String(number)
            case let .text(text): return text
            case let .list(items): return "{" + items.joined(separator: ", ") + "}"
            case .null: return "-"
            }
        }
    }

    /// The first line of a `--format jsonl` report and its scenario lines.
    private struct LinesHeader: Decodable {
        let record: String
        let schema: String
        let version: Int
        let report_version: Int
        let kernel: String
        let backend: String
    }
    private struct LinesRecord: Decodable { let record: String }

    /// A `--format jsonl` report (ScenarioJSONReport.Lines) read as the document it stands for:
    /// the scenarios it has, as far as it goes (a run cut short leaves whole lines).
    static func lines(_ data: Data, path: String) throws -> SavedReport {
        // A last line without its newline was being written when the run was killed: not a record.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if data.last != UInt8(ascii: "\n") { lines.removeLast() }
        lines = lines.filter { !$0.isEmpty }
        let decoder = JSONDecoder()
        guard let first = lines.first, let header = try? decoder.decode(LinesHeader.self, from: Data(first)) else {
            throw SavedReportError("\(path): a JSON Lines report starts with its \"run\" record")
        }
        guard header.schema == ScenarioJSONReport.Lines.schema, header.version == Int(ScenarioJSONReport.Lines.version) else {
            throw SavedReportError("\(path): schema '\(header.schema)' version \(header.version); this pteinspect reads '\(ScenarioJSONReport.Lines.schema)' version \(ScenarioJSONReport.Lines.version)")
        }
        var scenarios: [Scenario] = []
        for (index, line) in lines.enumerated().dropFirst() {
            let record: LinesRecord
            do { record = try decoder.decode(LinesRecord.self, from: Data(line)) } catch {
                throw SavedReportError("\(path):\(index + 1): not a JSON object with a \"record\" key (\(error))")
            }
            guard record.record == "scenario" else { continue }
            do { scenarios.append(try decoder.decode(Scenario.self, from: Data(line))) } catch {
                throw SavedReportError("\(path):\(index + 1): not a scenario record (\(error))")
            }
        }
        return SavedReport(schema: ScenarioJSONReport.schema, version: header.report_version, kernel: header.kernel,
                           backend: header.backend, scenarios: scenarios)
    }

    /// The same report with only the scenarios named (in the report's order).
    public func keeping(_ names: [String]) -> SavedReport {
        var copy = SavedReport(schema: schema, version: version, kernel: kernel, backend: backend,
                               scenarios: scenarios.filter { names.contains($0.name) })
        copy.interrupted = interrupted
        return copy
    }

    init(schema: String, version: Int, kernel: String, backend: String, scenarios: [Scenario]) {
        self.schema = schema
        self.version = version
        self.kernel = kernel
        self.backend = backend
        self.scenarios = scenarios
    }

    /// Reads and checks one report file (`--format json`, `--json-out`, or `--format jsonl`); the
    /// errors say which file and what is wrong with it.
    public static func load(_ path: String) throws -> SavedReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SavedReportError("\(path): cannot read it (does it exist?)")
        }
        if data.starts(with: Data(#"{"record":"run""#.utf8)) { return try lines(data, path: path) }
        let report: SavedReport
        do {
            report = try JSONDecoder().decode(SavedReport.self, from: data)
        } catch {
            throw SavedReportError("\(path): not a pteinspect scenario report (\(error)); write one with `pteinspect scenario run --format json`")
        }
        guard report.schema == ScenarioJSONReport.schema else {
            throw SavedReportError("\(path): schema '\(report.schema)', expected '\(ScenarioJSONReport.schema)'")
        }
        guard report.version == Int(ScenarioJSONReport.version) else {
            throw SavedReportError("\(path): schema version \(report.version); this pteinspect reads version \(ScenarioJSONReport.version)")
        }
        return report
    }
}

public struct SavedReportError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
