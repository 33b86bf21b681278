import Foundation

/// The medians of each reader's runs, and the ratios the benchmark is judged by (issue 16:
/// a/d <= 1.0, c/d <= 1.5).
public struct BenchSummary {
    /// Reader key ("a".."d") -> its runs.
    public let results: [String: [BenchReaderResult]]

    public init(results: [String: [BenchReaderResult]]) { self.results = results }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    public func medianSeconds(_ key: String) -> Double { Self.median((results[key] ?? []).map(\.seconds)) }

    static func pad(_ text: String, _ width: Int, right: Bool = true) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }

    /// One line per reader: median time, records, records/s, peak RSS, user/system CPU, bytes received.
    public var table: String {
        let widths = [48, 9, 9, 11, 8, 7, 7, 8]
        func row(_ key: String, _ cells: [String]) -> String {
            "  " + key + " " + zip(cells, widths).enumerated().map { Self.pad($0.element.0, $0.element.1, right: $0.offset > 0) }.joined(separator: " ")
        }
        var lines = [row(" ", ["reader", "median s", "records", "records/s", "RSS MiB", "user s", "sys s", "MiB in"])]
        for key in results.keys.sorted() {
            guard let runs = results[key], let first = runs.first else { continue }
            let seconds = Self.median(runs.map(\.seconds))
            let records = runs.map(\.records).max() ?? 0
            lines.append(row(key, [first.reader, String(format: "%.3f", seconds), "\(records)",
                                   String(format: "%.0f", seconds > 0 ? Double(records) / seconds : 0),
                                   String(format: "%.1f", Double(runs.map(\.maxrssKiB).max() ?? 0) / 1024),
                                   String(format: "%.3f", Self.median(runs.map(\.user))), String(format: "%.3f", Self.median(runs.map(\.system))),
                                   String(format: "%.1f", Double(first.bytes) / 1048576)]))
            lines.append("      runs: " + runs.map { String(format: "%.3f", $0.seconds) }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    public var ratios: String {
        let d = medianSeconds("d")
        guard d > 0 else { return "  ratios: the reference reader took no measurable time" }
        return String(format: "  ratios: a/d = %.2f (goal <= 1.0)  c/d = %.2f (goal <= 1.5)  b/d = %.2f  a/b = %.2f",
                      medianSeconds("a") / d, medianSeconds("c") / d, medianSeconds("b") / d,
                      medianSeconds("b") > 0 ? medianSeconds("a") / medianSeconds("b") : 0)
    }

    /// a and b read the same dump, c and d the same files: their record counts must be equal,
    /// and for ranges of 4 KiB pages the module's entries and the pages too. Prints what differs.
    public func checkCounts(expectSameEntries: Bool) -> Bool {
        func records(_ key: String) -> Set<Int> { Set((results[key] ?? []).map(\.records)) }
        var ok = true
        var pairs = [("a", "b"), ("c", "d")]
        if expectSameEntries { pairs.append(("a", "c")) }
        for (x, y) in pairs where records(x) != records(y) {
            print("  FAIL: readers \(x) and \(y) counted different records: \(records(x).sorted()) and \(records(y).sorted())")
            ok = false
        }
        return ok
    }
}
