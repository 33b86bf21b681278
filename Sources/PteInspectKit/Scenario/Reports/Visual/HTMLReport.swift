/// Saved reports as one self-contained HTML file (`pteinspect report html`, `scenario run --format
/// html`): no script, font or network; CSS and SVG inline; written as XHTML-compatible HTML5 (every
/// element closed, attributes quoted) so that an XML parser can check it. Per kernel and scenario:
/// title, summary, background documents, verdict; per step the action and outcome, a state strip
/// of the watched pages with the fields that changed in the step marked, the object graph of the
/// step (StepGraph) as SVG, and each expectation with its verdict, expected and observed values,
/// kernel range and citation. Several reports (one per kernel) get a scenario × kernel overview
/// linking into each.
public enum HTMLReport {
    public static func render(_ reports: [SavedReport], title: String = "pteinspect scenarios") -> String {
        var out = """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head><meta charset="utf-8"/><title>\(escape(title))</title><style>\(style)</style></head>
        <body>
        <h1>\(escape(title))</h1>

        """
        out += overview(reports)
        for (k, report) in reports.enumerated() {
            out += "<section class=\"kernel\" id=\"k\(k)\"><h2>\(escape(report.kernel)) <span class=\"backend\">(\(escape(report.backend)) backend)</span></h2>\n"
            if let why = report.interrupted { out += "<p class=\"error\">The run ended early: \(escape(why))</p>\n" }
            out += matrix(EntryMatrix(report))
            for scenario in report.scenarios { out += section(scenario, anchor: anchor(k, scenario.name)) }
            out += "</section>\n"
        }
        return out + "</body>\n</html>\n"
    }

    static func anchor(_ kernel: Int, _ name: String) -> String { "k\(kernel)-" + name }

    /// The bit x operation matrix (EntryMatrix) of one kernel: a cell per operation and bit,
    /// coloured by its worst verdict, its scenarios in the row's title.
    static func matrix(_ matrix: EntryMatrix) -> String {
        guard !matrix.rows.isEmpty else { return "" }
        var out = "<details class=\"matrix\"><summary>Bit x operation matrix: what the expectations after each operation say of each bit (- none: a gap)</summary>\n"
        out += "<table class=\"overview\"><thead><tr><th>operation</th>"
        for bit in EntryMatrix.bits { out += "<th>\(escape(bit.description))</th>" }
        out += "</tr></thead><tbody>\n"
        for row in matrix.rows {
            out += "<tr><td title=\"\(escape(row.scenarios.sorted().joined(separator: ", ")))\">\(escape(row.operation))</td>"
            for bit in EntryMatrix.bits {
                let label = row.cells[bit]?.label ?? "-"
                let verdict = String(label.split(separator: " ").first ?? "-")
                out += "<td class=\"\(verdictClass(verdict))\">\(escape(label))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody></table></details>\n"
    }

    static func overview(_ reports: [SavedReport]) -> String {
        var names: [String] = []
        for report in reports { for scenario in report.scenarios where !names.contains(scenario.name) { names.append(scenario.name) } }
        var out = "<table class=\"overview\"><thead><tr><th>scenario</th>"
        for report in reports { out += "<th>\(escape(report.kernel))<br/>\(escape(report.backend))</th>" }
        out += "</tr></thead><tbody>\n"
        for name in names {
            out += "<tr><td>\(escape(name))</td>"
            for (k, report) in reports.enumerated() {
                if let scenario = report.scenarios.first(where: { $0.name == name }) {
                    out += "<td class=\"\(verdictClass(scenario.verdict))\"><a href=\"#\(escape(anchor(k, name)))\">\(escape(scenario.verdict))</a>"
                    if scenario.verdict != "PASS" && scenario.verdict != "SKIP", let why = scenario.reason ?? KernelTable.firstFailure(scenario) {
                        out += "<div class=\"why\">\(escape(why))" + (scenario.detail.map { "<br/>" + escape($0) } ?? "") + "</div>"
                    }
                    out += "</td>"
                } else {
                    out += "<td>—</td>"
                }
            }
            out += "</tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    static func section(_ scenario: SavedReport.Scenario, anchor: String) -> String {
        var out = "<section class=\"scenario\" id=\"\(escape(anchor))\">\n"
        out += "<h3>\(escape(scenario.name)): \(escape(scenario.title)) <span class=\"verdict \(verdictClass(scenario.verdict))\">\(escape(scenario.verdict))</span></h3>\n"
        if let summary = scenario.summary { out += "<p class=\"summary\">\(escape(summary))</p>\n" }
        if let documents = scenario.documents, !documents.isEmpty {
            out += "<p class=\"documents\">Background: " + documents.map { "seed " + escape($0) }.joined(separator: "; ") + " (shared/seeds/)</p>\n"
        }
        if let reason = scenario.reason { out += "<p class=\"reason\">\(escape(reason))</p>\n" }
        if let detail = scenario.detail { out += "<p class=\"reason\">\(escape(detail))</p>\n" }
        for step in scenario.steps { out += stepBlock(step) }
        return out + "</section>\n"
    }

    /// The fields of the state strip, in this order (the terminal table's), then any other that changed.
    static let stripFields = [
        "present", "swapped", "pfn", "pte.write", "pte.dirty", "pte.young", "pte.special", "swap.slot", "swap.exclusive", "PageAnon",
        "PageAnonExclusive", "PageKsm", "PageSwapCache", "mapcount", "refcount", "index", "linear_page_index", "vma.vm_pgoff",
        "vma.anon_vma", "page.anon_vma", "data",
    ]

    static func stepBlock(_ step: SavedReport.Step) -> String {
        var out = "<div class=\"step\" id=\"step-\(step.number)\">\n<h4>Step \(step.number): \(escape(step.actor)): \(escape(step.action))"
        if let label = step.label { out += " <span class=\"label\">[\(escape(label))]</span>" }
        out += "</h4>\n<p class=\"outcome\">\(escape(step.outcome))</p>\n"
        if let error = step.error { out += "<p class=\"error\">\(escape(step.fault ?? "error")): \(escape(error))</p>\n" }
        if let report = step.kernel_report, !report.isEmpty {
            out += "<pre class=\"kernel-report\">" + escape(report.joined(separator: "\n")) + "</pre>\n"
        }
        if !step.pages.isEmpty {
            let present = Set(step.pages.flatMap { $0.fields.keys })
            let extra = Set(step.pages.flatMap { $0.changed ?? [] }).subtracting(stripFields).sorted()
            let columns = stripFields.filter(present.contains) + extra
            out += "<table class=\"pages\"><thead><tr><th>page</th>" + columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
            for page in step.pages {
                let changed = Set(page.changed ?? [])
                out += "<tr><td class=\"page\">\(escape(page.page))</td>"
                for column in columns {
                    let value = page.fields[column]?.description ?? "?"
                    out += changed.contains(column) ? "<td class=\"changed\" title=\"changed in this step\">\(escape(value))</td>"
                                                    : "<td>\(escape(value))</td>"
                }
                out += "</tr>\n"
            }
            out += "</tbody></table>\n"
            out += svg(StepGraph(step: step))
        }
        if !step.expectations.isEmpty {
            out += "<ul class=\"expectations\">\n"
            for expectation in step.expectations { out += item(expectation) }
            out += "</ul>\n"
        }
        return out + "</div>\n"
    }

    static func item(_ expectation: SavedReport.Expectation) -> String {
        var out = "<li class=\"\(verdictClass(expectation.verdict))\"><span class=\"verdict \(verdictClass(expectation.verdict))\">\(escape(expectation.verdict))</span> \(escape(expectation.summary))"
        if let assertions = expectation.assertions, !assertions.isEmpty {
            out += "<ul class=\"assertions\">" + assertions.map { "<li><code>\(escape($0))</code></li>" }.joined() + "</ul>"
        }
        for mismatch in expectation.mismatches {
            out += "<p class=\"mismatch\"><code>\(escape(mismatch.assertion))</code>: expected <b>\(escape(mismatch.expected))</b>, observed <b>\(escape(mismatch.observed))</b></p>"
        }
        if let reason = expectation.reason { out += "<p class=\"reason\">\(escape(reason))</p>" }
        if let bug = expectation.known_bug, expectation.verdict != "XFAIL" {
            out += "<p class=\"reason\">known kernel bug on \(escape(bug.kernels.joined(separator: "; "))), not shown here: \(escape(bug.bug))</p>"
        }
        if let kernels = expectation.kernels {
            out += "<p class=\"kernels\">kernels: \(escape(kernels.description)) (\(escape(kernels.basis)))</p>"
        }
        if let citation = expectation.citation {
            var text = Citation.place(file: citation.file, function: citation.function)
            if let detail = citation.detail { text += ": " + detail }
            if let document = citation.document { text += " [\(document)]" }
            out += "<p class=\"citation\">source: \(escape(text))</p>"
        }
        return out + "</li>\n"
    }

    // MARK: The graph as SVG, laid out by hand in four columns

    static let columnX: [StepGraph.Kind: Double] = [.process: 8, .mapping: 128, .page: 408, .swapEntry: 408, .anonVma: 648]
    static let columnWidth: [StepGraph.Kind: Double] = [.process: 96, .mapping: 232, .page: 200, .swapEntry: 200, .anonVma: 140]
    static let lineHeight = 13.0

    public static func svg(_ graph: StepGraph) -> String {
        var boxes: [String: (x: Double, y: Double, w: Double, h: Double)] = [:]
        var next: [Double: Double] = [:]   // column x -> next free y
        for node in graph.nodes {
            let x = columnX[node.kind] ?? 8, w = columnWidth[node.kind] ?? 120
            let h = Double(node.label.count) * lineHeight + 10
            let y = next[x] ?? 10
            boxes[node.id] = (x, y, w, h)
            next[x] = y + h + 14
        }
        let height = (next.values.max() ?? 40) + 6
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"860\" height=\"\(Int(height))\" viewBox=\"0 0 860 \(Int(height))\" role=\"img\">\n"
        out += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n"
        for edge in graph.edges {
            guard let a = boxes[edge.from], let b = boxes[edge.to] else { continue }
            let path: String
            let mid: (Double, Double)
            if b.x > a.x {
                let (x1, y1, x2, y2) = (a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2)
                path = "M \(f(x1)) \(f(y1)) C \(f(x1 + 40)) \(f(y1)), \(f(x2 - 40)) \(f(y2)), \(f(x2)) \(f(y2))"
                mid = ((x1 + x2) / 2, (y1 + y2) / 2)
            } else if b.x < a.x {
                let (x1, y1, x2, y2) = (a.x, a.y + a.h / 2 + 4, b.x + b.w, b.y + b.h / 2 + 4)
                path = "M \(f(x1)) \(f(y1)) C \(f(x1 - 40)) \(f(y1 + 20)), \(f(x2 + 40)) \(f(y2 + 20)), \(f(x2)) \(f(y2))"
                mid = ((x1 + x2) / 2, (y1 + y2) / 2 + 14)
            } else {
                let (x1, y1, x2, y2) = (a.x + a.w, a.y + a.h / 2, b.x + b.w, b.y + b.h / 2)
                path = "M \(f(x1)) \(f(y1)) C \(f(x1 + 36)) \(f(y1)), \(f(x2 + 36)) \(f(y2)), \(f(x2)) \(f(y2))"
                mid = (x1 + 30, (y1 + y2) / 2)
            }
            let relation = edge.relation
            out += "<path class=\"edge \(cssName(relation))\" d=\"\(path)\" marker-end=\"url(#arrow)\"/>"
            // (a process's own pages need no words on the short edge to them)
            if relation != .owns {
                out += "<text class=\"edge-label\" x=\"\(f(mid.0))\" y=\"\(f(mid.1 - 3))\">\(escape(relation.rawValue + (edge.note.map { " (\($0))" } ?? "")))</text>"
            }
            out += "\n"
        }
        for node in graph.nodes {
            guard let box = boxes[node.id] else { continue }
            out += "<g class=\"node \(node.kind.rawValue)\"><rect x=\"\(f(box.x))\" y=\"\(f(box.y))\" width=\"\(f(box.w))\" height=\"\(f(box.h))\" rx=\"4\"/>"
            for (i, line) in node.label.enumerated() {
                out += "<text x=\"\(f(box.x + 6))\" y=\"\(f(box.y + 5 + lineHeight * Double(i + 1) - 2))\"\(i == 0 ? " class=\"name\"" : "")>\(escape(line))</text>"
            }
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    static func cssName(_ relation: StepGraph.Relation) -> String {
        switch relation {
        case .owns: return "owns"
        case .anonVma: return "anon-vma"
        case .chain: return "chain"
        case .root: return "root"
        case .maps: return "maps"
        case .swap: return "swap"
        case .mapping: return "mapping"
        case .rmap: return "rmap"
        }
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func verdictClass(_ verdict: String) -> String {
        ["PASS", "FAIL", "SKIP", "XFAIL", "HANG", "CRASH"].contains(verdict) ? verdict : "OTHER"
    }

    /// Text and attribute values: &, <, >, " and ' escaped; characters XML 1.0 cannot hold dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static let style = """
    body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
    h3{border-top:2px solid #ccc;padding-top:.6em}
    .verdict{font-size:.8em;padding:.1em .4em;border-radius:.3em;color:#fff;background:#888}
    .verdict.PASS,td.PASS{background:#2e7d32;color:#fff}.verdict.FAIL,td.FAIL{background:#c62828;color:#fff}
    .verdict.SKIP,td.SKIP{background:#9e9e9e;color:#fff}.verdict.XFAIL,td.XFAIL{background:#ad1457;color:#fff}.verdict.HANG,td.HANG,.verdict.CRASH,td.CRASH{background:#6a1b9a;color:#fff}
    td.PASS a,td.FAIL a,td.SKIP a,td.XFAIL a,td.HANG a,td.CRASH a{color:#fff}
    table{border-collapse:collapse;font-size:.8em;margin:.4em 0}td,th{border:1px solid #ccc;padding:.15em .4em;font-family:monospace}
    td.changed{background:#fff3b0;font-weight:bold}.step{margin-left:1em}.outcome{font-family:monospace;color:#555}
    .error{color:#c62828}.kernel-report{background:#f3e5f5;font-size:.75em;overflow-x:auto}
    .overview .why{font-size:.75em;color:#555;max-width:40em}.expectations li{margin:.3em 0}.citation,.kernels,.reason{font-size:.8em;color:#555;margin:.1em 0}
    .mismatch{color:#c62828;margin:.1em 0}
    svg.graph{border:1px solid #eee;background:#fcfcfc}
    .node rect{fill:#fff;stroke:#666}.node.process rect{fill:#e3f2fd}.node.anonVma rect{fill:#fff8e1}
    .node.page rect{fill:#e8f5e9}.node.swapEntry rect{fill:#ffebee}
    .node text{font:10px monospace}.node text.name{font-weight:bold}
    .edge{fill:none;stroke:#555;stroke-width:1.2}.edge.chain{stroke:#ef6c00;stroke-dasharray:4 3}
    .edge.rmap{stroke:#2e7d32;stroke-dasharray:2 3}.edge.mapping{stroke:#6a1b9a}.edge.swap{stroke:#c62828}
    .edge-label{font:9px sans-serif;fill:#555}
    """
}

import Foundation
